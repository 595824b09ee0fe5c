"""The checks of exercises 13 (where the time goes): ``check(task=N)``.

Task 1's timer is checked with a fake clock whose time moves only when the fake work says so: the
n-th call of ``work()`` takes the n-th of a list of durations. The checks then know exactly what an
honest timer reports, whatever the speed of your computer (one last check uses the real clock, on
work that sleeps). Task 2's batches are drawn from toy data in which image k is the number 10 k and
its label k, so that every batch shows which images it holds. Task 3's plan is made from a table
of made-up measurements.
"""

import time

import pandas as pd
import torch

from course_utils.checks import check_between, check_close, check_equal, fail
from course_utils.exercise_checks import Tasks

tasks = Tasks("speed")
check = tasks.check


class FakeClock:
    """A clock that moves only when fake work says so: the n-th call of work() takes durations[n] seconds
    (the last duration again once the list runs out)."""

    def __init__(self, durations):
        self.now, self.durations, self.calls = 100.0, list(durations), 0

    def __call__(self):
        return self.now

    def work(self):
        self.now += self.durations[min(self.calls, len(self.durations) - 1)]
        self.calls += 1
        if self.calls > 100_000:
            fail(
                "median_images_per_second with a fake clock",
                "it called work() over 100,000 times",
                "read the time only with clock() (the checks' clock moves only when work() runs), and stop "
                "calibrating at the first group that lasts at least min_seconds",
            )


def timed(nb, durations: list, images: int, **options) -> tuple:
    """(the rate your timer reports, how many times it called work()) for fake work of these durations."""
    clock = FakeClock(durations)
    return nb.median_images_per_second(clock.work, images, clock=clock, **options), clock.calls


CALLS = {  # work() calls for work of 1/32 s a call, min_seconds=1/8, 3 repeats: 1 + 2 + 4, then 3 x 4 (19)
    39: "a group is long enough when it lasts at least min_seconds (>=): 4 x 1/32 s = 1/8 s is",
    22: "double the calls from group to group: 1, 2, 4, 8, ...",
    7: "after calibrating, make repeats timed runs",
    10: "every timed run makes as many calls as the last calibration group",
    15: "the calibration groups are not timed runs: make repeats timed runs after them",
}


def rate_hint(rate: float) -> str | None:
    """The mistake that gives this rate for runs of 4 calls of 10 images lasting 1/8 s (320 images/s)."""
    if rate < 0:
        return "read the time only through clock(): the checks pass a fake clock, which time.perf_counter() is not"
    mistakes = {80.0: "a run of `calls` calls handles calls x images images", 0.125: "images per second, not seconds"}
    return mistakes.get(rate)


@tasks(1, "a timer for work of any length", answers=["median_images_per_second"])
def timer_for_any_length(nb):
    rate, calls = timed(nb, [1 / 32], 10, min_seconds=1 / 8, repeats=3)
    got = "float" if isinstance(rate, float) else type(rate).__name__
    what = "the type median_images_per_second returns"
    check_equal(got, "float", what, hint="return statistics.median(rates), a float")
    what = "work() calls, for work of 1/32 s a call and min_seconds=1/8: calibrating with groups of 1, 2 and 4 "
    what += "calls, then 3 timed runs of 4 calls"
    check_equal(calls, 19, what, hint=CALLS.get(calls))
    check_close(
        rate,
        320.0,
        "images per second of runs of 4 calls of 10 images that last 1/8 s",
        hint=rate_hint(rate),
    )
    rate, calls = timed(nb, [50.0, 1.0, 2.0, 8.0], 10, min_seconds=0.5, repeats=3)
    check_equal(calls, 4, "work() calls when the first call lasts long enough: 1 to calibrate, then 3 runs of 1")
    mistakes = {
        (10 + 5 + 1.25) / 3: "the median of the rates, not their mean",
        30 / 11: "the median of the three runs' rates, not all their images over all their time",
        (1.25 + 5) / 2: "the calibration is not timed: only the repeats runs after it count",
    }
    check_close(
        rate,
        5.0,
        "the median rate of runs of 1, 2 and 8 s, 10 images each (10, 5 and 1.25 images/s), after a 50 s first call",
        hint=next((hint for value, hint in mistakes.items() if abs(rate - value) < 1e-6), None),
    )
    rate, _ = timed(nb, [1.0, 4.0, 2.0, 5.0, 2.0], 20, min_seconds=0.5, repeats=4)
    check_close(
        rate,
        (5 + 10) / 2,
        "four runs of 20 images (5, 10, 4 and 10 images/s): the median of an even number is the mean of the middle two",
        hint="statistics.median(rates) does that for you",
    )
    rate = nb.median_images_per_second(lambda: time.sleep(0.002), 10, min_seconds=0.02)
    check_between(rate, 2500, 5050, "the real clock, and work that sleeps 2 ms per 10 images (about 5,000 images/s)")


def toy_data(n: int = 10) -> tuple:
    """Image k is the number 10 k, its label k: every batch shows which images it holds."""
    return torch.arange(float(n)).reshape(n, 1) * 10, torch.arange(n)


def labels_of(batches) -> torch.Tensor:
    return torch.cat([yb for _, yb in batches])


@tasks(2, "shuffled batches", answers=["shuffled_batches"])
def shuffled_batches_in_memory(nb):
    shuffled_batches = nb.shuffled_batches
    x, y = toy_data()
    toy = list(shuffled_batches(x, y, 4, torch.Generator().manual_seed(0)))
    check_equal(
        [len(yb) for _, yb in toy],
        [4, 4, 2],
        "batch sizes for 10 images in batches of 4",
        hint="keep the last, smaller batch: step through range(0, len(y), batch_size)",
    )
    labels = labels_of(toy)
    check_equal(
        sorted(labels.tolist()),
        list(range(10)),
        "the labels of one epoch, sorted: every image exactly once",
        hint="use one permutation (torch.randperm) and cut it into slices, rather than drawing indices at random",
    )
    check_equal(
        torch.equal(torch.cat([xb for xb, _ in toy]).flatten(), 10.0 * labels),
        True,
        "images and labels stay together",
        hint="index x and y with the same indices",
    )
    again = labels_of(shuffled_batches(x, y, 4, torch.Generator().manual_seed(0)))
    check_equal(
        again.tolist(),
        labels.tolist(),
        "the same seed gives the same order",
        hint="pass generator=generator to torch.randperm",
    )
    check_equal(
        labels.tolist(),
        torch.randperm(10, generator=torch.Generator().manual_seed(0)).tolist(),
        "the order is torch.randperm(len(y), generator=generator)",
        hint="draw the permutation with torch.randperm(len(y), generator=generator), once per epoch",
    )
    generator = torch.Generator().manual_seed(3)
    first, second = (labels_of(shuffled_batches(x, y, 3, generator)) for _ in range(2))
    check_equal(sorted(second.tolist()), list(range(10)), "a second epoch from the same generator: every image once")
    check_equal(
        torch.equal(first, second),
        False,
        "the second epoch from the same generator comes in another order",
        hint="draw a new permutation from the generator you are given at every call; do not seed it again",
    )
    for batch_size, sizes in [(5, [5, 5]), (32, [10])]:
        got = [len(yb) for _, yb in shuffled_batches(x, y, batch_size, generator)]
        check_equal(got, sizes, f"batch sizes for 10 images in batches of {batch_size}")


MEASURED = pd.DataFrame(
    {
        "batch_size": [32, 64, 128, 256, 512, 1024],
        "images_per_s": [21_000.0, 38_000.0, 61_000.0, 83_000.0, 92_000.0, 90_000.0],
        "peak_memory_mb": [310.0, 420.0, 650.0, 1_100.0, 2_000.0, 3_900.0],
    }
)


@tasks(3, "plan a training run", answers=["plan_training"])
def plan_a_training_run(nb):
    plan_training = nb.plan_training
    plan = plan_training(MEASURED.copy(), 1_500, 55_000, 10)  # copies: an answer that edits the table changes nothing
    pair = isinstance(plan, (tuple, list)) and len(plan) == 2
    kind = f"a {type(plan).__name__}" + (f" of {len(plan)}" if isinstance(plan, (tuple, list)) else "")
    check_equal("a pair" if pair else kind, "a pair", "what plan_training returns", "return batch_size, seconds")
    kinds = [type(plan[0]).__name__, "float" if isinstance(plan[1], float) else type(plan[1]).__name__]
    hint = "int(...) and float(...): a number taken out of a DataFrame is a NumPy number"
    check_equal(kinds, ["int", "float"], "the types of the pair (a Python int and a Python float)", hint=hint)
    hint = "only the batch sizes whose peak memory fits under the limit count" if plan[0] == 512 else None
    check_equal(plan[0], 256, "the fastest batch size under 1,500 MB", hint=hint)
    hint = "epochs x images per epoch / images per second"
    check_close(plan[1], 10 * 55_000 / 83_000, "seconds for 10 epochs of 55,000 images at batch 256", hint=hint)
    check_equal(
        plan_training(MEASURED.copy(), 650, 55_000, 10)[0],
        128,
        "a limit exactly at batch 128's peak memory",
        hint="a batch size fits when its peak memory is at most the limit (<=)",
    )
    check_equal(
        plan_training(MEASURED.copy(), 10_000, 55_000, 10)[0],
        512,
        "no limit to speak of: batch 512, the fastest (batch 1024 is larger, not faster)",
        hint="pick the row with the most images per second, not the largest batch",
    )
    try:
        plan_training(MEASURED.copy(), 100, 55_000, 10)
        raised = "no error"
    except ValueError:
        raised = "ValueError"
    what = "no batch size fits under 100 MB"
    check_equal(raised, "ValueError", what, hint="raise ValueError when nothing fits")
