"""Grading submitted exercise notebooks: ``course grade SUBMISSION... [--solutions DIR] [--timeout S] [--out CSV]``.

SECURITY: grading runs the students' code, with YOUR permissions. A submission can read,
change or delete any file you can, use the network, and start processes. The grader stops
accidents (an endless loop, megabytes of printing, a broken file, a process left running) and
makes the common tricks fail (see "What a submission cannot do" below), but it is no sandbox.
Grade in a disposable container or as an unprivileged user that can read only the course, the
data and the submissions, without network, e.g. ``docker run --rm --network none -v
"$PWD":/course -w /course IMAGE course grade submissions/``. On Linux ``--sandbox`` runs each
kernel in network and PID namespaces of its own (``unshare --net --pid``, the kernel talking
to the runner over Unix sockets): no network, and no other process to see, signal or outlive,
but the files are as reachable as without it; ``bwrap`` (with read-only binds of the course) or
a container also hide the file system.

Each submission is one task of a Dask cluster (`course_tools.cluster`): a local one on this
machine by default (``--workers N`` processes), or the one at ``--scheduler ADDRESS``. The task
gets the submission's bytes, its solution and the checks, grades in a temporary folder of its
worker (the runner, its time limit and its process-tree kill all run there) and returns the row,
the executed copy and the log, which this machine writes.

The package, one job a module: `assemble` (find the solution, assemble and arm the notebook),
`reading` (read the student's code, never run it: ``review``, ``course.forbid``, written
answers), `isolate` (run it in a process of its own and leave nothing behind), and this module
(score, the gradebook, ``course grade``).

How one submission is graded:

1. Its bytes are read once and hashed; the file is never written to (`grade_main` checks the
   hash again at the end). An empty file, or one that is not a notebook, gets an ``error`` row.
2. Its solution is found in ``--solutions`` (default: the course's ``solutions/``; instructors
   may keep a private copy with the hidden tests): the solution whose metadata
   ``course.exercise_id`` equals the submission's, else the same file name, else the solution
   named in ``course.generated_from``, else a solution name inside the file name
   (``alice_02_shape_arithmetic_exercises.ipynb``). The id comes first, so renumbering the
   lessons (or renaming a file) never grades a notebook against the wrong solution.
3. The notebook to run is assembled in the solution's order. Answer cells (metadata
   ``course.role == "answer"``) are the student's cells with the same cell id, followed by any
   cells the student added after them. Every other code cell - setup, check cells - is
   the solution's own, so an edited check changes nothing. A check cell deleted from
   the submission is noted and its task is graded as failed. A check cell is one call,
   ``check(task=N)``; the checks themselves are the functions of the exercise's module,
   ``course_utils/exercise_checks/<id>.py``. Each check cell is armed: a prologue loads FRESH
   copies of ``course_utils/checks.py``, ``course_utils/exercise_checks/__init__.py``, the
   exercise's module and the hidden tests (``<solutions>/hidden_tests/<id>.py``), each verified
   against its hash, from the grader's copies beside the executed notebook (not from
   ``sys.modules``), re-binds the names the solution imported from them (``check``,
   ``check_equal``...) to the fresh ones, and resets ``sys.excepthook`` and IPython's custom
   exception handler; after the cell's own code, the task's last check cell runs the task's
   hidden tests; an epilogue prints a random token, different for every cell, that only a cell
   which ran to its end prints.
4. The answers are read (never run) for what they must not use: an answer cell whose metadata
   lists ``course.forbid`` (dotted names, e.g. ``course_utils.models.vgg_block`` or
   ``torch.nn.functional.cross_entropy``) fails its task when the task's cells import that name
   from its package (``from course_utils.models import vgg_block``, or use a name imported so
   in any cell) or reference it as an attribute (``models.vgg_block``, ``getattr(m,
   "vgg_block")``); the student's own function of that name is fine. Every student cell is
   also read for code that touches the grading machinery (see the ``review`` column).
5. It runs in a separate process (nbclient, the ``python3`` kernel of this environment) with
   errors allowed and ``--timeout`` seconds for all its cells together; each cell keeps at
   most ``OUTPUT_CAP`` characters of output (errors ``ERROR_CAP`` per line), and no file the
   kernel writes may exceed ``FILE_CAP``. The notebook reaches the runner through a pipe and
   comes back through another that the kernel does not inherit: no file holds the tokens
   while the code runs, and the code cannot forge the result (a runner killed by it is an
   error). The kernel's working folder is a fresh temporary folder, so files written with
   relative paths are thrown away. The runner and the grader are child subreapers (Linux), so
   every process the code starts, even a chain of double forks in sessions of their own, stays
   a descendant; when the notebook ends or times out, all of them are stopped, then killed.
   The executed copy goes to ``--work``, by renaming a new file onto its name (a link planted
   there is replaced, not followed), and the gradebook is rewritten after every submission.
6. A task passes when every cell of the task (answer and checks) ran without an error (no
   error output, and the kernel's reply was not an error), every check cell printed its
   token, and no forbidden name was used.

The gradebook has one row per submission: ``submission, exercise, status`` (ok / timeout /
error), ``seconds``, one ``taskN`` column per task (pass / fail; empty when the exercise has no
such task), ``total`` (tasks passed), ``out_of``, ``feedback`` (the first hint for each failed
task) and ``review``: empty, or why a person should read the submission: student code that
touches ``course_utils.checks``, ``sys.modules``, builtins, exception hooks (``sys.excepthook``,
``set_custom_exc``, ``get_ipython``, ``InteractiveShell``), ``importlib.reload``, attributes of
imported modules (assignment or ``setattr``), the caller's frames, ``exec``/``eval``, or the
grader's files (``course_tools``, ``build/grading``, ``.log``), that rebinds a check function,
that rebinds a check function or a course function the checks compare with
(``count_parameters``), defines ``__eq__`` or builds a class with ``type(name, bases, dict)``,
each with its cell. Beside it, ``written_answers.csv`` (``<out>_written_answers.csv`` for another
``--out`` name) lists every
written answer (a solution's markdown cell with a solution region) of every submission:
``submission, exercise, task`` (the task it follows), ``question``, ``answer`` and
``placeholder`` (``yes`` when left as ``_Write your answer here._`` or empty), for grading by
hand.

What a submission cannot do: switch the checks off by replacing ``course_utils.checks``
functions, rebinding ``check_equal`` in the notebook, or swallowing errors with
``get_ipython().set_custom_exc`` / ``sys.excepthook`` (the task fails, and ``review`` says why);
leave processes running; forge the executed notebook; make the grader write through a link;
write beside the submissions through relative paths; pass ``check_equal`` with an object that
equals anything (it wants plain Python values); pass a task with the course's own object where
``course.forbid`` names it. What a determined student can still do, since the checks run in
the same Python process as their code: install an IPython input transformer that sees a check
cell's token and rewrites the cell; patch ``print``, ``sys.stdout``, ``torch`` or ``importlib``
that the checks rely on; read the hidden tests from ``solutions/`` on disk; signal the grader or
write to the course's files with your permissions (``--sandbox`` hides the processes, a
container the files). Hence
the ``review`` column, and the executed copies in ``build/grading/``: read the flagged ones.
They contain the hidden tests, so do not hand them back; keep the solution folder with hidden
tests out of the students' reach (``--solutions``).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .assemble import _sha256, arm, assemble, check_sources, checks_file, exercise_id, find_solution, guarded_names
from .isolate import OUTPUT_CAP, run_isolated, sandbox_prefix
from .reading import forbidden_uses, review, review_code, written_answers
from .scoring import _answer_tasks, _hint, _names, _tasks_behind, score, shorten  # noqa: F401

__all__ = [  # the grader's parts, for tests and tools
    "Row",
    "arm",
    "assemble",
    "check_sources",
    "checks_file",
    "expand",
    "find_solution",
    "forbidden_uses",
    "grade_main",
    "grade_one",
    "guarded_names",
    "OUTPUT_CAP",
    "review",
    "review_code",
    "run_isolated",
    "sandbox_prefix",
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
    written: list = field(default_factory=list)  # written answers: dicts of written_answers.csv


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
    sandbox: bool = False,
    checks_source: dict | None = None,
    solution_texts: dict | None = None,
    env: dict | None = None,
) -> Row:
    """Grade one submission into a `Row`; never raises, never writes to ``path``.

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
        executed, result = run_isolated(runnable, timeout, executed_path.with_suffix(".log"), sandbox, env)
        if executed is None:  # the run stopped before the runner could send the notebook back
            executed = runnable
        executed.metadata["grading"] = result
        _replace(executed_path, nbformat.writes(executed))
        row.status = result["status"]
        row.tasks, row.feedback = score(executed, missing)
        if row.status != "ok":
            row.feedback.insert(0, result.get("message", row.status))
        elif result.get("message"):
            row.feedback.append(result["message"])
        changed = [c.name for key, c in copies.items() if _sha256(c) != hashlib.sha256(sources[key]).hexdigest()]
        if changed:
            row.tasks = dict.fromkeys(row.tasks, False)
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


def write_gradebook(rows: list[Row], out: Path) -> None:
    """One row per submission, one column per task (see the module docstring)."""
    n_tasks = max((max(r.tasks, default=0) for r in rows), default=0)
    columns = [
        "submission",
        "exercise",
        "status",
        "seconds",
        *[f"task{t}" for t in range(1, n_tasks + 1)],
        "total",
        "out_of",
        "feedback",
        "review",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for r in rows:
            writer.writerow(
                {
                    "submission": r.submission,
                    "exercise": r.exercise,
                    "status": r.status,
                    "seconds": r.seconds,
                    **{f"task{t}": "pass" if ok else "fail" for t, ok in r.tasks.items()},
                    "total": sum(r.tasks.values()),
                    "out_of": len(r.tasks) or "",
                    "feedback": "; ".join(r.feedback),
                    "review": "; ".join(r.review),
                }
            )


def write_written_answers(rows: list[Row], out: Path) -> None:
    """``written_answers.csv``: one row per submission and written answer, for grading by hand."""
    columns = ["submission", "exercise", "task", "question", "answer", "placeholder"]
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for r in rows:
            for answer in r.written:
                placeholder = "yes" if answer["placeholder"] else "no"
                writer.writerow(
                    {"submission": r.submission, "exercise": r.exercise, **answer, "placeholder": placeholder}
                )


def _solution_for(path: Path, raw: bytes, solutions_dir: Path) -> Path | None:
    """The solution `find_solution` picks for these bytes (None for a file that is no notebook)."""
    try:
        return find_solution(path, nbformat.reads(raw.decode("utf-8"), as_version=4), solutions_dir)
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


def check_copy(executed_path: Path, key: str) -> Path:
    """Where the grader keeps its copy of a check file beside an executed notebook: ``NAME.checks.py``,
    ``NAME.exercise.py`` (the exercise's check module), ``NAME.hidden.py`` (hidden tests)..."""
    return executed_path.with_name(f"{executed_path.stem}.{key}.py")


def _replace(path: Path, text: str) -> None:
    """Write ``path`` by renaming a new file onto it: a link planted there is replaced, not followed."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".grading-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temporary, path)


def grade_main(
    submissions,
    timeout: int = 300,
    out="gradebook.csv",
    work="build/grading",
    solutions=None,
    sandbox: bool = False,
    scheduler: str | None = None,
    workers: int = 1,
) -> int:
    """``course grade``: grade every submission, write the gradebook, print a summary.

    ``scheduler``: a Dask scheduler's address (else ``$DASK_SCHEDULER_ADDRESS``, else a local
    cluster of ``workers`` processes, each kernel with cores // workers threads).
    Returns 0 when the gradebook is written, 1 if a submission changed while grading (it must
    not), 2 for a path that does not exist, when there are no solutions to grade against, when
    --sandbox cannot work here, or when the cluster cannot grade (no scheduler, a worker
    without the course).
    """
    from .. import course_folder
    from ..cluster import ClusterError, check_workers, dask_client, run_all, scheduler_address, threads_per_worker
    from ..sweep import available_cores

    paths = expand(submissions)
    absent = [str(p) for p in paths if not p.is_file()]
    if absent or not paths:
        print(
            f"error: no such file: {', '.join(absent)}" if absent else "error: no notebooks to grade", file=sys.stderr
        )
        return 2
    solutions_dir = Path(solutions) if solutions else course_folder("solutions")
    if not any(solutions_dir.glob("*.ipynb")):
        print(f"error: no solution notebooks in {solutions_dir}", file=sys.stderr)
        return 2
    if sandbox and sandbox_prefix() is None:
        print("error: --sandbox needs Linux and a working `unshare --net`; grade in a container", file=sys.stderr)
        return 2
    work, out = Path(work), Path(out)
    # beside the gradebook, named after it unless it has the default name: two runs never share one
    written = out.with_name(WRITTEN_ANSWERS if out.name == "gradebook.csv" else f"{out.stem}_{WRITTEN_ANSWERS}")
    work.mkdir(parents=True, exist_ok=True)
    raws = {p: p.read_bytes() for p in paths}  # read once; the workers get these bytes, never the file
    before = {p: hashlib.sha256(raw).hexdigest() for p, raw in raws.items()}
    protected = {p.resolve() for p in paths}
    for option, target in (("--out", out), ("the written answers", written)):
        if target.resolve() in protected:
            print(f"error: {option} {target} is one of the submissions", file=sys.stderr)
            return 2
    copies = [
        work / re.sub(r"[^A-Za-z0-9._-]", "_", f"{number:03d}-{path.parent.name}-{path.name}")
        for number, path in enumerate(paths, start=1)
    ]
    if any(copy.resolve() in protected for copy in copies):
        print(f"error: an executed copy in {work} would overwrite a submission; use another --work", file=sys.stderr)
        return 2
    solution_texts = {p: p.read_text(encoding="utf-8") for p in sorted(solutions_dir.glob("*.ipynb"))}
    check_files = {}  # read once per exercise: what the course (and the hidden tests) hold now
    print("Grading runs each submission's code with your permissions: see `course_tools.grading`.")
    tasks = {}  # what each task gets, but the threads of its worker
    for number, (path, executed_path) in enumerate(zip(paths, copies, strict=True)):
        solution = _solution_for(path, raws[path], solutions_dir)
        shown = {
            "copy_name": executed_path.name,
            "log": str(executed_path.with_suffix(".log")),
            "solutions": str(solutions_dir),
        }
        chosen = {solution.name: solution_texts[solution]} if solution else {}
        exercise = exercise_id(nbformat.reads(solution_texts[solution], as_version=4).metadata) if solution else ""
        if exercise not in check_files:
            check_files[exercise] = check_sources(exercise, solutions_dir)
        tasks[number] = (path.name, raws[path], chosen, check_files[exercise], timeout, sandbox, shown)
    address = scheduler_address(scheduler)
    workers = max(1, min(workers, len(paths)))
    graded: dict[int, Row] = {}
    start = time.monotonic()
    try:
        with dask_client(address, workers) as client:
            reports = check_workers(client)
            threads = threads_per_worker(client, reports, None if address else max(1, available_cores() // workers))
            jobs = {number: (*given[:6], threads, given[6]) for number, given in tasks.items()}
            for number, result, error in run_all(client, grade_on_worker, jobs):
                row = _keep(result, error, copies[number])
                row.submission = str(paths[number])
                graded[number] = row
                # after every submission: a run stopped half-way keeps what it graded
                write_gradebook([graded[n] for n in sorted(graded)], out)
                elapsed = time.monotonic() - start
                left = elapsed / len(graded) * (len(paths) - len(graded))
                print(
                    f"[{len(graded)}/{len(paths)}] {paths[number]}: {sum(row.tasks.values())}/{len(row.tasks)} tasks, "
                    f"{row.status}, {row.seconds:.1f}s"
                    + (f" - {'; '.join(row.feedback)}" if row.feedback else "")
                    + (f" [review: {'; '.join(row.review)}]" if row.review else "")
                    + f" | elapsed {elapsed:.0f}s, about {left:.0f}s left",
                    flush=True,
                )
    except ClusterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rows = [graded[n] for n in sorted(graded)]
    write_gradebook(rows, out)
    write_written_answers(rows, written)
    print(f"\ngradebook: {out}; written answers: {written}; executed copies: {work}/")
    changed = [str(p) for p in paths if _sha256(p) != before[p]]
    if changed:
        print(f"error: these submissions changed while grading: {', '.join(changed)}", file=sys.stderr)
        return 1
    return 0
