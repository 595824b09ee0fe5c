"""Structure of the committed notebooks: executed in order, typed parameters, honest claims.

nbval (run by `make test`) re-executes the notebooks; these tests check what nbval cannot:
that the stored outputs came from one clean run, and that every lesson follows the course's
conventions, so papermill and `course run` can drive it.
"""

import ast
import json
import re
from pathlib import Path

import papermill
import pytest

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))
SOLUTIONS = sorted((REPO / "solutions").glob("[0-9]*.ipynb"))
STANDARD_NAMES = {"seed", "epochs", "batch_size", "lr", "train_size", "device", "quick", "n_conv"}


def load(path):
    return json.loads(path.read_text())


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_every_lesson_is_numbered_in_order_listed_and_has_its_exercises():
    """Lessons 1..N with no gap or repeat; the design card's five topics first, in order; each lesson
    in the README's table and with an exercise notebook generated from its solution."""
    numbers = [int(p.name[:2]) for p in LESSONS]
    assert numbers == list(range(1, len(LESSONS) + 1)), f"lesson numbers {numbers} have a gap or a repeat"
    topics = ["data_exploration", "shape_arithmetic", "two_conv_net", "ablations", "confusion_matrices"]
    assert [p.stem[3:] for p in LESSONS[:5]] == topics
    readme = (REPO / "README.md").read_text()
    for number, lesson in enumerate(LESSONS, start=1):
        assert re.search(rf"^\| {number} \| \[[^]]+\]\(notebooks/{lesson.name}\)", readme, re.M), (
            f"README's lesson table has no row {number} linking {lesson.name}"
        )
        exercise = f"{lesson.stem}_exercises.ipynb"
        assert (REPO / "solutions" / exercise).exists() and (REPO / "exercises" / exercise).exists(), exercise


@pytest.mark.parametrize("path", LESSONS + SOLUTIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_executed_in_order_from_a_fresh_kernel_without_errors(path):
    nb = load(path)
    counts = [c["execution_count"] for c in code_cells(nb)]
    assert None not in counts, f"{path.name}: some cells were never executed; run `make lessons`"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..n; re-execute it with `make lessons`"
    )
    errors = [o for c in code_cells(nb) for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, f"{path.name}: a stored output is an error: {errors[0]['ename']}"


@pytest.mark.parametrize("path", LESSONS + SOLUTIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_first_code_cell_holds_typed_documented_parameters(path):
    nb = load(path)
    first = code_cells(nb)[0]
    assert "parameters" in first["metadata"].get("tags", []), f"{path.name}: first code cell is not tagged 'parameters'"
    lines = [text for text in source(first).splitlines() if text.strip()]
    if lines[0] == "from typing import Optional":  # papermill reads Optional[int], not int | None
        lines = lines[1:]
    for line in lines:
        statement = ast.parse(line).body[0]
        assert isinstance(statement, ast.AnnAssign), f"{path.name}: {line!r} is not `name: type = value`"
        ast.literal_eval(statement.value)  # literals only
        assert "#" in line, f"{path.name}: {line!r} has no help comment"
    declared = papermill.inspect_notebook(str(path))
    assert len(declared) == len(lines), f"{path.name}: papermill cannot read every parameter"
    assert "quick" in declared and "seed" in declared


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_reference_settings_are_the_defaults(path):
    """The settings a lesson's quoted numbers were measured with are its default parameters."""
    nb = load(path)
    declared = {n: ast.literal_eval(p["default"]) for n, p in papermill.inspect_notebook(str(path)).items()}
    for cell in code_cells(nb):
        for node in ast.walk(ast.parse(source(cell))):
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "REFERENCE":
                reference = {k.arg: ast.literal_eval(k.value) for k in node.value.keywords}
                for name, value in reference.items():
                    assert declared.get(name) == value, (
                        f"{path.name}: REFERENCE says {name}={value!r} but the default is {declared.get(name)!r}"
                    )


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_reads_like_a_textbook_page(path):
    nb = load(path)
    markdown = [source(c) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert "Learning objectives" in markdown[0] and "Time" in markdown[0]
    assert any("What we learned" in m for m in markdown[-2:]) and "Questions" in markdown[-1]
    assert nb["cells"][0]["cell_type"] == "markdown"


@pytest.mark.parametrize("path", LESSONS + SOLUTIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_ignored_outputs_are_a_minority_and_explained(path):
    cells = code_cells(load(path))
    ignored = [c for c in cells if "nbval-ignore-output" in c["metadata"].get("tags", [])]
    assert len(ignored) <= len(cells) / 2, f"{path.name}: {len(ignored)} of {len(cells)} cells ignore their output"
    for cell in ignored:
        first_line = source(cell).strip().split("\n")[0]
        # The reason comes first, in words: "# Timings vary from machine to machine, so nbval ..."
        assert first_line.startswith("#") and len(first_line[1:].split()) >= 6, (
            f"{path.name}: an ignored cell must open with a comment saying why its output varies:\n{first_line}"
        )
