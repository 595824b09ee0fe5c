"""Timing helpers for lesson 13 (speed): its settings, a clock for each stage of a pipeline, jobs side by
side, and torch.compile with its first call timed.

The lesson's own timer (`images_per_second`) is the lesson's subject and lives in the notebook;
these are the parts around it that a reader need not see to follow the lesson.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import logging
import multiprocessing
import statistics
import time
import warnings

import torch


def checked_settings(timed_images, repeats, batch_size, torch_compile, quick):
    """The lesson's parameters checked; ``quick`` (a smoke run) turns them into 256 images, 1 repeat, no compile."""
    from course_utils.validate import whole_number

    if quick:
        timed_images, repeats, torch_compile = 256, 1, False
    for name, value in (("timed_images", timed_images), ("repeats", repeats), ("batch_size", batch_size)):
        whole_number(value, name, minimum=1)
    if not isinstance(torch_compile, bool):
        raise ValueError(f"torch_compile must be True or False, got {torch_compile!r}")
    return timed_images, repeats, torch_compile


def describe_machine(device: torch.device, threads: int) -> str:
    """One line naming what a speed was measured on: the GPU, or the CPU's widest instructions and threads."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (GPU)"
    capability = torch.backends.cpu.get_cpu_capability()
    return f"{device.type.upper()}: {capability} instructions, {threads} thread{'s' * (threads != 1)}"


class StageClock:
    """Adds up the seconds spent in each function it wraps: ``f = clock.wrap("name", f)``; ``clock.seconds``."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, function):
        """``function``, timed: each call adds its duration to ``self.seconds[name]``."""
        self.seconds[name] = 0.0

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return timed

    def reset(self):
        """Start every stage from zero seconds again (after a warm-up)."""
        self.seconds = dict.fromkeys(self.seconds, 0.0)


class _TimedItems(torch.utils.data.Dataset):
    def __init__(self, dataset, get_item):
        self.dataset, self.get_item = dataset, get_item

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.get_item(index)


def profiled_loader(loader: torch.utils.data.DataLoader, clock: StageClock) -> torch.utils.data.DataLoader:
    """A copy of ``loader`` whose dataset, transforms and collating report to ``clock``; ``loader`` is unchanged.

    Stages: ``"__getitem__"`` (the dataset's whole work for one item), one per transform of its
    ``Compose`` (by class name, e.g. ``"ToTensor"``) and ``"collate"`` (making one batch).
    """
    dataset = copy.copy(loader.dataset)
    compose = copy.copy(dataset.transform)
    compose.transforms = [clock.wrap(type(t).__name__, t) for t in compose.transforms]
    dataset.transform = compose
    return torch.utils.data.DataLoader(
        _TimedItems(dataset, clock.wrap("__getitem__", dataset.__getitem__)),
        batch_size=loader.batch_size,
        shuffle=True,
        collate_fn=clock.wrap("collate", loader.collate_fn),
    )


# --- two jobs side by side --------------------------------------------------------------------


def _training_job(connection, dataset, seed, channels_last):
    """A separate process, one training run: loads the data and trains lesson 4's network when asked.

    Each request is (threads, batch, images); it answers with the number of images trained. None ends it.
    It loads the data itself, as a real run does; that also matters for speed: on Linux, a process
    that never freed a large tensor trains this network about 20% slower (its memory allocator still
    hands each layer's output fresh pages from the system), so the jobs start as the lesson's process did.
    """
    from course_utils.data import iterate_batches, load_data
    from course_utils.models import ConvNet

    data = load_data(dataset, seed=seed)
    torch.manual_seed(seed)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = ConvNet().to(memory_format=layout)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    generator = torch.Generator().manual_seed(seed)
    connection.send("ready")
    while (request := connection.recv()) is not None:
        threads, batch, images = request
        torch.set_num_threads(threads)
        batches = iterate_batches(data.train_x, data.train_y, batch, shuffle=True, generator=generator)
        steps = max(1, round(images / batch))
        for xb, yb in itertools.islice(batches, steps):
            loss = torch.nn.functional.cross_entropy(model(xb.contiguous(memory_format=layout)), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        connection.send(steps * batch)


def side_by_side(batches, images: int, repeats: int = 3, dataset="mnist", seed: int = 0, channels_last=True):
    """Two one-thread training jobs at once against one two-thread job doing the same total work.

    Two separate processes (two training runs) each load the data and build lesson 4's network. For
    each batch size, after an untimed warm-up of a few steps each way, taking turns ``repeats`` times: (a) both
    train ``images`` images with 1 thread each, at the same time; (b) one of them trains ``2 * images``
    images with 2 threads while the other waits. Returns ``{(way, batch): median images per second}``,
    way "two 1-thread jobs" (both together) or "one 2-thread job".
    """
    context = multiprocessing.get_context("spawn")  # a fresh Python: safe with PyTorch's threads
    pipes, jobs = [], []
    try:
        for _ in range(2):
            ours, theirs = context.Pipe()
            job = context.Process(target=_training_job, args=(theirs, dataset, seed, channels_last), daemon=True)
            job.start()
            pipes.append(ours)
            jobs.append(job)
        for pipe in pipes:
            pipe.recv()  # "ready": PyTorch imported, the data loaded, the network built

        def two_single(batch, images=images):
            for pipe in pipes:
                pipe.send((1, batch, images))
            return sum(pipe.recv() for pipe in pipes)

        def one_double(batch, images=images):
            pipes[0].send((2, batch, 2 * images))
            return pipes[0].recv()

        ways = {"two 1-thread jobs": two_single, "one 2-thread job": one_double}
        rates = {(way, batch): [] for batch in batches for way in ways}
        for batch in batches:
            for run in ways.values():
                run(batch, 6 * batch)  # warm-up: a few steps, untimed
            for _ in range(repeats):
                for way, run in ways.items():  # taking turns
                    start = time.perf_counter()
                    trained = run(batch)
                    rates[way, batch].append(trained / (time.perf_counter() - start))
        for pipe in pipes:
            pipe.send(None)
    finally:
        for job in jobs:
            job.join(timeout=10)
            if job.is_alive():
                job.terminate()
    return {key: statistics.median(r) for key, r in rates.items()}


# --- torch.compile ------------------------------------------------------------------------------


def compile_and_time(model, first_call, synchronize=lambda: None, cold=False):
    """``torch.compile(model)``, then ``first_call(compiled)``, which compiles it: (compiled, seconds), or
    (None, None) with a message if compiling fails. ``cold=True`` switches the disk caches off, so the
    seconds are those of a real compile rather than of reading an earlier run's result.
    """
    # Without an NVIDIA GPU, compiling warns that it found no CUDA: true, harmless and beside the point here.
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
    compiled = torch.compile(model)
    no_cache = torch._inductor.config.patch(force_disable_caches=True) if cold else contextlib.nullcontext()
    start = time.perf_counter()
    try:
        with no_cache, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="dynamo_pgo force disabled")  # what cold=True asked for
            first_call(compiled)
    except Exception as error:  # on a CPU the usual cause: no C++ compiler
        message = (str(error).strip().splitlines() or [""])[0][:200]
        print(
            f"torch.compile failed ({type(error).__name__}: {message}).\n"
            "On a CPU it needs a C++ compiler: g++ or clang (Linux: install g++; macOS: xcode-select "
            "--install; Windows: Visual Studio's C++ tools). The comparison is skipped; everything else works."
        )
        return None, None
    synchronize()
    return compiled, time.perf_counter() - start
