"""Grading submitted exercise notebooks: ``course grade SUBMISSIONS... [--roster CSV] [--policy TOML]
[--deadline WHEN] [--db PATH] [--regrade] [--solutions DIR] [--timeout S] [--out CSV]``.

Grading runs the students' code: read docs/security.md first. How a run goes, how one
submission is graded (steps 1-6, which the modules' docstrings refer to), the gradebook's
columns, the hand scores and what a submission cannot do: docs/grading.md.

This module is ``course grade`` itself: `grade_main` reads and checks every input (the roster
and the late policy, `roster`; the store, `store`; the hand scores, `sheets`) before it grades
anything, serves every submission whose key the store holds from it, grades the others on Dask
(`grade_on_worker`, which runs `grade_one` in a temporary folder of a worker), saves each result
as it arrives and writes the gradebook from the store. The package's other modules, one job
each, are listed in docs/grading.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from .assemble import _sha256, arm, assemble, check_sources, checks_file, exercise_id, find_solution, guarded_names
from .files import _replace, check_copy
from .isolate import OUTPUT_CAP, run_isolated
from .reading import forbidden_uses, review, review_code, written_answers
from .records import Grade, TaskResult, WrittenAnswer
from .sandbox import SandboxError
from .sandbox import choose as choose_sandbox
from .scoring import (  # noqa: F401
    _answer_tasks,
    _hint,
    _names,
    _tasks_behind,
    feedback_lines,
    forfeit,
    marking_scheme,
    score,
    shorten,
)
from .sheets import ScoreError, number, read_scores, write_gradebook, write_written_answers
from .store import Gradebook, GradebookError, Placement, course_hash, result_key

__all__ = [  # the grader's parts, for tests and tools
    "Row",
    "arm",
    "assemble",
    "check_sources",
    "checks_file",
    "expand",
    "find_solution",
    "forbidden_uses",
    "grade_of",
    "grade_main",
    "grade_one",
    "guarded_names",
    "OUTPUT_CAP",
    "review",
    "review_code",
    "run_isolated",
    "score",
    "write_gradebook",
    "write_written_answers",
    "written_answers",
]

WRITTEN_ANSWERS = "written_answers.csv"


@dataclass
class Row:
    """One line of the gradebook."""

    submission: str
    exercise: str = ""
    status: str = "error"
    seconds: float = 0.0
    tasks: dict = field(default_factory=dict)  # task number -> passed?
    feedback: list = field(default_factory=list)
    review: list = field(default_factory=list)  # why a person should read this submission
    written: list = field(default_factory=list)  # written answers: records.WrittenAnswer
    task_results: list = field(default_factory=list)  # records.TaskResult per task: points, each check's verdict


def expand(paths) -> list[Path]:
    """Submission files: files as given, folders replaced by their ``*.ipynb`` (sorted)."""
    found = []
    for path in map(Path, paths):
        found += sorted(path.glob("*.ipynb")) if path.is_dir() else [path]
    return found


def grade_one(
    path: Path,
    solutions_dir: Path,
    executed_path: Path,
    timeout: int,
    sandbox=None,
    checks_source: dict | None = None,
    solution_texts: dict | None = None,
    env: dict | None = None,
) -> Row:
    """Grade one submission into a `Row`; never raises, never writes to ``path``.

    ``sandbox``: a `sandbox.Sandbox` to run the notebook in, or None (no sandbox).
    ``checks_source`` (default: read now, `check_sources`) holds the check files the check cells
    load, {key: bytes}, from copies beside the executed notebook; ``solution_texts`` ({path:
    text}, read once by `grade_main`) keeps a submission that writes to the solutions from
    changing how the next ones are graded.
    """
    row = Row(submission=str(path))
    start = time.monotonic()
    try:
        raw = path.read_bytes()
        if not raw.strip():
            row.feedback.append("the file is empty")
            return row
        try:
            student = nbformat.reads(raw.decode("utf-8"), as_version=4)
            student.cells  # noqa: B018 - a JSON file that is no notebook fails here
        except Exception as err:
            row.feedback.append(f"not a valid notebook ({type(err).__name__}: {' '.join(str(err).split())[:200]})")
            return row
        solution_path = find_solution(path, student, solutions_dir)
        if solution_path is None:
            row.feedback.append(f"no matching solution notebook in {solutions_dir}")
            return row
        row.exercise = solution_path.name
        text = (solution_texts or {}).get(solution_path) or solution_path.read_text(encoding="utf-8")
        solution = nbformat.reads(text, as_version=4)
        sources = checks_source or check_sources(exercise_id(solution.metadata), solutions_dir)
        scheme = marking_scheme(solution, sources.get("hidden", b"").decode("utf-8"))  # what each task is worth
        copies = {key: check_copy(executed_path, key) for key in sources}
        for key, copy in copies.items():
            _replace(copy, sources[key].decode("utf-8"))  # never through a link planted there
        runnable, missing = assemble(solution, student, {key: copy.resolve() for key, copy in copies.items()})
        row.written = written_answers(solution, student)
        exercise_source = sources.get("exercise", b"").decode("utf-8")
        check_names = guarded_names(solution, sources["checks"].decode("utf-8"), exercise_source)
        row.review = review(runnable, check_names, {c.source for c in solution.cells if c.cell_type == "code"})
        for task, problem in forbidden_uses(solution, runnable).items():
            missing.setdefault(task, []).append(problem)
        log = executed_path.with_suffix(".log")
        executed, result = run_isolated(runnable, timeout, log, sandbox, env, readable=list(copies.values()))
        if executed is None:  # the run stopped before the runner could send the notebook back
            executed = runnable
        executed.metadata["grading"] = result
        _replace(executed_path, nbformat.writes(executed))
        row.status = result["status"]
        row.task_results, notes = score(executed, missing, scheme)
        row.tasks = {result.task: result.passed for result in row.task_results}
        row.feedback = feedback_lines(row.task_results, notes)
        if row.status != "ok":
            row.feedback.insert(0, result.get("message", row.status))
        elif result.get("message"):
            row.feedback.append(result["message"])
        changed = [c.name for key, c in copies.items() if _sha256(c) != hashlib.sha256(sources[key]).hexdigest()]
        if changed:
            row.tasks = dict.fromkeys(row.tasks, False)
            forfeit(row.task_results, "the grader's copy of the checks was changed while this submission ran")
            row.feedback.insert(0, "the grader's copy of the checks was changed while this submission ran")
            row.review.append(f"changed the grader's copy of the checks ({', '.join(changed)})")
    except Exception as err:  # a bug or an odd file must not stop the other submissions
        row.status = "error"
        row.feedback.append(f"grader error: {type(err).__name__}: {err}")
    finally:
        row.seconds = round(time.monotonic() - start, 1)
    return row


def grade_on_worker(
    name: str, raw: bytes, solution: dict, checks_source: dict, timeout: int, sandbox: bool, threads: dict, shown: dict
) -> dict:
    """One submission, as a Dask task: `grade_one` in a temporary folder of this worker.

    ``solution``: ``{file name: text}`` of its solution (empty: none matched), ``checks_source``
    the check files (`check_sources`) of that solution's exercise; ``shown``: the
    names this machine's paths have in the messages (the solutions folder, the executed copy).
    Returns the row and the texts of the executed copy, its log and its checks copy.
    """
    from ..cluster import my_threads
    from ..runner import child_environment

    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        folder, solutions, work = Path(tmp, "submission"), Path(tmp, "solutions"), Path(tmp, "work")
        for made in (folder, solutions, work):
            made.mkdir()
        path = folder / name
        path.write_bytes(raw)
        texts = {}
        for solution_name, text in solution.items():
            (solutions / solution_name).write_text(text, encoding="utf-8")
            texts[solutions / solution_name] = text
        checks_source = checks_source if solution else None
        executed_path = work / shown["copy_name"]
        env = child_environment(my_threads(threads), dask_worker=True)
        row = grade_one(path, solutions, executed_path, timeout, sandbox, checks_source, texts, env)
        for here, there in ((executed_path.with_suffix(".log"), shown["log"]), (solutions, shown["solutions"])):
            row.feedback = [line.replace(str(here), there) for line in row.feedback]
        files = {}
        for key, made in (("executed", executed_path), ("log", executed_path.with_suffix(".log"))):
            files[key] = made.read_bytes() if made.is_file() else None
        copies = [(key, check_copy(executed_path, key)) for key in checks_source or {}]
        files["checks"] = {key: copy.read_bytes() for key, copy in copies if copy.is_file()}
    return {"row": row, **files}


def grade_of(row: Row) -> Grade:
    """A graded row as the store keeps it: its run's part of a `Grade` (the student's part is added
    from the collection). Each task is worth 1 point until the row brings its own `TaskResult`s."""
    tasks = list(getattr(row, "task_results", None) or [])
    if not tasks:
        hints = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in row.feedback if ":" in line}
        tasks = [
            TaskResult(task, passed, float(passed), 1.0, "" if passed else hints.get(f"task{task}", ""))
            for task, passed in sorted(row.tasks.items())
        ]
    written = [answer if isinstance(answer, WrittenAnswer) else WrittenAnswer(**answer) for answer in row.written]
    return Grade(
        exercise=row.exercise,
        status=row.status,
        seconds=row.seconds,
        tasks=tasks,
        written=written,
        feedback=list(row.feedback),
        review=list(row.review),
    )


def _solution_for(path: Path, raw: bytes, solutions_dir: Path) -> Path | None:
    """The solution `find_solution` picks for these bytes; for a file that is no notebook, the one its
    name points to (its row then names the exercise it failed)."""
    try:
        notebook = nbformat.from_dict(json.loads(raw.decode("utf-8")))  # no validation: only the metadata counts
        notebook.metadata  # noqa: B018 - JSON that is no notebook fails here
    except Exception:
        notebook = nbformat.v4.new_notebook()
    try:
        return find_solution(path, notebook, solutions_dir)
    except Exception:
        return None


def _keep(result: dict | None, error: str | None, executed_path: Path) -> Row:
    """Write a graded submission's executed copy, log and checks copy here; its row."""
    if result is None:  # the task gave nothing back: it raised, or the workers running it kept dying
        return Row(submission="", feedback=[f"grader error: {error}"])
    copies = {"executed": executed_path, "log": executed_path.with_suffix(".log")}
    for key, target in copies.items():
        if result[key] is not None:
            _replace(target, result[key].decode("utf-8", errors="replace"))
    for key, text in (result.get("checks") or {}).items():
        _replace(check_copy(executed_path, key), text.decode("utf-8", errors="replace"))
    return result["row"]


@dataclass
class _Run:
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
class _Job:
    """One submitted file of this run: what grading it depends on, and where its result goes."""

    submission: object  # roster.Submission
    raw: bytes
    solution: Path | None
    exercise: str
    key: str = ""


def _exercise_of(solution: Path, text: str) -> str:
    """A solution's exercise id (its file's stem when it has none)."""
    try:
        return exercise_id(json.loads(text).get("metadata", {})) or solution.stem
    except (ValueError, AttributeError):
        return solution.stem


def _jobs(found, raws: dict, solutions_dir: Path, solutions: dict, exercises: dict, timeout: int, sandbox) -> tuple:
    """Each file's `_Job`, with its key (`store.result_key`), and the check files of each exercise.
    ``solutions``: {path: text}, ``exercises``: {path: exercise id} of every solution."""
    course = course_hash()
    check_files, jobs = {}, []  # read once per exercise: what the course (and the hidden tests) hold now
    for submission in found:
        solution = _solution_for(submission.path, raws[submission.path], solutions_dir)
        text, exercise = (solutions[solution], exercises[solution]) if solution else ("", "")
        if exercise not in check_files:
            check_files[exercise] = check_sources(exercise, solutions_dir) if solution else {}
        job = _Job(submission, raws[submission.path], solution, exercise)
        job.key = result_key(job.raw, text, check_files[exercise], course, timeout, sandbox)
        jobs.append(job)
    return jobs, check_files


def _placement(job: _Job, policy, times: dict[str, str]) -> Placement:
    """Where a job's result goes. A time read from the file (no manifest line) never replaces the time
    an earlier run recorded: copying the file, or grading its folder without the manifest, moves it."""
    path = str(job.submission.path.absolute())
    submitted_at = job.submission.submitted_at
    if getattr(job.submission, "time_source", "") != "manifest" and path in times:
        submitted_at = datetime.fromisoformat(times[path])
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
    )


def _write_sheets(gradebook: Gradebook, out: Path, written: Path) -> list[Grade]:
    """The CSV gradebook and the written answers, from the store; the grades written."""
    grades, students = gradebook.grades(), gradebook.students()
    write_gradebook(grades, out, students)
    write_written_answers(grades, written, students)
    return grades


def _policy_json(policy) -> str:
    """A `roster.LatePolicy` as the store keeps it."""
    data = dataclasses.asdict(policy)
    data["deadline"] = policy.deadline.isoformat() if policy.deadline else None
    data["deadlines"] = {name: when.isoformat() for name, when in policy.deadlines.items()}
    return json.dumps(data)


def _late_policy(stored: str | None, given, only_deadline: bool):
    """The late policy of this run: the one given (``--deadline`` alone changes only the stored
    policy's deadline), else the one the store last used, else none (nobody is late)."""
    from .roster import LatePolicy

    if given is not None and not only_deadline:
        return given
    policy = LatePolicy()
    if stored:
        data = json.loads(stored)
        data["deadline"] = datetime.fromisoformat(data["deadline"]) if data["deadline"] else None
        data["deadlines"] = {name: datetime.fromisoformat(when) for name, when in data["deadlines"].items()}
        policy = LatePolicy(**data)
    return dataclasses.replace(policy, deadline=given.deadline) if given is not None else policy


def _copy_name(work: Path, job: _Job) -> Path:
    """The executed copy of a graded result: named after its key (a rerun finds it) and its file."""
    path = job.submission.path
    return work / re.sub(r"[^A-Za-z0-9._-]", "_", f"{job.key[:8]}-{path.parent.name}-{path.name}")


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def grade_main(
    submissions,
    timeout: int = 300,
    out="gradebook.csv",
    work="build/grading",
    solutions=None,
    sandbox: str = "auto",
    scheduler: str | None = None,
    workers: int = 1,
    caps: dict | None = None,
    roster=None,
    deadline: str | None = None,
    policy=None,
    manifest=None,
    db=None,
    regrade: bool = False,
) -> int:
    """``course grade``: grade what is new, record it in the store, write the gradebook from it.

    ``roster``: the roster CSV (default: the one the store last used, if any); ``deadline``,
    ``policy``: the late policy (`roster.read_policy`; default: the one the store last used;
    ``deadline`` alone replaces only its deadline); ``manifest``: the submission times; ``db``:
    the store (default ``WORK/gradebook.sqlite``); ``regrade``: grade even what the store holds.
    ``scheduler``: a Dask scheduler's address (else ``$DASK_SCHEDULER_ADDRESS``, else a local
    cluster of ``workers`` processes, each kernel with cores // workers threads); none starts when
    every submission's result is in the store. ``sandbox``: ``"auto"``, ``"require"``
    (``--sandbox``) or ``"off"`` (``--no-sandbox``), ``caps`` its ``memory_gib``, ``cpu_seconds``
    and ``processes`` (`sandbox.choose`).
    Returns 0 when the gradebook is written, 1 if a submission changed while grading (it must
    not), 2 for a bad input (a path that does not exist, a roster, policy, manifest or hand score
    that cannot be used, a --db that is no gradebook, no solutions to grade against), when
    --sandbox cannot work here, or when the cluster cannot grade (no scheduler, a worker
    without the course); with 2 nothing is graded and nothing recorded is changed.
    """
    from .. import course_folder
    from .roster import RosterError, Submission, collect, read_policy, read_roster

    solutions_dir = Path(solutions) if solutions else course_folder("solutions")
    if not any(solutions_dir.glob("*.ipynb")):
        return _error(f"no solution notebooks in {solutions_dir}")
    try:
        sandbox = choose_sandbox(sandbox, **(caps or {}))  # says once which, on stdout or stderr
    except SandboxError as err:
        return _error(str(err))
    work, out = Path(work), Path(out)
    # beside the gradebook, named after it unless it has the default name: two runs never share one
    written = out.with_name(WRITTEN_ANSWERS if out.name == "gradebook.csv" else f"{out.stem}_{WRITTEN_ANSWERS}")
    solution_texts = {p: p.read_text(encoding="utf-8") for p in sorted(solutions_dir.glob("*.ipynb"))}
    exercises = {path: _exercise_of(path, text) for path, text in solution_texts.items()}
    try:
        students = read_roster(roster) if roster else None
        given_policy = read_policy(policy, deadline, set(exercises.values())) if policy or deadline else None
        gradebook = Gradebook(db or work / "gradebook.sqlite")
    except (RosterError, GradebookError) as err:
        return _error(str(err))
    with gradebook:
        try:  # the roster and the late policy last given, unless this run gives them
            students = students if students is not None else gradebook.students() or None
            late_policy = _late_policy(gradebook.setting("policy"), given_policy, policy is None)
            collection = collect(submissions, students, manifest)
        except (RosterError, GradebookError) as err:
            return _error(str(err))
        found = list(collection.submissions)  # unmatched files are graded too, under no student
        for path in collection.unmatched:
            found.append(Submission(path, "", datetime.fromtimestamp(path.stat().st_mtime, UTC)))
        if not found:
            return _error("no notebooks to grade")
        raws = {s.path: s.path.read_bytes() for s in found}  # read once; the workers get these bytes, never the file
        protected = {path.resolve() for path in raws}
        for option, target in (("--out", out), ("the written answers", written), ("--db", gradebook.path)):
            if target.resolve() in protected:
                return _error(f"{option} {target} is one of the submissions")
        jobs, check_files = _jobs(found, raws, solutions_dir, solution_texts, exercises, timeout, sandbox)
        copies = {job.key: _copy_name(work, job) for job in jobs}
        if any(copy.resolve() in protected for copy in copies.values()):
            return _error(f"an executed copy in {work} would overwrite a submission; use another --work")
        try:
            scores = read_scores(written, gradebook.grades(), gradebook.scores())
        except (ScoreError, GradebookError) as err:
            return _error(str(err))
        # every input is good: from here on the store changes
        if roster:
            gradebook.set_roster(students)
        if given_policy is not None:
            gradebook.set_setting("policy", _policy_json(late_policy))
        gradebook.save_scores(scores)
        work.mkdir(parents=True, exist_ok=True)
        run = _Run(
            gradebook,
            late_policy,
            solutions_dir,
            solution_texts,
            work,
            out,
            written,
            timeout,
            sandbox,
            scheduler,
            workers,
            regrade,
        )
        code = _grade_new(run, jobs, check_files, copies)
        if code:
            return code
        gradebook.forget_absent()
        grades = _write_sheets(gradebook, out, written)
    _summary(grades, collection, out, written, work)
    changed = [str(p) for p, raw in raws.items() if _sha256(p) != hashlib.sha256(raw).hexdigest()]
    if changed:
        print(f"error: these submissions changed while grading: {', '.join(changed)}", file=sys.stderr)
        return 1
    return 0


def _grade_new(run: _Run, jobs: list[_Job], check_files: dict, copies: dict) -> int:
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

    gradebook, placements, times = run.gradebook, {}, run.gradebook.submitted_times()
    for job in jobs:
        placements.setdefault(job.key, []).append(_placement(job, run.late_policy, times))
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
    tasks = {}  # what each task gets, but the threads of its worker
    for key, job in new.items():
        shown = {
            "copy_name": copies[key].name,
            "log": str(copies[key].with_suffix(".log")),
            "solutions": str(run.solutions_dir),
        }
        chosen = {job.solution.name: run.solution_texts[job.solution]} if job.solution else {}
        path = job.submission.path
        tasks[key] = (path.name, job.raw, chosen, check_files[job.exercise], run.timeout, run.sandbox, shown)
    address = scheduler_address(run.scheduler)
    # a real cluster's workers must have the data the graded exercises load; a local one shares this machine's
    loaded = {text for task in tasks.values() for text in (*task[2].values(), *task[3].values())}
    needed = datasets_loaded(loaded) if address else []
    workers = max(1, min(run.workers, len(new)))
    done, start = 0, time.monotonic()
    try:
        with dask_client(address, workers) as client:
            reports = check_workers(client, datasets=needed)
            threads = threads_per_worker(client, reports, None if address else max(1, available_cores() // workers))
            jobs_ = {key: (*given[:6], threads, given[6]) for key, given in tasks.items()}
            for key, result, error in run_all(client, grade_on_worker, jobs_):
                row = _keep(result, error, copies[key])
                grade = grade_of(row)
                # a grader error is no result: saved under another key, so that the next run tries again
                saved = key if result is not None else f"{key}-unfinished"
                for placement in placements[key]:
                    placement.key = saved
                gradebook.record(saved, grade, placements[key])  # one transaction: a killed run keeps it
                _write_sheets(gradebook, run.out, run.written)
                done += 1
                elapsed = time.monotonic() - start
                left = elapsed / done * (len(new) - done)
                whose = ", ".join(sorted({p.student_id or p.path for p in placements[key]}))
                print(
                    f"[{done}/{len(new)}] {new[key].submission.path} ({whose}): "
                    f"{number(sum(t.points for t in grade.tasks))}/{number(sum(t.max_points for t in grade.tasks))} "
                    f"points, {grade.status}, {grade.seconds:.1f}s"
                    + (f" - {'; '.join(grade.feedback)}" if grade.feedback else "")
                    + (f" [review: {'; '.join(grade.review)}]" if grade.review else "")
                    + f" | elapsed {elapsed:.0f}s, about {left:.0f}s left",
                    flush=True,
                )
    except ClusterError as err:
        return _error(str(err))
    return 0


def _summary(grades: list[Grade], collection, out: Path, written: Path, work: Path) -> None:
    """What an instructor must act on: unmatched files, students with nothing submitted."""
    nobody = {grade.submission for grade in grades if not grade.student_id}  # nor in an earlier run
    unmatched = [path for path in collection.unmatched if str(path.absolute()) in nobody]
    if unmatched:
        count = len(unmatched)
        print(f"\n{count} file{'s' * (count != 1)} matched no roster line (graded, under no student):")
        for path in unmatched:
            print(f"  {path}")
    missing = {}
    for grade in grades:
        if grade.status == "missing":
            missing.setdefault(grade.exercise, []).append(grade.student_id)
    for exercise, who in sorted(missing.items()):
        print(f"\n{exercise}: nothing submitted by {len(who)} student{'s' * (len(who) != 1)}: {', '.join(who)}")
    print(f"\ngradebook: {out}; written answers: {written}; executed copies: {work}/")
