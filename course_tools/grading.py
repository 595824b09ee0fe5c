"""Grading submitted exercise notebooks: ``course grade SUBMISSION... [--timeout S] [--out CSV]``.

SECURITY: grading runs the students' code, with YOUR permissions. A submission can read,
change or delete any file you can, use the network, and start processes. The grader stops
accidents (an endless loop, megabytes of printing, a broken file) but is no sandbox. Grade in
a disposable container or as an unprivileged user that can read only the course and the
submissions, e.g. ``docker run --rm --network none -v "$PWD":/course -w /course IMAGE course
grade submissions/``. The checks run in the same Python process as the student's code, so a
determined student could also defeat them (say, by replacing ``check_equal``): the executed
copies in ``build/grading/`` are there for you to read. They contain the hidden tests, so do
not hand them back.

How one submission is graded:

1. Its bytes are read once and hashed; the file is never written to (`grade_main` checks the
   hash again at the end). An empty file, or one that is not a notebook, gets an ``error`` row.
2. Its solution is found in ``solutions/``: the same file name, else the solution named in the
   notebook's metadata (``course.generated_from``), else a solution name inside the file name
   (``alice_02_shape_arithmetic_exercises.ipynb``).
3. The notebook to run is assembled in the solution's order. Answer cells (metadata
   ``course.role == "answer"``) are the student's cells with the same cell id, followed by any
   cells the student added after them. Every other code cell - setup, check cells, hidden
   tests - is the solution's own, so an edited check changes nothing. A check cell deleted from
   the submission is noted and its task is graded as failed.
4. It runs in a separate process (nbclient, the ``python3`` kernel of this environment) with
   errors allowed and ``--timeout`` seconds for all its cells together; each cell keeps at
   most ``OUTPUT_CAP`` characters of output. The executed copy goes to ``--work``.
5. A task passes when every cell of the task (answer and checks) ran without an error.

The gradebook has one row per submission: ``submission, exercise, status`` (ok / timeout /
error), ``seconds``, one ``taskN`` column per task (pass / fail; empty when the exercise has no
such task), ``total`` (tasks passed), ``out_of`` and ``feedback`` (the first hint for each
failed task).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

OUTPUT_CAP = 100_000  # characters of output kept per cell; the rest is dropped
STARTUP_ALLOWANCE = 120  # seconds to start the runner and the kernel, on top of --timeout


@dataclass
class Row:
    """One line of the gradebook."""

    submission: str
    exercise: str = ""
    status: str = "error"
    seconds: float = 0.0
    tasks: dict = field(default_factory=dict)  # task number -> passed?
    feedback: list = field(default_factory=list)


# --- finding and assembling --------------------------------------------------------------


def expand(paths) -> list[Path]:
    """Submission files: files as given, folders replaced by their ``*.ipynb`` (sorted)."""
    found = []
    for path in map(Path, paths):
        found += sorted(path.glob("*.ipynb")) if path.is_dir() else [path]
    return found


def find_solution(path: Path, notebook, solutions_dir: Path) -> Path | None:
    """The solution notebook a submission answers (see step 2 in the module docstring)."""
    solutions = {p.name: p for p in sorted(solutions_dir.glob("*.ipynb"))}
    source = notebook.metadata.get("course", {}).get("generated_from", "")
    for name in (path.name, Path(str(source)).name):
        if name in solutions:
            return solutions[name]
    inside = [s for s in solutions if Path(s).stem in path.stem]
    return solutions[max(inside, key=len)] if inside else None


def _copy(node):
    """A deep copy of a notebook node (never mutate the inputs), without grading metadata."""
    node = nbformat.from_dict(json.loads(json.dumps(node)))
    node.get("metadata", {}).pop("grading", None)
    return node


def _course(cell) -> dict:
    info = cell.get("metadata", {}).get("course", {})
    return info if isinstance(info, dict) else {}


def _match(solution, student) -> dict[int, object]:
    """Solution cell index -> the student's cell: same id, else the next with the same metadata."""
    by_id = {c.get("id"): c for c in student.cells if c.get("id")}
    solution_ids = {c.get("id") for c in solution.cells}
    by_metadata = {}
    for cell in student.cells:
        if cell.get("id") not in solution_ids and _course(cell):
            key = (_course(cell).get("task"), _course(cell).get("role"))
            by_metadata.setdefault(key, []).append(cell)
    matches = {}
    for index, cell in enumerate(solution.cells):
        key = (_course(cell).get("task"), _course(cell).get("role"))
        if cell.get("id") in by_id:
            matches[index] = by_id[cell.get("id")]
        elif by_metadata.get(key) and key != (None, None):
            matches[index] = by_metadata[key].pop(0)
    return matches


def assemble(solution, student):
    """The notebook to run, and {task: [notes]} for missing cells (step 3 of the docstring)."""
    from .exercises import strip_regions

    matches = _match(solution, student)
    matched = {id(cell): index for index, cell in matches.items()}
    added, anchor = {}, -1  # cells the student added, by the solution cell they follow
    for cell in student.cells:
        if id(cell) in matched:
            anchor = matched[id(cell)]
        elif cell.cell_type == "code":
            added.setdefault(anchor, []).append(cell)
    missing, cells = {}, [_copy(c) for c in added.get(-1, [])]
    for index, cell in enumerate(solution.cells):
        info = _course(cell)
        task, role = info.get("task"), info.get("role")
        chosen = cell
        if cell.cell_type == "markdown" or role == "answer":
            chosen = matches.get(index, cell if cell.cell_type == "markdown" else None)
        if role == "answer" and chosen is None:
            missing.setdefault(task, []).append("its answer cell is missing from the submission")
        if role == "check" and index not in matches and strip_regions(cell.source, []).strip():
            missing.setdefault(task, []).append(
                "a check cell was deleted from the submission, so the task is graded as failed: "
                "copy the check cell back from exercises/"
            )
        if chosen is not None:
            origin = "solution" if chosen is cell else "student"
            chosen = _copy(chosen)
            chosen.setdefault("metadata", {})["grading"] = {"task": task, "role": role, "from": origin}
            cells.append(chosen)
        cells += [_copy(c) for c in added.get(index, [])]
    runnable = nbformat.v4.new_notebook(metadata=_copy(solution.metadata), cells=cells)
    seen = set()
    for number, cell in enumerate(cells):
        if cell.get("id") in seen or not cell.get("id"):  # ids must be unique (and exist)
            cell["id"] = f"graded-{number}"
        seen.add(cell["id"])
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return runnable, missing


# --- running, in a separate process -------------------------------------------------------


def run_isolated(path: Path, timeout: int) -> dict:
    """Execute the notebook at ``path`` in place, in a child process; return its status."""
    log = path.with_suffix(".log")
    command = [sys.executable, "-m", "course_tools.grading", "--execute", str(path), str(timeout)]
    with open(log, "wb") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            child.wait(timeout=timeout + STARTUP_ALLOWANCE)
        except subprocess.TimeoutExpired:
            _kill_tree(child)
            return {
                "status": "timeout",
                "message": f"stopped after {timeout + STARTUP_ALLOWANCE} s: the runner did not finish",
            }
    try:
        executed = nbformat.read(str(path), as_version=4)
        return dict(executed.metadata["grading"])
    except Exception:
        return {"status": "error", "message": f"the runner failed (exit code {child.returncode}); see {log}"}


def _kill_tree(process: subprocess.Popen) -> None:
    """Kill the runner and everything it started (the kernel runs in a session of its own)."""
    try:
        import psutil

        for descendant in psutil.Process(process.pid).children(recursive=True):
            descendant.kill()
    except Exception:  # psutil missing, or the processes already gone
        pass
    process.kill()
    process.wait()


def _execute(path: Path, timeout: int) -> None:
    """The runner (``python -m course_tools.grading --execute PATH TIMEOUT``): run all cells."""
    import tempfile

    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    class CappedClient(NotebookClient):
        """nbclient, keeping at most OUTPUT_CAP characters of output per cell (errors always)."""

        def output(self, outs, msg, display_id, cell_index):
            content, kind = msg["content"], msg["msg_type"]
            size = len(content["text"]) if kind == "stream" else len(json.dumps(content))
            room = OUTPUT_CAP - self.output_sizes.get(cell_index, 0)
            self.output_sizes[cell_index] = OUTPUT_CAP - room + size
            if size <= room or kind == "error":
                return super().output(outs, msg, display_id, cell_index)
            if room > 0:  # the first output over the cap: keep what fits, then say so
                if kind == "stream":
                    content["text"] = content["text"][:room]
                    super().output(outs, msg, display_id, cell_index)
                outs.append(
                    nbformat.v4.new_output(
                        "stream",
                        name="stderr",
                        text=(f"\n[grader: output beyond {OUTPUT_CAP:,} characters was dropped]\n"),
                    )
                )
            return None

    notebook = nbformat.read(str(path), as_version=4)
    deadline, running = [], [None]

    def remaining(cell):  # the clock starts with the first cell, not with the kernel
        if not deadline:
            deadline.append(time.monotonic() + timeout)
        return max(1, deadline[0] - time.monotonic())

    def starting(cell, cell_index):  # remember the cell that runs, in case the run stops there
        running[0] = cell_index

    with tempfile.TemporaryDirectory() as kernels:
        # Run the kernel of THIS Python, even if a user-wide "python3" kernel points elsewhere.
        spec = Path(kernels, "kernels", "python3")
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "Python 3",
                    "language": "python",
                }
            )
        )
        os.environ["JUPYTER_PATH"] = kernels
        client = CappedClient(
            notebook,
            kernel_name="python3",
            allow_errors=True,
            timeout_func=remaining,
            shutdown_kernel="immediate",
            on_cell_execute=starting,
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.output_sizes = {}
        status, message, reason = "ok", "", ""
        start = time.monotonic()
        try:
            client.execute()
        except CellTimeoutError:
            status, message, reason = "timeout", f"timed out after {timeout} s", "the time limit ran out"
        except DeadKernelError:
            status, reason = "error", "the kernel died"
            message = "the kernel died (out of memory, or the code exited Python)"
        except Exception as err:
            status, message, reason = "error", f"{type(err).__name__}: {err}", "the run failed"
    notebook.metadata["grading"] = {
        "status": status,
        "message": message,
        "reason": reason,
        "stopped_at": running[0],
        "seconds": round(time.monotonic() - start, 1),
    }
    nbformat.write(notebook, str(path))


# --- scoring ----------------------------------------------------------------------------


def _hint(error) -> str:
    """The feedback for one error output."""
    name, value = error.get("ename", "Error"), " ".join(str(error.get("evalue", "")).split())
    if name == "NotImplementedError":
        text = f"not attempted ({value})"
    elif name == "CheckFailed":
        text = value
    else:
        text = f"{name}: {value}"
    return text[:300]


def score(executed, missing: dict) -> tuple[dict, list[str]]:
    """{task: passed?} and feedback lines, read from the executed notebook's outputs."""
    info = executed.metadata.get("grading", {})
    stopped = info.get("stopped_at") if info.get("status") != "ok" else None
    reason = info.get("reason") or "the run stopped"
    problems = {task: lines[0] for task, lines in missing.items()}
    notes = []
    for index, cell in enumerate(executed.cells):
        grading = cell.metadata.get("grading", {})
        task = grading.get("task")
        if cell.cell_type != "code" or not cell.source.strip() or task in problems:
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if stopped is not None and index >= stopped:
            problem = f"{reason} in this task" if index == stopped else f"not run ({reason} earlier)"
        elif errors:
            problem = _hint(errors[0])
        elif cell.get("execution_count") is None:
            problem = "not run"
        else:
            continue
        if task is not None:
            problems[task] = problem
        elif errors and errors[0].get("ename") != "NotImplementedError":  # e.g. a setup cell failed
            notes.append(f"cell {index} ({grading.get('from', 'added by the student')}): {problem}")
    tasks = sorted({c.metadata.get("grading", {}).get("task") for c in executed.cells} - {None} | set(missing))
    passed = {task: task not in problems for task in tasks}
    return passed, [f"task{t}: {problems[t]}" for t in tasks if t in problems] + notes[:1]


def grade_one(path: Path, solutions_dir: Path, executed_path: Path, timeout: int) -> Row:
    """Grade one submission into a `Row`; never raises, never writes to ``path``."""
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
        solution = nbformat.read(str(solution_path), as_version=4)
        runnable, missing = assemble(solution, student)
        nbformat.write(runnable, str(executed_path))
        result = run_isolated(executed_path, timeout)
        executed = nbformat.read(str(executed_path), as_version=4)
        executed.metadata.setdefault("grading", result)
        row.status = result["status"]
        row.tasks, row.feedback = score(executed, missing)
        if row.status != "ok":
            row.feedback.insert(0, result.get("message", row.status))
    except Exception as err:  # a bug or an odd file must not stop the other submissions
        row.status = "error"
        row.feedback.append(f"grader error: {type(err).__name__}: {err}")
    finally:
        row.seconds = round(time.monotonic() - start, 1)
    return row


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
                }
            )


def _sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def grade_main(submissions, timeout: int = 300, out="gradebook.csv", work="build/grading") -> int:
    """``course grade``: grade every submission, write the gradebook, print a summary.

    Returns 0 when the gradebook is written, 1 if a submission changed while grading (it must
    not), 2 for a path that does not exist or when there are no solutions to grade against.
    """
    from . import course_folder

    paths = expand(submissions)
    absent = [str(p) for p in paths if not p.is_file()]
    if absent or not paths:
        print(
            f"error: no such file: {', '.join(absent)}" if absent else "error: no notebooks to grade", file=sys.stderr
        )
        return 2
    solutions_dir = course_folder("solutions")
    if not any(solutions_dir.glob("*.ipynb")):
        print(f"error: no solution notebooks in {solutions_dir}", file=sys.stderr)
        return 2
    work, out = Path(work), Path(out)
    work.mkdir(parents=True, exist_ok=True)
    before = {p: _sha256(p) for p in paths}
    protected = {p.resolve() for p in paths}
    if out.resolve() in protected:
        print(f"error: --out {out} is one of the submissions", file=sys.stderr)
        return 2
    copies = [
        work / re.sub(r"[^A-Za-z0-9._-]", "_", f"{number:03d}-{path.parent.name}-{path.name}")
        for number, path in enumerate(paths, start=1)
    ]
    if any(copy.resolve() in protected for copy in copies):
        print(f"error: an executed copy in {work} would overwrite a submission; use another --work", file=sys.stderr)
        return 2
    print("Grading runs each submission's code with your permissions: see `course_tools.grading`.")
    rows = []
    for path, executed_path in zip(paths, copies, strict=True):
        row = grade_one(path, solutions_dir, executed_path, timeout)
        rows.append(row)
        print(
            f"{path}: {sum(row.tasks.values())}/{len(row.tasks)} tasks, {row.status}, {row.seconds:.1f}s"
            + (f" - {'; '.join(row.feedback)}" if row.feedback else ""),
            flush=True,
        )
    write_gradebook(rows, out)
    print(f"\ngradebook: {out}; executed copies: {work}/")
    changed = [str(p) for p in paths if _sha256(p) != before[p]]
    if changed:
        print(f"error: these submissions changed while grading: {', '.join(changed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # the runner that run_isolated starts; instructors use `course grade`
    if len(sys.argv) != 4 or sys.argv[1] != "--execute":
        sys.exit("usage: python -m course_tools.grading --execute NOTEBOOK TIMEOUT (graders use `course grade`)")
    _execute(Path(sys.argv[2]), int(sys.argv[3]))
