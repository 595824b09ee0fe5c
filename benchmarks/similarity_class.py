"""How long ``course similarity`` takes for a class: ``python benchmarks/similarity_class.py [STUDENTS]``.

A synthetic class (150 students by default) answers exercise 7's five answer cells: a tenth leave a
cell as the stub, a quarter hand in the course's solution with their own names, four in ten the
same with one to three lines added, the rest their own variant (other numbers, comments, extra
lines). That is close to the worst case: most answers are near one another, so most pairs are
compared in full. Prints the seconds of each step; writes nothing outside a temporary folder.
"""

from __future__ import annotations

import random
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from course_tools.grading.similarity import read_answers, render_html, similar_pairs
from course_tools.notebook_transforms import without_markers

COURSE = Path(__file__).resolve().parents[1]
SOLUTION = COURSE / "solutions" / "07_numpy_cnn_exercises.ipynb"
EXERCISE = COURSE / "exercises" / "07_numpy_cnn_exercises.ipynb"


def renamed(code: str, rng: random.Random) -> str:
    """The code with every assigned name given a suffix of the student's own."""
    for name in set(re.findall(r"^\s*([a-z_][a-z0-9_]*)\s*[-+*/]?=", code, re.M)):
        code = re.sub(rf"\b{name}\b", f"{name}_{rng.choice('xyzw')}{rng.randint(0, 9)}", code)
    return code


def with_lines_added(code: str, count: int, rng: random.Random) -> str:
    lines = code.split("\n")
    for _ in range(count):
        body = [i for i, line in enumerate(lines) if line.startswith("    ") and line.strip()[:1] not in ("#", '"', "")]
        at = rng.choice(body)
        indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
        lines.insert(at, f"{indent}scale_{rng.randint(0, 99)} = {rng.randint(0, 999)} * {rng.random():.3f}")
    return "\n".join(lines)


def own_variant(code: str, rng: random.Random) -> str:
    code = re.sub(r"\b\d+\b", lambda _: str(rng.randint(100, 999)), code)
    extra = [f"extra_{k} = [{rng.randint(0, 9)}] * {rng.randint(1, 9)}" for k in range(rng.randint(2, 8))]
    return code + "\n" + "\n".join(extra)


def write_class(folder: Path, students: int, rng: random.Random) -> list[tuple[str, Path]]:
    solution = nbformat.read(SOLUTION, as_version=4)
    answers = {
        c.id: without_markers(c.source) for c in solution.cells if c.metadata.get("course", {}).get("role") == "answer"
    }
    files = []
    for number in range(students):
        notebook = nbformat.read(EXERCISE, as_version=4)
        for cell in (c for c in notebook.cells if c.get("id") in answers):
            draw, code = rng.random(), answers[cell.id]
            if draw < 0.1:
                continue  # the stub: not attempted
            if draw < 0.35:
                cell.source = renamed(code, rng)
            elif draw < 0.75:
                cell.source = with_lines_added(renamed(code, rng), rng.randint(1, 3), rng)
            else:
                cell.source = own_variant(code, rng)
        path = folder / f"s{number:03d}" / EXERCISE.name
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
        files.append((f"s{number:03d}", path))
    return files


def main(students: int = 150) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = write_class(Path(tmp), students, random.Random(0))
        start = time.perf_counter()
        found = read_answers(files, COURSE / "solutions")
        read = time.perf_counter()
        pairs = similar_pairs(found.answers)
        compared = time.perf_counter()
        page = render_html(pairs, found, 0.9, {})
        rendered = time.perf_counter()
    print(f"{students} students, {len(found.answers)} answers compared, {len(pairs)} pairs listed")
    print(
        f"read and normalize {read - start:.2f} s, compare {compared - read:.2f} s, "
        f"page {rendered - compared:.2f} s ({len(page) / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 150)
