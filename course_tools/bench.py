"""``course bench``: how fast the course trains, evaluates, starts and runs, on this machine.

One run measures, and prints as a table (also written to ``build/bench.json``):

(a) training images/second of the two-conv net on the course's path (the whole split in memory,
    `iterate_batches`, channels_last on a CPU, `train_epoch`, Adam with the one-cycle schedule,
    batch 128: what `fit` runs) against the usual tutorial pipeline (a ``DataLoader`` over
    ``datasets.MNIST`` with ``ToTensor`` and ``Normalize`` per sample, Adam, batch 32), and the
    tutorial pipeline at batch 128 too: 3 epochs each, interleaved (epoch 1 of each, then epoch 2 of
    each...), so a machine that slows down slows every pipeline alike; the speed-up is the median of
    the 3 per-epoch ratios, with their min and max; then each model's test accuracy;
(b) evaluation images/second on the 10,000 test images, both ways;
(c) seconds from a cold process start to the first trained batch (imports plus data);
(d) every lesson's run time with default parameters, through `course run`'s engine, and the sum;
(e) the peak memory (resident set) of each lesson's kernel process, and so of the heaviest;
(f) with a CUDA GPU, (a) and (b) again on it.

``--quick`` trains 4,096 images per repeat instead of an epoch, evaluates on every fifth test image
(2,000), starts one cold process and runs no lessons: about half a minute. The speed-ups it prints
(the median of 3 per-repeat ratios) came out as with the 8,192 images it used to train (2.5-2.7x
against the tutorial at batch 32 on one thread, AVX-512 and AVX2 alike), in half the time; its
accuracies, after a few thousand images, are not judged. The targets (set for a 2-core AVX-512 CPU)
are judged at the end; one that does not hold is printed as **no** but does not fail the command (a
slower machine is not an error): the exit status is non-zero only when a lesson fails or the data is
missing.

``--docs`` writes the report into docs/authors.md's Performance section (between its ``bench``
markers, ``course_tools.doc_tables``), naming the run it quotes, which must be a committed file:

    course bench --docs --out benchmarks/NAME.json    # measure (about 11 minutes) and quote this run
    course bench --from benchmarks/NAME.json --docs   # quote a run already made, without measuring
"""

from __future__ import annotations

import ast
import datetime
import functools
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import torch
import torchvision
from torch import nn

import course_utils as cu

from . import course_folder, doc_tables
from .doc_tables import DocTableError

TUTORIAL_LR = 1e-3  # torch.optim.Adam's default, which tutorials keep
QUICK_IMAGES = 4096  # images per repeat with --quick
QUICK_TEST_EVERY = 5  # --quick evaluates on every fifth test image: 2,000, spread over the whole test set
TARGETS = {  # from the course's performance goals, for a 2-core AVX-512 CPU
    "speedup_vs_tutorial_batch32": 3.0,
    "speedup_vs_tutorial_batch128": 1.0,
    "cold_start_seconds": 5.0,
    "lessons_1_to_9_seconds": 600.0,
    "slowest_lesson_seconds": 180.0,
    "course_seconds": 900.0,
}
# The course's accuracy counts as equal to the tutorial's within this (one seed's spread is larger).
ACCURACY_TOLERANCE = 0.001

# What a cold process does before its first trained batch: the course's path, timed by the parent.
COLD_START = """
import time
started = time.perf_counter()
import torch, course_utils as cu
from torch import nn
imported = time.perf_counter()
data = cu.load_data("mnist")
loaded = time.perf_counter()
model = cu.ConvNet()  # on the CPU, the targets' device (a GPU would add its own start-up)
device = cu.training.model_device(model)
if device.type == "cpu":
    model.to(memory_format=torch.channels_last)
optimizer = torch.optim.Adam(model.parameters())  # its first use imports torch._dynamo (about a second)
batch = next(cu.iterate_batches(data.train_x, data.train_y, 128, shuffle=True))
batch = [(cu.training.to_device(batch[0], device), batch[1].to(device))]
cu.train_epoch(model, batch, optimizer, nn.functional.cross_entropy)
done = time.perf_counter()
print({"imports": imported - started, "data": loaded - imported, "first_batch": done - loaded})
"""


def machine(device) -> dict:
    """What the numbers were measured on: CPU, cores, threads, instruction set, versions, device."""
    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info = {
        "cpu": cpu,
        "cores": cores,  # the CPUs this process may use (hyperthreads count)
        "torch_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _model(device, channels_last: bool):
    torch.manual_seed(0)  # every pipeline starts from the same weights
    model = cu.ConvNet().to(device)
    return model.to(memory_format=torch.channels_last) if channels_last else model


class CoursePipeline:
    """The course's path with its defaults: what `fit` runs for one epoch, minus the validation pass."""

    def __init__(self, data, device, epochs: int, limit: int | None, batch_size: int = 128, lr: float = 3e-3):
        self.name, self.batch_size = f"course, batch {batch_size}", batch_size
        self.data, self.device, self.limit = data, device, limit
        self.model = _model(device, channels_last=device.type == "cpu")
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        images = limit or len(data.train_y)
        self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
            self.optimizer, max_lr=lr, epochs=epochs, steps_per_epoch=-(-images // batch_size)
        )
        self.generator = torch.Generator().manual_seed(0)

    def epoch(self) -> int:
        """Train one epoch (or ``limit`` images, rounded up to whole batches); return the images trained."""
        n = self.limit or len(self.data.train_y)
        batches = cu.iterate_batches(self.data.train_x, self.data.train_y, self.batch_size, True, self.generator)
        seen = 0

        def on_device():
            nonlocal seen
            for x, y in itertools.islice(batches, -(-n // self.batch_size)):
                seen += len(y)
                yield cu.training.to_device(x, self.device), y.to(self.device)

        cu.train_epoch(self.model, on_device(), self.optimizer, nn.functional.cross_entropy, self.scheduler)
        return seen

    def evaluation(self, every: int = 1) -> float:
        """Accuracy on the 10,000 test images, or every ``every``-th (`evaluate`: in memory, batches of 1,000)."""
        return cu.evaluate(self.model, self.data.test_x[::every], self.data.test_y[::every])[1]


class TutorialPipeline:
    """The usual tutorial: a DataLoader over datasets.MNIST with per-sample transforms, Adam."""

    def __init__(self, device, batch_size: int, limit: int | None):
        self.name, self.batch_size, self.device, self.limit = f"tutorial, batch {batch_size}", batch_size, device, limit
        # The DataLoaders shuffle with torch's global generator, which the pipelines share as they take
        # turns: the order is reproducible for the run as a whole, not for one pipeline on its own.
        torch.manual_seed(0)
        self.loader = cu.make_dataloader(train=True, batch_size=batch_size)
        self.test_loader = cu.make_dataloader(train=False, batch_size=1000)
        self.model = _model(device, channels_last=False)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=TUTORIAL_LR)

    def epoch(self) -> int:
        self.model.train()
        seen = 0
        for x, y in self.loader:
            x, y = x.to(self.device), y.to(self.device)
            self.optimizer.zero_grad()
            loss = nn.functional.cross_entropy(self.model(x), y)
            loss.backward()
            self.optimizer.step()
            seen += len(y)
            if self.limit and seen >= self.limit:
                break
        return seen

    def evaluation(self, every: int = 1) -> float:
        """Accuracy on the 10,000 test images, or every ``every``-th, through a DataLoader with the same transforms."""
        loader = self.test_loader
        if every > 1:
            subset = torch.utils.data.Subset(loader.dataset, range(0, len(loader.dataset), every))
            loader = torch.utils.data.DataLoader(subset, batch_size=loader.batch_size)
        self.model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in loader:
                correct += (self.model(x.to(self.device)).argmax(1).cpu() == y).sum().item()
        return correct / len(loader.dataset)


def training_and_evaluation(device, quick: bool, repeats: int = 3, echo=print) -> dict:
    """(a) and (b) on one device: interleaved repeats, per-repeat ratios, test accuracy, evaluation speed."""
    limit, every = (QUICK_IMAGES, QUICK_TEST_EVERY) if quick else (None, 1)
    data = cu.load_data("mnist")
    pipelines = [
        CoursePipeline(data, device, epochs=repeats, limit=limit),
        TutorialPipeline(device, 32, limit),
        TutorialPipeline(device, 128, limit),
    ]
    speeds = {p.name: [] for p in pipelines}
    for repeat in range(1, repeats + 1):
        for p in pipelines:
            seconds, images = cu.repro.timed(p.epoch, device)
            speeds[p.name].append(images / seconds)
            echo(f"  repeat {repeat}: {p.name:<20} {images / seconds:>8,.0f} images/s")
    course = speeds[pipelines[0].name]
    tested = len(data.test_y[::every])
    rows = {}
    for p in pipelines:
        ratios = [c / s for c, s in zip(course, speeds[p.name], strict=True)]
        evaluate = functools.partial(p.evaluation, every)
        evaluations = [cu.repro.timed(evaluate, device) for _ in range(1 if quick else repeats)]
        rows[p.name] = {
            "batch_size": p.batch_size,
            "train_images_per_s": statistics.median(speeds[p.name]),
            "train_images_per_s_each": speeds[p.name],
            "course_speedup": statistics.median(ratios),
            "course_speedup_min": min(ratios),
            "course_speedup_max": max(ratios),
            "test_accuracy": evaluations[-1][1],
            "eval_images_per_s": statistics.median(tested / seconds for seconds, _ in evaluations),
        }
    images = f"{limit:,} images" if limit else "an epoch"
    return {"repeats": repeats, "images_per_repeat": images, "test_images": tested, "pipelines": rows}


class ColdStartError(RuntimeError):
    """The fresh process that times a cold start failed (its error output is in the message)."""


def cold_start(repeats: int) -> dict:
    """(c) Seconds from starting a fresh Python to its first trained batch (the median of ``repeats``),
    and where the last start spent them (imports, loading the data, building the model and one step)."""

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", COLD_START], capture_output=True, text=True)
        if done.returncode:
            raise ColdStartError(f"the cold-start process failed:\n{done.stderr[-2000:]}")
        times.append(time.perf_counter() - start)
    if not done.stdout.strip():
        raise ColdStartError(f"the cold-start process printed nothing:\n{done.stderr[-2000:]}")
    phases = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    phases = {"python_start": times[-1] - sum(phases.values())} | phases
    return {"seconds": statistics.median(times), "each": times, "phases_of_last": phases}


def peak_rss(process) -> int:
    """A process's peak resident memory so far, in bytes (Linux keeps it: VmHWM); elsewhere its current one."""
    try:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return process.memory_info().rss


class KernelMemory:
    """Watches this process's children (a notebook's kernel) while a block runs; ``.peak`` in bytes."""

    def __init__(self, every: float = 0.2):
        self.every, self.peak = every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            for child in me.children():
                try:  # a kernel that has just ended (a zombie until reaped) raises here: skip it
                    if "ipykernel" in " ".join(child.cmdline()):  # the notebook's kernel, nothing else
                        self.peak = max(self.peak, peak_rss(child))
                except (psutil.Error, OSError):
                    pass
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def lesson_runs(notebooks: list[Path], out: Path, echo=print) -> dict:
    """(d) and (e): run every lesson with its defaults (`course run`'s engine), timing it and its kernel's memory."""
    from .runner import execute

    rows = []
    for nb in notebooks:
        with KernelMemory() as memory:
            result = execute(nb, out / nb.name, {})
        rows.append(
            {"lesson": nb.name, "status": result.status, "seconds": result.seconds, "peak_rss_mb": memory.peak / 2**20}
        )
        echo(f"  {nb.name:<36} {result.status:<6} {result.seconds:6.1f} s  {memory.peak / 2**20:6.0f} MB")
        if result.error:
            echo(f"    {result.error}")
    return summarize(rows)


def summarize(rows: list[dict]) -> dict:
    """Lesson rows (``lesson, status, seconds, peak_rss_mb``) with the sums and extremes the targets judge."""
    first_nine = [r["seconds"] for r in rows if r["lesson"][:2].isdigit() and int(r["lesson"][:2]) <= 9]
    return {
        "lessons": rows,
        "lessons_1_to_9_seconds": sum(first_nine),
        "course_seconds": sum(r["seconds"] for r in rows),
        "slowest": max(rows, key=lambda r: r["seconds"]),
        "heaviest": max(rows, key=lambda r: r["peak_rss_mb"]),
    }


def check_targets(result: dict) -> list[dict]:
    """Each target, what was measured and whether it holds (targets are set for a 2-core AVX-512 CPU)."""
    rows = []
    cpu = result["training"]["cpu"]["pipelines"]
    course, tutorial32, tutorial128 = cpu["course, batch 128"], cpu["tutorial, batch 32"], cpu["tutorial, batch 128"]
    for name, other in (("batch32", tutorial32), ("batch128", tutorial128)):
        target = TARGETS[f"speedup_vs_tutorial_{name}"]
        as_accurate = course["test_accuracy"] >= other["test_accuracy"] - ACCURACY_TOLERANCE
        accuracy = (
            "speed only: --quick trains too little to judge accuracy" if result["quick"] else "accuracy equal or better"
        )
        rows.append(
            {
                "target": f"training vs tutorial, batch {name[5:]}: >= {target:g}x, {accuracy}",
                "measured": f"{other['course_speedup']:.2f}x; accuracy {course['test_accuracy']:.2%} "
                f"vs {other['test_accuracy']:.2%}",
                "holds": other["course_speedup"] >= target and (result["quick"] or as_accurate),
            }
        )
    rows.append(
        {
            "target": f"cold start to first batch < {TARGETS['cold_start_seconds']:g} s",
            "measured": f"{result['cold_start']['seconds']:.1f} s",
            "holds": result["cold_start"]["seconds"] < TARGETS["cold_start_seconds"],
        }
    )
    lessons = result.get("lessons")
    if lessons:
        for key, label, value in (
            ("lessons_1_to_9_seconds", "lessons 1-9", lessons["lessons_1_to_9_seconds"]),
            (
                "slowest_lesson_seconds",
                f"slowest lesson ({lessons['slowest']['lesson'][:2]})",
                lessons["slowest"]["seconds"],
            ),
            ("course_seconds", "whole course", lessons["course_seconds"]),
        ):
            rows.append(
                {
                    "target": f"{label} < {TARGETS[key] / 60:g} min",
                    "measured": f"{value / 60:.1f} min ({value:.0f} s)",
                    "holds": value < TARGETS[key] and all(r["status"] == "ok" for r in lessons["lessons"]),
                }
            )
    return rows


def format_report(result: dict) -> str:
    """The measurements as Markdown tables (``--docs`` writes them into docs/authors.md)."""
    m = result["machine"]
    quick_run = next(iter(result["training"].values()), {})  # what this run measured (older ones: 8,192, 10,000)
    lines = [
        f"Measured {result['date']} on {m['cpu']} ({m['cores']} cores, {m['cpu_capability']}, "
        f"{m['torch_threads']} torch threads), "
        f"Python {m['python']}, torch {m['torch']}, torchvision {m['torchvision']}"
        + (f", GPU {m['gpu']}" if "gpu" in m else "")
        + (
            f" (--quick: {quick_run.get('images_per_repeat', '8,192 images')} per repeat, "
            f"{quick_run.get('test_images', 10_000):,} test images (its eval images/s are not a full run's), "
            "no lessons)"
            if result["quick"]
            else ""
        ),
        "",
        "| device | pipeline | train images/s | course's speed-up (min-max) | test accuracy | eval images/s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for device, block in result["training"].items():
        for name, row in block["pipelines"].items():
            speedup = (
                "-"
                if name.startswith("course")
                else (f"{row['course_speedup']:.2f}x ({row['course_speedup_min']:.2f}-{row['course_speedup_max']:.2f})")
            )
            lines.append(
                f"| {device} | {name} | {row['train_images_per_s']:,.0f} | {speedup} | "
                f"{row['test_accuracy']:.2%} | {row['eval_images_per_s']:,.0f} |"
            )
    cold = result["cold_start"]
    phases = ", ".join(f"{name.replace('_', ' ')} {seconds:.1f} s" for name, seconds in cold["phases_of_last"].items())
    lines += [
        "",
        f"Cold start to the first trained batch: {cold['seconds']:.1f} s (median of {len(cold['each'])} fresh "
        f"processes, the data files already in the OS's cache; the last: {phases}).",
    ]
    if result.get("lessons"):
        lines += ["", "| lesson | seconds | kernel's peak memory (MB) |", "|---|---:|---:|"]
        for row in result["lessons"]["lessons"]:
            failed = "" if row["status"] == "ok" else f" ({row['status']})"
            lines.append(f"| {row['lesson']}{failed} | {row['seconds']:.0f} | {row['peak_rss_mb']:.0f} |")
        lines.append(
            f"| whole course | {result['lessons']['course_seconds']:.0f} | "
            f"{result['lessons']['heaviest']['peak_rss_mb']:.0f} (heaviest) |"
        )
    where = f"{m['cpu_capability']}, {m['device']}"
    lines += ["", f"| target (set for a 2-core AVX-512 CPU; here {where}) | measured | holds |", "|---|---|---|"]
    lines += [f"| {t['target']} | {t['measured']} | {'yes' if t['holds'] else '**no**'} |" for t in result["targets"]]
    return "\n".join(lines)


def quoted_run(run: Path) -> str:
    """The path the docs quote a run by, from the course's root; a run outside benchmarks/ is refused."""
    benchmarks = course_folder("benchmarks").resolve()
    if not run.resolve().is_relative_to(benchmarks):
        raise DocTableError(f"--docs quotes a committed run: write it under {benchmarks} (--out benchmarks/NAME.json)")
    return run.resolve().relative_to(benchmarks.parent).as_posix()


FULL_RUN_NEEDED = "--docs quotes a full run: measure without --quick and --no-lessons"


def write_docs(result: dict, quoted: str, page: Path) -> None:
    """Put the report of ``result`` (the run committed at ``quoted``) into ``page``'s Performance section."""
    if result["quick"] or not result.get("lessons"):
        raise DocTableError(FULL_RUN_NEEDED)
    intro = f"The committed run quoted here is [`{quoted}`](../{quoted}).\n\n"
    changed = doc_tables.write_table(page, "bench", intro + format_report(result))
    print(f"{'rewrote' if changed else 'kept'} the Performance tables in {page}")


def report_from(source: str, docs: bool, echo=print) -> int:
    """``course bench --from FILE``: an earlier run's report, and with ``docs`` its tables in the docs."""
    run = Path(source)
    try:
        result = json.loads(run.read_text(encoding="utf-8"))
        echo(format_report(result))
        if docs:
            write_docs(result, quoted_run(run), course_folder("docs") / "authors.md")
    except (OSError, ValueError, KeyError) as err:  # DocTableError is a ValueError
        print(f"error: {source}: {err}", file=sys.stderr)
        return 2
    return 0


def bench_main(
    quick: bool = False, out: str | None = None, lessons: bool = True, echo=print, docs: bool = False
) -> int:
    out = Path(out) if out else course_folder("build") / "bench.json"
    if docs:  # refused before measuring, not after 11 minutes
        try:
            quoted = quoted_run(out)
            if quick or not lessons:
                raise DocTableError(FULL_RUN_NEEDED)
        except DocTableError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    device = cu.get_device(verbose=False)
    result = {"date": datetime.date.today().isoformat(), "quick": quick, "machine": machine(device), "training": {}}
    devices = [torch.device("cpu")] + ([device] if device.type != "cpu" else [])
    for d in devices:
        what = f"{QUICK_IMAGES:,} images" if quick else "an epoch"
        echo(f"(a, b) training and evaluation on {d}, 3 interleaved repeats of {what} ...")
        result["training"][d.type] = training_and_evaluation(d, quick, echo=echo)
    echo("(c) cold start to the first trained batch ...")
    result["cold_start"] = cold_start(1 if quick else 3)
    if lessons and not quick:
        notebooks = sorted(course_folder("notebooks").glob("[0-9]*.ipynb"))
        echo(f"(d, e) the {len(notebooks)} lessons with default parameters ...")
        result["lessons"] = lesson_runs(notebooks, course_folder("build") / "bench_run", echo=echo)
    result["targets"] = check_targets(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    echo("")
    echo(format_report(result))
    echo(f"\nall figures: {out}")
    if docs:
        try:
            write_docs(result, quoted, course_folder("docs") / "authors.md")
        except (OSError, DocTableError) as err:  # the run is saved: `--from` writes the docs once fixed
            print(f"error: {err}; the run is in {out}: then `course bench --from {out} --docs`", file=sys.stderr)
            return 2
    return 0 if all(r["status"] == "ok" for r in result.get("lessons", {}).get("lessons", [])) else 1
