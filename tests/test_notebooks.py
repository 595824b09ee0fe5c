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
    """Lessons 1..N with no gap or repeat; the design card's five topics first, in order, with the
    fundamentals as lesson 2; each lesson in the README's table, with an exercise notebook."""
    numbers = [int(p.name[:2]) for p in LESSONS]
    assert numbers == list(range(1, len(LESSONS) + 1)), f"lesson numbers {numbers} have a gap or a repeat"
    topics = ["data_exploration", "shape_arithmetic", "two_conv_net", "ablations", "confusion_matrices"]
    # lesson 2 teaches the fundamentals the design card's topics rely on; the topics keep their order
    assert [p.stem[3:] for p in LESSONS[:6]] == topics[:1] + ["pixels_to_probabilities"] + topics[1:]
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


def is_check_cell(cell):
    return "course-check" in cell["metadata"].get("tags", [])


CHECK_MACHINERY = {"lesson_checks", "claim", "record"}  # `lesson_checks` and its methods


def reference_settings(call: ast.Call) -> dict:
    """The settings of ``REFERENCE = dict(...)``: its literal keywords, after any of course_utils' own
    settings it starts from (``dict(cu.experiments.LESSON4_RECIPE, quick=False)``)."""
    import functools

    import course_utils

    settings = {}
    for arg in call.args:
        first, *attributes = ast.unparse(arg).split(".")
        assert first == "cu", f"REFERENCE starts from {ast.unparse(arg)}: literals or cu.<module>.<NAME> only"
        settings.update(functools.reduce(getattr, attributes, course_utils))
    return settings | {k.arg: ast.literal_eval(k.value) for k in call.keywords}


def calls(cell):
    """Names of the functions a code cell calls (``f(...)`` and ``module.f(...)``)."""
    tree = ast.parse(source(cell))
    return {
        getattr(node.func, "id", getattr(node.func, "attr", None))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_reference_settings_are_the_defaults(path):
    """The settings a lesson's quoted numbers were measured with are its default parameters, and
    every lesson that checks claims names them (in a check cell, as ``REFERENCE = dict(...)``)."""
    nb = load(path)
    declared = {n: ast.literal_eval(p["default"]) for n, p in papermill.inspect_notebook(str(path)).items()}
    references = []
    for cell in code_cells(nb):
        for node in ast.walk(ast.parse(source(cell))):
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "REFERENCE":
                assert is_check_cell(cell), f"{path.name}: REFERENCE belongs in a hidden check cell"
                references.append(reference_settings(node.value))
    assert len(references) == 1, f"{path.name}: expected one REFERENCE = dict(...), found {len(references)}"
    for name, value in references[0].items():
        assert name in declared, f"{path.name}: REFERENCE names {name!r}, which is not a parameter"
        assert declared[name] == value, (
            f"{path.name}: REFERENCE says {name}={value!r} but the default is {declared[name]!r}"
        )
    assert "quick" in references[0], f"{path.name}: REFERENCE must include quick=False (a smoke run checks nothing)"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_check_machinery_is_out_of_the_students_way(path):
    """Claims are asserted and metrics recorded only in check cells: tagged ``course-check``,
    source collapsed, showing one line. No cell a student reads mentions nbval or REFERENCE."""
    nb = load(path)
    checks = [c for c in code_cells(nb) if is_check_cell(c)]
    assert checks, f"{path.name}: no check cell; assert the lesson's quoted numbers in a `course-check` cell"
    for index, cell in enumerate(nb["cells"]):
        where = f"{path.name}, cell {index}"
        if is_check_cell(cell):
            assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True, (
                f"{where}: check cell not collapsed"
            )
            assert "lesson_checks" in calls(cell), f"{where}: a check cell runs inside `with cu.lesson_checks(...)`"
            continue
        text = source(cell)
        assert "nbval" not in text.lower(), f"{where}: a student-visible cell mentions nbval"
        assert "REFERENCE" not in text, f"{where}: a student-visible cell mentions REFERENCE"
        if cell["cell_type"] == "code":
            machinery = calls(cell) & CHECK_MACHINERY
            assert not machinery, f"{where}: calls {sorted(machinery)}; move it into a `course-check` cell"


@pytest.mark.parametrize("name", ["06_confusion_matrices", "11_what_the_network_sees", "12_draw_your_own_digit"])
def test_lessons_that_reuse_lesson_4s_network_default_to_its_recipe(name):
    """These lessons load lesson 4's saved network when their training parameters match the settings it
    was saved with, else train one: their defaults are lesson 4's recipe (`LESSON4_RECIPE`, its one
    definition), and `fit`, which trains it, defaults to the recipe's schedule."""
    import inspect

    from course_utils.experiments import LESSON4_RECIPE
    from course_utils.training import fit

    path = REPO / "notebooks" / f"{name}.ipynb"
    code = "\n".join(source(cell) for cell in code_cells(load(path)))
    assert 'load_or_train("two_conv_net", data, settings' in code
    declared = {n: ast.literal_eval(p["default"]) for n, p in papermill.inspect_notebook(str(path)).items()}
    trained_with = ("epochs", "batch_size", "lr")
    assert {k: declared[k] for k in trained_with} == {k: LESSON4_RECIPE[k] for k in trained_with}
    assert inspect.signature(fit).parameters["schedule"].default == LESSON4_RECIPE["schedule"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_reads_like_a_textbook_page(path):
    nb = load(path)
    markdown = [source(c) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert "Learning objectives" in markdown[0] and "Time" in markdown[0]
    assert any("What we learned" in m for m in markdown[-2:]) and "Questions" in markdown[-1]
    assert nb["cells"][0]["cell_type"] == "markdown"


@pytest.mark.parametrize("path", LESSONS + SOLUTIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_ignored_outputs_are_a_minority_and_explained(path):
    """nbval compares every output except where a cell's output honestly varies; the reason lives in
    the cell's metadata (``course.output_varies``), out of the student's way, and is a sentence."""
    cells = code_cells(load(path))
    ignored = [c for c in cells if "nbval-ignore-output" in c["metadata"].get("tags", [])]
    assert len(ignored) <= len(cells) / 2, f"{path.name}: {len(ignored)} of {len(cells)} cells ignore their output"
    for cell in ignored:
        reason = cell["metadata"].get("course", {}).get("output_varies", "")
        assert len(reason.split()) >= 6, (
            f"{path.name}: an output-ignoring cell needs metadata course.output_varies saying why its output "
            f"varies (e.g. 'Timings vary from machine to machine'); cell starts:\n{source(cell)[:80]}"
        )


def test_the_readme_and_each_lesson_quote_the_same_run_time():
    """The README's table and the lesson's own header quote one measured time (`course run`), e.g. ~55 s."""
    readme = (REPO / "README.md").read_text()
    for lesson in LESSONS:
        row = re.search(
            rf"^\| \d+ \| \[[^]]+\]\(notebooks/{lesson.name}\) \|.*\| (~[\d.]+ (?:s|min))\*? \|$", readme, re.M
        )
        assert row, f"README's lesson table has no run time for {lesson.name}"
        header = source(load(lesson)["cells"][0])
        assert f"runs in {row.group(1)}" in header, (
            f"{lesson.name}: the README says it runs in {row.group(1)}; its header must say `runs in {row.group(1)}`"
        )


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_students_get_two_or_three_your_turn_cells_each_with_a_check(path):
    """Neuromatch-style "your turn" cells: the prose asks, the next code cell works as committed and
    ends with a visible check (``check_*`` from course_utils.checks) that tests what the student changes."""
    cells = load(path)["cells"]
    turns = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "**Your turn.**" in source(c)]
    assert 2 <= len(turns) <= 4, f"{path.name}: {len(turns)} '**Your turn.**' cells; a lesson has 2-3"
    for index in turns:
        following = next((c for c in cells[index + 1 :] if c["cell_type"] == "code"), None)
        assert following is not None and not is_check_cell(following), f"{path.name}, cell {index}: no code follows"
        checks = {name for name in calls(following) if name and name.startswith("check_")}
        assert checks, f"{path.name}, cell {index}: the 'your turn' code cell ends without a visible check_* call"
        where = f"{path.name}, the your-turn code cell after cell {index}"
        assert following["metadata"].get("course", {}).get("your_turn"), (
            f"{where}: give it metadata course.your_turn, one sentence saying what the student does"
        )
        # It ships unanswered: a placeholder the student replaces, and `your_turn` saying so in the output.
        assert "your_turn" in calls(following), f"{where}: guard its check with `if your_turn(name=name):`"
        printed = "".join(
            "".join(o.get("text", "")) for o in following.get("outputs", []) if o["output_type"] == "stream"
        )
        assert "✏️  Your turn" in printed, f"{where}: it ships answered; put a placeholder (None) where the answer goes"


MAX_VISIBLE_LINES = 25


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_visible_code_is_short_unless_it_is_the_lesson_subject(path):
    """Plumbing (figures, input checks, bookkeeping) lives in course_utils; a long visible cell is
    allowed only where its code is what the lesson teaches, said in metadata course.subject."""
    for index, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] != "code" or cell["metadata"].get("jupyter", {}).get("source_hidden"):
            continue
        lines = sum(1 for line in source(cell).splitlines() if line.strip())
        subject = cell["metadata"].get("course", {}).get("subject", "")
        assert lines <= MAX_VISIBLE_LINES or len(subject.split()) >= 5, (
            f"{path.name}, cell {index}: {lines} visible lines; move plotting or bookkeeping into course_utils, "
            "or say in metadata course.subject why this code is the lesson's subject"
        )


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_question_has_a_collapsed_worked_answer(path):
    """ "Questions to think about" ends each lesson; each numbered question is followed by its answer in a
    closed <details> block, which JupyterLab, Colab and the site all render folded (markdown inside needs
    the blank lines)."""
    text = source(load(path)["cells"][-1])
    questions = text[text.index("Questions to think about") :]
    numbered = re.findall(r"^\d+\. ", questions, re.M)
    blocks = re.findall(r"<details>\s*<summary>Answer</summary>\n\s*\n(.+?)\n\s*\n\s*</details>", questions, re.S)
    assert numbered, f"{path.name}: no numbered questions"
    assert len(blocks) == len(numbered) == questions.count("<details>"), (
        f"{path.name}: {len(numbered)} questions, {len(blocks)} well-formed answers "
        "(<details><summary>Answer</summary>, a blank line, the answer, a blank line, </details>)"
    )
    parts = re.split(r"^\d+\. ", questions, flags=re.M)[1:]
    for number, part in enumerate(parts, start=1):
        assert part.count("<details>") == 1, f"{path.name}: question {number} needs exactly one answer after it"
        answer = part[part.index("</summary>") : part.index("</details>")]
        assert len(answer.split()) >= 15, f"{path.name}: question {number}'s answer is too short to be worked"


def test_lesson_1_says_what_the_recheck_line_means():
    """The check cells' one line appears in every lesson; lesson 1, where it first appears, says what it means."""
    cells = load(LESSONS[0])["cells"]
    first = next(i for i, c in enumerate(cells) if is_check_cell(c))
    nearby = " ".join(source(c) for c in cells[max(0, first - 3) : first + 3] if c["cell_type"] == "markdown")
    assert "re-checked" in nearby and "collapsed" in nearby, (
        "lesson 1 must explain the '✅ the numbers quoted above were re-checked' line next to its first check cell"
    )
