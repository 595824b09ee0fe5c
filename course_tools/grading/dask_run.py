"""Grading what the store lacks on a Dask cluster (`course_tools.cluster`), each result saved as it ends.

`grade_new` places the results the store holds, sends every other submission to a worker
(`grade_on_worker`, which runs `submission.grade_one` in a temporary folder of its own), and
saves each result in the store in a transaction of its own as it arrives, then rewrites
``gradebook.csv`` (not the written answers: the instructor may be typing scores into them; `grade_main`
writes them at the end): a killed run keeps what it graded. No cluster starts when the store holds
every result. A run that failed for a reason of the grader's own (a grader error, no sandbox on a
worker: `Row.retry`) is no result: it is saved under an unfinished key, graded again next run, and
with ``--regrade`` the result recorded before stays.
"""

from __future__ import annotations

import hashlib
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from .files import _replace, check_copy
from .records import Grade
from .sheets import number, write_gradebook, write_written_answers
from .store import UNFINISHED, Gradebook, Placement
from .submission import Row, grade_of, grade_one


def keep(result: dict | None, error: str | None, executed_path: Path) -> Row:
    """Write a graded submission's executed copy, log and checks copy here; its row."""
    if result is None:  # the task gave nothing back: it raised, or the workers running it kept dying
        return Row(submission="", feedback=[f"grader error: {error}"], retry=True)
    copies = {"executed": executed_path, "log": executed_path.with_suffix(".log")}
    for key, target in copies.items():
        if result[key] is not None:
            _replace(target, result[key].decode("utf-8", errors="replace"))
    for key, text in (result.get("checks") or {}).items():
        _replace(check_copy(executed_path, key), text.decode("utf-8", errors="replace"))
    return result["row"]


@dataclass
class Run:
    """What one ``course grade`` run grades with, and where it writes."""

    gradebook: Gradebook
    late_policy: object  # roster.LatePolicy
    solutions_dir: Path
    solution_texts: dict
    work: Path
    out: Path
    written: Path
    timeout: int
    sandbox: object  # a sandbox.Sandbox, or None
    scheduler: str | None
    workers: int
    regrade: bool


@dataclass
class Job:
    """One submitted file of this run: what grading it depends on, and where its result goes."""

    submission: object  # roster.Submission
    raw: bytes
    solution: Path | None
    exercise: str
    checks: dict  # {name: source} of the exercise's check files (`assemble.check_sources`); {}: no solution
    key: str = ""


@dataclass(frozen=True)
class GradingTask:
    """What a worker needs to grade one submission (`grade_on_worker`): no path of this machine but in
    the texts its messages show. Module level, so that Dask pickles it."""

    file_name: str
    raw: bytes
    solution: dict  # {file name: text} of its solution; {}: none matched
    checks_source: dict  # the job's `checks`
    timeout: int
    sandbox: object  # a sandbox.Sandbox, or None
    copy_name: str  # the executed copy's file name
    shown_log: str  # the executed copy's log, as this machine names it in the messages
    shown_solutions: str  # the solutions folder, as this machine names it in the messages
    threads: dict = field(default_factory=dict)  # {worker address: threads} (`cluster.threads_per_worker`)


def grading_task(run: Run, job: Job, copy: Path) -> GradingTask:
    """The task that grades a job; ``copy``: its executed copy here (`copy_name`)."""
    return GradingTask(
        file_name=job.submission.path.name,
        raw=job.raw,
        solution={job.solution.name: run.solution_texts[job.solution]} if job.solution else {},
        checks_source=job.checks,
        timeout=run.timeout,
        sandbox=run.sandbox,
        copy_name=copy.name,
        shown_log=str(copy.with_suffix(".log")),
        shown_solutions=str(run.solutions_dir),
    )


def grade_on_worker(task: GradingTask) -> dict:
    """One submission, as a Dask task: `grade_one` in a temporary folder of this worker.

    Returns the row and the texts of the executed copy, its log and its checks copy.
    """
    from ..cluster import my_threads
    from ..runner import child_environment

    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        folder, solutions, work = Path(tmp, "submission"), Path(tmp, "solutions"), Path(tmp, "work")
        for made in (folder, solutions, work):
            made.mkdir()
        path = folder / task.file_name
        path.write_bytes(task.raw)
        texts = {}
        for solution_name, text in task.solution.items():
            (solutions / solution_name).write_text(text, encoding="utf-8")
            texts[solutions / solution_name] = text
        checks_source = task.checks_source if task.solution else None
        executed_path = work / task.copy_name
        env = child_environment(my_threads(task.threads), dask_worker=True)
        row = grade_one(path, solutions, executed_path, task.timeout, task.sandbox, checks_source, texts, env)
        shown = ((executed_path.with_suffix(".log"), task.shown_log), (solutions, task.shown_solutions))
        for here, there in shown:
            row.feedback = [line.replace(str(here), there) for line in row.feedback]
        files = {}
        for key, made in (("executed", executed_path), ("log", executed_path.with_suffix(".log"))):
            files[key] = made.read_bytes() if made.is_file() else None
        copies = [(key, check_copy(executed_path, key)) for key in checks_source or {}]
        files["checks"] = {key: copy.read_bytes() for key, copy in copies if copy.is_file()}
    return {"row": row, **files}


def placement_of(job: Job, policy, placed: dict[str, tuple[str, str]]) -> Placement:
    """Where a job's result goes. A time read from the file (no manifest line) never replaces the time
    an earlier run recorded for the same bytes there (`Gradebook.placed`): copying the file, or grading
    its folder without the manifest, moves it; a file rewritten with other bytes was submitted anew."""
    path = str(job.submission.path.absolute())
    submitted_at = job.submission.submitted_at
    sha256 = hashlib.sha256(job.raw).hexdigest()
    earlier, when = placed.get(path, (None, ""))
    if getattr(job.submission, "time_source", "") != "manifest" and earlier in (sha256, ""):  # '': schema 1
        submitted_at = datetime.fromisoformat(when)
    late_days, penalty = policy.lateness(job.exercise, submitted_at)
    return Placement(
        path=path,  # absolute: the same file, wherever the next run starts
        key=job.key,
        exercise=job.exercise,
        solution=job.solution.name if job.solution else "",
        student_id=job.submission.student_id,
        submitted_at=submitted_at.isoformat(timespec="seconds"),
        late_days=round(late_days, 4),
        penalty=penalty,
        sha256=sha256,
    )


def write_sheets(gradebook: Gradebook, out: Path, written: Path) -> list[Grade]:
    """The CSV gradebook and the written answers, from the store; the grades written."""
    grades, students = gradebook.grades(), gradebook.students()
    write_gradebook(grades, out, students)
    write_written_answers(grades, written, students)
    return grades


def copy_name(work: Path, job: Job) -> Path:
    """The executed copy of a graded result: named after its key (a rerun finds it) and its file."""
    path = job.submission.path
    return work / re.sub(r"[^A-Za-z0-9._-]", "_", f"{job.key[:8]}-{path.parent.name}-{path.name}")


def grade_new(run: Run, jobs: list[Job], copies: dict) -> int:
    """Place the results the store holds; grade the others on Dask, each saved as it ends."""
    from ..cluster import (
        ClusterError,
        available_cores,
        check_workers,
        dask_client,
        datasets_loaded,
        run_all,
        scheduler_address,
        threads_per_worker,
    )

    gradebook, placements, placed = run.gradebook, {}, run.gradebook.placed()
    for job in jobs:
        placements.setdefault(job.key, []).append(placement_of(job, run.late_policy, placed))
    reused = set() if run.regrade else gradebook.known(placements)
    gradebook.record("", None, [p for key in reused for p in placements[key]])
    new = {job.key: job for job in jobs if job.key not in reused}  # one run for files with the same bytes
    files = sum(len(placements[key]) for key in reused)
    print(
        f"{files} of {len(jobs)} submissions unchanged since graded: reused from {gradebook.path}"
        + (" (--regrade grades them again)" if files else "")
    )
    if not new:
        return 0
    tasks = {key: grading_task(run, job, copies[key]) for key, job in new.items()}
    address = scheduler_address(run.scheduler)
    # a real cluster's workers must have the data the graded exercises load; a local one shares this machine's
    loaded = {text for task in tasks.values() for text in (*task.solution.values(), *task.checks_source.values())}
    needed = datasets_loaded(loaded) if address else []
    workers = max(1, min(run.workers, len(new)))
    earlier = gradebook.known(new) if run.regrade else set()  # kept when grading them again fails
    done, start = 0, time.monotonic()
    try:
        with dask_client(address, workers) as client:
            reports = check_workers(client, datasets=needed)
            threads = threads_per_worker(client, reports, None if address else max(1, available_cores() // workers))
            arguments = {key: (replace(task, threads=threads),) for key, task in tasks.items()}
            for key, result, error in run_all(client, grade_on_worker, arguments):
                row = keep(result, error, copies[key])
                grade = grade_of(row)
                # a grader error is no result: saved under another key, so that the next run tries again
                saved = key if not row.retry else f"{key}{UNFINISHED}"
                for placement in placements[key]:
                    placement.key = saved
                if not (row.retry and key in earlier):
                    gradebook.record(saved, grade, placements[key])  # one transaction: a killed run keeps it
                write_gradebook(gradebook.grades(), run.out, gradebook.students())
                done += 1
                elapsed = time.monotonic() - start
                left = elapsed / done * (len(new) - done)
                whose = ", ".join(sorted({p.student_id or p.path for p in placements[key]}))
                kept = "the earlier one kept, " if key in earlier else ""
                retry_note = f" (no result: {kept}graded again next run)" if row.retry else ""
                print(
                    f"[{done}/{len(new)}] {new[key].submission.path} ({whose}): "
                    f"{number(sum(t.points for t in grade.tasks))}/{number(sum(t.max_points for t in grade.tasks))} "
                    f"points, {grade.status}, {grade.seconds:.1f}s"
                    + (f" - {'; '.join(grade.feedback)}" if grade.feedback else "")
                    + (f" [review: {'; '.join(grade.review)}]" if grade.review else "")
                    + retry_note
                    + f" | elapsed {elapsed:.0f}s, about {left:.0f}s left",
                    flush=True,
                )
    except ClusterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
