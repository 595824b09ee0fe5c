"""Hidden tests of exercises 13: what `course grade` runs after each task's visible checks.

The same requirements as the visible checks, on other inputs (other durations, data sizes and tables).
"""

import pandas as pd
import torch

from course_utils.checks import check_close, check_equal
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.speed import labels_of, timed, toy_data

hidden = Tasks("speed")


@hidden(1, "a timer for work of any length", answers=["median_images_per_second"])
def other_durations(nb):
    rate, calls = timed(nb, [0.3], 12, min_seconds=1.0, repeats=2)  # groups of 1, 2, 4 (1.2 s), then 2 runs of 4
    check_equal(calls, 15, "work() calls for work of 0.3 s a call, min_seconds=1 and 2 repeats")
    check_close(rate, 4 * 12 / 1.2, "images per second of runs of 4 calls of 12 images, 1.2 s each")
    rate, calls = timed(nb, [0.5, 0.5, 3.0, 1.0, 2.0, 3.0, 1.5], 6, min_seconds=0.75, repeats=3)
    check_equal(calls, 9, "work() calls when two calls last long enough: 1 + 2 to calibrate, then 3 runs of 2")
    check_close(rate, 12 / 3.0, "the median of runs of 2 calls lasting 3, 4.5 and 3 s, 12 images each")


@hidden(2, "shuffled batches", answers=["shuffled_batches"])
def other_data(nb):
    x, y = toy_data(7)
    batches = list(nb.shuffled_batches(x, y, 3, torch.Generator().manual_seed(5)))
    check_equal([len(yb) for _, yb in batches], [3, 3, 1], "7 images in batches of 3")
    labels = labels_of(batches)
    check_equal(labels.tolist(), torch.randperm(7, generator=torch.Generator().manual_seed(5)).tolist(), "seed 5")
    check_equal(torch.equal(torch.cat([xb for xb, _ in batches]).flatten(), 10.0 * labels), True, "kept together")


@hidden(3, "plan a training run", answers=["plan_training"])
def another_table(nb):
    small = pd.DataFrame({"batch_size": [8, 16], "images_per_s": [500.0, 400.0], "peak_memory_mb": [10.0, 20.0]})
    check_equal(nb.plan_training(small, 50, 1000, 2)[0], 8, "a table where the smaller batch is faster")
    check_close(nb.plan_training(small, 50, 1000, 2)[1], 4.0, "2 epochs of 1,000 images at 500 images/s")
    check_equal(nb.plan_training(small, 15, 1000, 2)[0], 8, "a limit between the two")
