"""A semester's grading at scale: ``python benchmarks/grading-150/run.py`` (minutes; run it alone).

Builds a class of 150 synthetic submissions of one exercise, exercise 3 (shape arithmetic: no
data, no training, so the time measured is the grader's, not the exercise's), then runs a
semester's commands on it as an instructor would, each timed as a separate ``course`` process:

1. ``course release``: the student copy; every submission starts from its exercise notebook;
2. ``course grade SUBMISSIONS --roster --policy --solutions PRIVATE --timeout 20 --sandbox``
   on the local Dask cluster (this machine's cores), from an empty store;
3. the same command again: the unchanged class, every result from the store (target: < 10 s);
4. ``course feedback``, ``course export --format canvas`` and ``--format csv``, ``course similarity``.

The class (fixed seed): a roster of 150 fictional students, 146 of whom hand in a file (4 have
nothing: ``missing`` rows), and 4 files no roster line matches, 150 files in all; handed in as a
folder per student, as ``login_FILE`` or under Canvas's download names. The files: the full
solution in the student's own words (two ways to write some answers, a comment, a written
answer), partial (one to three tasks left as the stub), wrong (a typical mistake in one task),
empty, corrupt (not JSON), endless (``while True: pass`` in an answer: costs the 20 s timeout),
and hostile, two of each: reading a secret planted outside the course, the private solutions
and another student's file, printing what it got; starting 50 processes that sleep; allocating
16 GiB.
A ``manifest.csv`` gives every file's submission time; 16 are late (within the 15 minutes'
grace, 1, 2 days late and past the 3 days' cut-off) under ``grading.toml``.

After grading it checks what must hold: every file has its row, with the status its kind should
get; the secret is in no file the grader wrote; no process the hostile file started is left.

Writes everything under ``build/grading-150/`` (the class, the store, the pages, the exports;
each run starts it afresh) but ``results.json`` beside this script: the machine (CPU model,
cores, ``torch.backends.cpu.get_cpu_capability()``), the class, the seconds of every command,
submissions graded per minute and the cached regrade's seconds. Every command's output is in
``build/grading-150/logs/``. The course graded is the checkout that holds this script: the
grader's source is part of every result's key, so a file of it edited between the two grade runs
would make the second regrade everything. Run it on a committed state: ``git worktree add --detach
../bench HEAD``, then ``../bench/benchmarks/grading-150/run.py`` with this environment's Python.
The exit status is 1 when a command failed or a check did not hold.
``--class-only`` stops after writing the class (and the release it starts from): no grading.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import nbformat

COURSE = Path(__file__).resolve().parents[2]
ROOT = COURSE / "build" / "grading-150"
RESULTS = Path(__file__).resolve().parent / "results.json"
COURSE_COMMAND = Path(sys.executable).parent / "course"
NAME = "03_shape_arithmetic_exercises.ipynb"
TIMEOUT = 20
DEADLINE = datetime(2026, 10, 1, 23, 59, tzinfo=UTC)
SECRET = f"planted-secret-{random.SystemRandom().getrandbits(64):016x}"
SLEEP = f"50.{random.SystemRandom().randrange(10**6):06d}"  # the hostile file's children: `sleep 50.xxxxxx`

FIRST = "Ada Ben Chidi Dana Elif Femi Gita Hugo Ines Jonas Kaito Lena Mateo Nia Omar Priya Quinn Rosa Sven Tariq"
LAST = "Quill Marsh Okafor Ruiz Novak Haddad Lindqvist Mbeki Costa Tanaka Weber Oyelaran Petrov Santos Kowalski"
FILES = {  # kind: how many files (146 students' and the unmatched)
    "full": 98,
    "partial": 25,
    "wrong": 10,
    "empty": 4,
    "corrupt": 4,
    "endless": 3,
    "hostile-read": 2,
    "hostile-fork": 2,
    "hostile-memory": 2,
}
UNMATCHED, MISSING = 4, 4
LATE = [timedelta(minutes=10)] * 4 + [timedelta(hours=5)] * 6 + [timedelta(hours=30)] * 4 + [timedelta(days=4)] * 2
EXPECTED_STATUS = {"empty": "error", "corrupt": "error", "endless": "timeout"}  # the others: ok

WRITTEN = [
    "fc1: it has a weight for each of the 500 flattened values per unit. Pool once more to shrink it.",
    "Most are in fc1 (25,050), since every one of its 50 units sees all 20x5x5 inputs. Fewer conv2 channels.",
    "The first linear layer, as it connects everything to everything. Global average pooling saves most.",
    "fc1, about 81 %. The convolutions reuse their kernels; a smaller fc1 (fewer units) would save the most.",
]
ALTERNATIVES = {  # a second way to write an answer, so that not every full submission is the course's
    "task1-answer": (
        "def conv_output_size(size, kernel_size, stride=1, padding=0):\n"
        "    padded = size + 2 * padding\n"
        "    return (padded - kernel_size) // stride + 1\n"
    ),
    "task4-answer": (
        "def receptive_field(layers):\n"
        "    size, step = 1, 1\n"
        "    for k, s in layers:\n"
        "        size = size + (k - 1) * step\n"
        "        step = step * s\n"
        "    return size\n"
    ),
}
MISTAKES = {  # task cell: (what the solution says, what the student wrote)
    "task1-answer": ("// stride + 1", "/ stride + 1"),
    "task3-answer": ("* kernel_size + out_channels", "* kernel_size"),
    "task4-answer": ("jump *= stride", "jump = stride"),
}
HOSTILE = {
    "hostile-read": (
        "for place in [{secret!r}, {solutions!r}, {other!r}]:\n"
        "    try:\n"
        "        print(open(place).read()[:300])\n"
        "    except OSError as err:\n"
        "        print('could not read', place, type(err).__name__)\n"
    ),
    "hostile-fork": "import subprocess\nchildren = [subprocess.Popen(['sleep', {sleep!r}]) for _ in range(50)]\n",
    "hostile-memory": "hoard = bytearray(16 * 1024**3)\n",
}


# ------------------------------------------------------------------------------------------- the class
def roster(rng: random.Random) -> list[dict]:
    """150 fictional students, unique names and logins, in three sections."""
    names = [(first, last) for first in FIRST.split() for last in LAST.split()]
    students = []
    for number, (first, last) in enumerate(rng.sample(names, 150)):
        students.append(
            {
                "student_id": f"s{2001 + number}",
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}@example.edu",
                "section": "ABC"[number % 3],
                "sis_login": f"{first[0].lower()}{last.lower()}{number}",
                "canvas_id": str(50001 + number),
            }
        )
    return students


def code_of(cell) -> str:
    """A solution cell's code without its solution markers."""
    markers = ("### BEGIN SOLUTION", "### END SOLUTION")
    return "\n".join(line for line in cell.source.split("\n") if line.strip() not in markers)


def submission(kind: str, student: str, exercise, solution: dict, rng: random.Random, places: dict) -> bytes:
    """The file a student of this kind hands in."""
    if kind == "empty":
        return b""
    if kind == "corrupt":
        return f'{{"cells": [ truncated upload of {student} {rng.random()}'.encode()
    notebook = nbformat.from_dict(json.loads(json.dumps(exercise)))  # a copy
    stubs = rng.sample(sorted(solution), rng.randint(1, 3)) if kind == "partial" else []
    mistake = rng.choice(sorted(MISTAKES)) if kind == "wrong" else None
    for cell in notebook.cells:
        if cell.get("id") in solution and cell.get("id") not in stubs:
            code = solution[cell.id]
            if cell.id in ALTERNATIVES and rng.random() < 0.4:
                code = ALTERNATIVES[cell.id]
            if cell.id == mistake:
                code = code.replace(*MISTAKES[mistake])
            cell.source = f"# {student}\n{code}"
        elif "_Write your answer here._" in cell.source and kind != "partial":
            cell.source = cell.source.replace("_Write your answer here._", rng.choice(WRITTEN))
    if kind.startswith("hostile"):
        first = next(c for c in notebook.cells if c.get("id") == "task1-answer")
        first.source = HOSTILE[kind].format(**places) + first.source
    if kind == "endless":
        second = next(c for c in notebook.cells if c.get("id") == "task2-answer")
        second.source = "while True:\n    pass\n" + second.source
    return nbformat.writes(notebook).encode()


def file_name(student: dict, index: int, late: bool) -> str:
    """Where a student's file lies: a folder of their own, their login as prefix, or Canvas's name."""
    if index % 3 == 0:
        return f"{student['student_id']}/{NAME}"
    if index % 3 == 1:
        return f"{student['sis_login']}_{NAME}"
    first, last = student["name"].lower().split()
    return f"{last}{first}{'_LATE' * late}_{student['canvas_id']}_{7_700_000 + index}_{NAME}"


def write_class(exercise_path: Path, private: Path, rng: random.Random) -> dict[str, str]:
    """The roster, the submissions, their manifest and the late policy; {file: kind}."""
    students = roster(rng)
    with open(ROOT / "roster.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(students[0]))
        writer.writeheader()
        writer.writerows(students)
    (ROOT / "grading.toml").write_text(
        f'[late]\ndeadline = "{DEADLINE.isoformat()}"\npenalty_per_day = 0.10\ncutoff_days = 3\ngrace_minutes = 15\n'
    )
    exercise = nbformat.read(exercise_path, as_version=4)
    solution = {
        c.id: code_of(c)
        for c in nbformat.read(private / NAME, as_version=4).cells
        if c.metadata.get("course", {}).get("role") == "answer"
    }
    kinds = [kind for kind, count in FILES.items() for _ in range(count)]
    rng.shuffle(kinds)
    handing_in = rng.sample(students, len(students) - MISSING)
    owners = [s["student_id"] for s in handing_in] + [f"guest{n}" for n in range(1, UNMATCHED + 1)]
    late = set(rng.sample(range(len(handing_in)), len(LATE)))
    subs, manifest, files, lateness = ROOT / "submissions", [], {}, iter(LATE)
    places = {"secret": str(ROOT / "secret" / "secret.txt"), "solutions": str(private / NAME), "sleep": SLEEP}
    for index, (owner, kind) in enumerate(zip(owners, kinds, strict=True)):
        student = handing_in[index] if index < len(handing_in) else None
        name = file_name(student, index, index in late) if student else f"{owner}/{NAME}"
        places["other"] = str(subs / next(iter(files), name))  # a file handed in before this one
        path = subs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(submission(kind, owner, exercise, solution, rng, places))
        when = DEADLINE + next(lateness) if index in late else DEADLINE - timedelta(minutes=rng.randint(5, 5000))
        manifest.append({"file": name, "submitted_at": when.isoformat()})
        files[name] = kind
    with open(subs / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["file", "submitted_at"])
        writer.writeheader()
        writer.writerows(manifest)
    (ROOT / "kinds.json").write_text(json.dumps(files, indent=1))  # which file is which, to read the results by
    return files


# -------------------------------------------------------------------------------------- the commands
def course(step: str, *args: str) -> dict:
    """Run ``course ARGS`` as an instructor would; its seconds, exit status and last output line."""
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(COURSE)}  # this checkout's course, wherever it lies (a worktree)
    done = subprocess.run([str(COURSE_COMMAND), *args], cwd=COURSE, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    (ROOT / "logs" / f"{step}.log").write_text(f"$ course {' '.join(args)}\n{done.stdout}{done.stderr}")
    last = (done.stdout.strip() or done.stderr.strip() or "-").splitlines()[-1]
    print(f"{step}: {seconds:.1f} s, exit {done.returncode}: {last}", flush=True)
    return {"command": f"course {' '.join(args)}", "seconds": round(seconds, 2), "exit": done.returncode, "out": done}


def grade_args(private: Path) -> list[str]:
    return [
        "grade",
        str(ROOT / "submissions"),
        "--roster",
        str(ROOT / "roster.csv"),
        "--policy",
        str(ROOT / "grading.toml"),
        "--solutions",
        str(private),
        "--timeout",
        str(TIMEOUT),
        "--sandbox",
        "--workers",
        str(os.cpu_count()),
        "--out",
        str(ROOT / "gradebook.csv"),
        "--work",
        str(ROOT / "work"),
    ]


# ---------------------------------------------------------------------------------------- the checks
def executed_copy(name: str) -> str:
    """The text of a submission's executed copy (`dask_run.copy_name`: KEY-FOLDER-FILE.ipynb)."""
    path = ROOT / "submissions" / name
    found = sorted((ROOT / "work").glob(f"*-{path.parent.name}-{path.name}"))
    return found[0].read_text(encoding="utf-8") if found else ""


def check_row(name: str, kind: str, row: dict | None) -> str | None:
    """What is wrong with a file's gradebook row, for its kind; None when all is well."""
    expected = EXPECTED_STATUS.get(kind, "ok")
    if row is None:
        return f"{name} ({kind}): no row in the gradebook"
    if row["status"] != expected:
        return f"{name} ({kind}): status {row['status']}, expected {expected}"
    if kind == "full" and any(row[f"task{n}"] != "1" for n in range(1, 5)):
        return f"{name} (full): tasks earned {[row[f'task{n}'] for n in range(1, 5)]}, not 1 each"
    if kind == "hostile-memory" and row["task1"] != "0":
        return f"{name} ({kind}): the task that allocates 16 GiB earned {row['task1']}"
    if kind == "hostile-read" and executed_copy(name).count("could not read /") < 3:
        return f"{name} ({kind}): its executed copy does not show three reads refused"
    return None


def checks(files: dict[str, str]) -> list[str]:
    """What must hold after grading; each problem as one line."""
    with open(ROOT / "gradebook.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_name = {Path(r["submission"]).relative_to(ROOT / "submissions").as_posix(): r for r in rows if r["submission"]}
    problems = [check_row(name, kind, by_name.get(name)) for name, kind in files.items()]
    missing = sum(row["status"] == "missing" for row in rows)
    if missing != MISSING:
        problems.append(f"{missing} rows `missing`, expected {MISSING}")
    for path in ROOT.rglob("*"):
        if path.is_file() and path.parent.name != "secret" and SECRET.encode() in path.read_bytes():
            problems.append(f"the planted secret is in {path}")
    left = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    if f"sleep {SLEEP}" in left:
        problems.append(f"processes `sleep {SLEEP}` of the hostile file are still running")
    return [problem for problem in problems if problem]


def outcomes(files: dict[str, str]) -> dict[str, dict]:
    """For each kind of file: how many got each status, and their mean total of points."""
    with open(ROOT / "gradebook.csv", newline="", encoding="utf-8") as f:
        by_file = {row["submission"]: row for row in csv.DictReader(f)}
    summary = {}
    for kind in FILES:
        rows = [by_file.get(str(ROOT / "submissions" / name)) for name, k in files.items() if k == kind]
        rows = [row for row in rows if row]
        summary[kind] = {
            "files": len(rows),
            "status": dict(Counter(row["status"] for row in rows)),
            "mean_total": round(sum(float(row["total"] or 0) for row in rows) / max(1, len(rows)), 2),
        }
    return summary


def machine() -> dict:
    import torch

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=COURSE, capture_output=True, text=True)
    return {
        "commit": commit.stdout.strip(),
        "cpu": model,
        "cores": os.cpu_count(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "bwrap": shutil.which("bwrap") is not None,
    }


def main(class_only: bool = False) -> int:
    if ROOT.exists():
        shutil.rmtree(ROOT)
    (ROOT / "logs").mkdir(parents=True)
    (ROOT / "secret").mkdir()
    (ROOT / "secret" / "secret.txt").write_text(SECRET)
    private = ROOT / "private-solutions"  # the instructor's copy, with the hidden tests
    shutil.copytree(COURSE / "solutions", private)
    steps = {"release": course("release", "release", str(ROOT / "release"))}
    exercise = ROOT / "release" / "exercises" / NAME
    if steps["release"]["exit"]:
        return 1
    files = write_class(exercise, private, random.Random(25))
    if class_only:
        print(f"the class: {ROOT}; {dict(Counter(files.values()))}")
        return 0
    steps["grade"] = course("grade", *grade_args(private))
    steps["regrade_cached"] = course("regrade_cached", *grade_args(private))
    db = str(ROOT / "work" / "gradebook.sqlite")
    steps["feedback"] = course("feedback", "feedback", "--db", db, "--out", str(ROOT / "feedback"))
    for form in ("canvas", "csv"):
        steps[f"export_{form}"] = course(
            f"export_{form}", "export", "--format", form, "--db", db, "--out", str(ROOT / f"{form}.csv")
        )
    steps["similarity"] = course(
        "similarity",
        "similarity",
        str(ROOT / "submissions"),
        "--roster",
        str(ROOT / "roster.csv"),
        "--solutions",
        str(private),
        "--out",
        str(ROOT / "similarity.html"),
    )
    runs = re.findall(r"^\[\d+/(\d+)\]", steps["grade"]["out"].stdout, re.M)
    reused = re.search(r"^(\d+) of (\d+) submissions unchanged", steps["regrade_cached"]["out"].stdout, re.M)
    problems = [f"course {step} exited {s['exit']}" for step, s in steps.items() if s["exit"]]
    problems += checks(files)
    if not reused or reused.group(1) != reused.group(2):
        problems.append("the second grade run did not reuse every result")
    results = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "exercise": NAME,
        "class": {
            "roster": 150,
            "files": len(files),
            "missing_students": MISSING,
            "unmatched_files": UNMATCHED,
            "late_files": len(LATE),
            "kinds": FILES,
        },
        "timeout_s": TIMEOUT,
        "distinct_files_graded": int(runs[0]) if runs else 0,
        "submissions_per_minute": round(len(files) / steps["grade"]["seconds"] * 60, 1),
        "cached_regrade_s": steps["regrade_cached"]["seconds"],
        "cached_regrade_target_s": 10,
        "seconds": {step: s["seconds"] for step, s in steps.items()},
        "commands": {step: s["command"].replace(str(COURSE) + "/", "") for step, s in steps.items()},
        "outcomes": outcomes(files),
        "problems": problems,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(
        json.dumps(
            {k: results[k] for k in ("submissions_per_minute", "cached_regrade_s", "seconds", "problems")}, indent=2
        )
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(class_only="--class-only" in sys.argv[1:]))
