"""Every lesson and solution figure says what it shows (issue 27): descriptions in cell metadata, in
the outputs, in the exercises made from the solutions, in JupyterLab, and where the test run leaves
them out (nbval).

The site's ``<img alt>`` is tested in test_site.py. Writing the descriptions is an author's job;
what these tests hold is that none is missing or bad (a file name, "Figure 3", a few words) and
that the committed outputs carry what the cells say.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import nbformat
import pytest
from conftest import PYTEST

from course_tools import alt_text
from course_utils import figure_alt

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))
SOLUTIONS = sorted((REPO / "solutions").glob("[0-9]*.ipynb"))
NOTEBOOKS = LESSONS + SOLUTIONS  # a solution's figures are on the site and in JupyterLab as a lesson's are
IDS = [f"{p.parent.name}/{p.stem}" for p in NOTEBOOKS]
PNG = base64.b64encode(  # a 1x1 PNG
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
    )
).decode()
GOOD = "Training and validation loss per epoch: both fall, and the gap between them stays under 0.02."
OTHER = 'Ten 5x5 filters of the first layer; most look like stroke detectors ("edges"), light on one side.'


def figure_cell(n: int = 1, alts=None, source: str = "fig = plot()"):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure size 640x480>"})
        for _ in range(n)
    ]
    if alts is not None:
        cell.metadata["course"] = {"alt": alts}
    return cell


# ---------------------------------------------------------------------------- the course's lessons and solutions
@pytest.mark.parametrize("lesson", NOTEBOOKS, ids=IDS)
def test_every_lesson_figure_has_a_description(lesson):
    found = alt_text.problems(nbformat.read(lesson, as_version=4))
    assert not found, f"{lesson.name}: figures without a good description:\n" + "\n".join(found)


@pytest.mark.parametrize("lesson", NOTEBOOKS, ids=IDS)
def test_the_committed_outputs_carry_the_descriptions(lesson):
    notebook = nbformat.read(lesson, as_version=4)
    before = json.dumps(notebook, sort_keys=True)
    alt_text.apply_alt(notebook)
    where = f"{lesson.parent.name}/{lesson.name}"
    assert json.dumps(notebook, sort_keys=True) == before, (
        f"{where}: its outputs lag behind its cells' descriptions: run `course alt {where}`"
    )


def test_the_solutions_figures_are_found_and_described():
    """The solutions draw figures (about twenty); each one's words reach its output."""
    figures = [
        (solution.name, output)
        for solution in SOLUTIONS
        for cell in nbformat.read(solution, as_version=4).cells
        for output, mime in alt_text.image_outputs(cell)
    ]
    assert len(figures) >= 15, f"only {len(figures)} figures in solutions/: did the outputs go?"
    for name, output in figures:
        assert figure_alt.is_twin(output["data"].get("text/html", "")), f"{name}: a figure without its HTML copy"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_an_exercise_keeps_its_solutions_words_as_the_solutions(solution):
    """No outputs in an exercise, but the kernel describes a student's figure from them: say whose figure."""
    from course_tools.notebook_transforms import SOLUTION_ALT, make_exercise

    source = nbformat.read(solution, as_version=4)
    exercise = make_exercise(source, solution.name)
    for ours, theirs in zip(source.cells, exercise.cells, strict=True):
        alts = alt_text.cell_alts(ours)
        assert alt_text.cell_alts(theirs) == (None if alts is None else [SOLUTION_ALT + a for a in alts])
        assert not alt_text.image_outputs(theirs)
    committed = REPO / "exercises" / solution.name
    if committed.is_file():  # exercises/ in step with solutions/ is test_exercises.py's
        described = [alt_text.cell_alts(c) for c in nbformat.read(committed, as_version=4).cells]
        assert described == [alt_text.cell_alts(c) for c in exercise.cells], "run `course exercises`"


# ---------------------------------------------------------------------------- what a good description is
@pytest.mark.parametrize(
    "text, why",
    [
        (None, "is empty"),
        ("   ", "is empty"),
        ("output_12_0.png", "too short"),
        ("a9f3c2e1d0b4a9f3c2e1d0b4a9f3c2e1d0b4a9f3c2e1d0b4.png", "a file name"),
        ("Figure 3: the training loss of the network, per epoch of training", '"Figure 3"'),
        ("Fig. 2 shows the loss curve of the two networks during training", '"Figure 3"'),
        ("A plot of the loss.", "too short"),
        ("An image of the loss curves of the two networks, training and validation", 'starts with "image of"'),
        ("TODO: describe this figure once the lesson's numbers are final", "placeholder"),
        ("<Figure size 640x480 with 1 Axes> and some more words to be long", "placeholder"),
        ("word " * 150, "too long"),
    ],
)
def test_bad_descriptions_are_named(text, why):
    problem = alt_text.alt_problem(text)
    assert problem is not None and why in problem, problem


@pytest.mark.parametrize("text", [GOOD, OTHER, "Test image 0, a 7, drawn in 28x28 pixels with a tick every 4 pixels."])
def test_good_descriptions_pass(text):
    assert alt_text.alt_problem(text) is None


def test_problems_name_each_slip_with_its_cell():
    notebook = nbformat.v4.new_notebook(
        cells=[
            figure_cell(1, None, "fig = show_images(x)"),  # no description
            figure_cell(2, [GOOD]),  # one too few
            figure_cell(1, "a string, not a list"),
            figure_cell(1, [GOOD], "fig = again()"),  # the same words twice
            figure_cell(0, [OTHER], "x = 1"),  # words left behind by a figure that went away
            nbformat.v4.new_markdown_cell("![pad](figures/pad.png) and ![" + OTHER + "](figures/ok.png)"),
            nbformat.v4.new_markdown_cell('<img src="figures/b.png" alt="figures/b.png">'),
        ]
    )
    found = alt_text.problems(notebook)
    expected = [
        "cell 0 ('fig = show_images(x)'): 1 figure(s) and no description",
        "cell 1 ('fig = plot()'): 2 figure(s) but 1 description(s)",
        "cell 2 ('fig = plot()'): course.alt must be a list",
        "cell 3 ('fig = again()'): description 1 repeats that of cell 1",
        "cell 4 ('x = 1'): 0 figure(s) but 1 description(s)",
        "cell 5 ('![pad](figures/pad.png)",
        'cell 6 (\'<img src="figures/b.png"',
    ]
    assert len(found) == len(expected), found
    for problem, start in zip(found, expected, strict=True):
        assert problem.startswith(start), (problem, start)
    assert "figures/pad.png's alt text is too short" in found[5]
    assert alt_text.problems(nbformat.v4.new_notebook(cells=[figure_cell(2, [GOOD, OTHER])])) == []


# ---------------------------------------------------------------------------- copying into the outputs
def test_apply_alt_writes_metadata_and_an_html_copy_and_is_idempotent():
    notebook = nbformat.v4.new_notebook(
        cells=[figure_cell(2, [GOOD, 'A "quoted" <b>tag</b> & more words here, enough.'])]
    )
    assert alt_text.apply_alt(notebook) == 2
    first, second = notebook.cells[0].outputs
    assert first.metadata["image/png"]["alt"] == GOOD
    assert first.data["text/html"] == f'<img class="course-figure" src="data:image/png;base64,{PNG}" alt="{GOOD}">'
    assert 'alt="A &quot;quoted&quot; &lt;b&gt;tag&lt;/b&gt; &amp; more' in second.data["text/html"]
    assert first.data["image/png"] == PNG and first.data["text/plain"]  # the PNG stays
    again = json.dumps(notebook, sort_keys=True)
    alt_text.apply_alt(notebook)
    assert json.dumps(notebook, sort_keys=True) == again

    del notebook.cells[0].metadata["course"]  # a description taken away takes its copy with it
    assert alt_text.apply_alt(notebook) == 0
    assert set(first.data) == {"image/png", "text/plain"} and "image/png" not in first.metadata


def test_the_html_copy_keeps_a_retina_figures_size():
    cell = figure_cell(1, [GOOD])
    cell.outputs[0].metadata = {"image/png": {"width": 400, "height": 300}}
    alt_text.apply_alt(nbformat.v4.new_notebook(cells=[cell]))
    assert cell.outputs[0].data["text/html"].endswith(' width="400" height="300">')


def test_course_alt_command_writes_only_what_changed(tmp_path, capsys):
    from course_tools import cli

    folder = tmp_path / "notebooks"
    folder.mkdir()
    good, bad = folder / "01_good.ipynb", folder / "02_bad.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[figure_cell(1, [GOOD])]), good)
    nbformat.write(nbformat.v4.new_notebook(cells=[figure_cell(1, None)]), bad)
    assert cli.main(["alt", str(good)]) == 0
    assert "text/html" in nbformat.read(good, as_version=4).cells[0].outputs[0].data
    written = good.stat().st_mtime_ns
    assert cli.main(["alt", str(good)]) == 0 and good.stat().st_mtime_ns == written  # nothing changed: not written
    assert cli.main(["alt", str(bad)]) == 1
    assert "no description" in capsys.readouterr().err
    assert cli.main(["alt", str(folder / "missing.ipynb")]) == 2
    for name, status in [("solutions", 1), ("exercises", 0)]:  # a solution's figure needs words too, an exercise's not
        (tmp_path / name).mkdir()
        nbformat.write(nbformat.v4.new_notebook(cells=[figure_cell(1, None)]), tmp_path / name / "01_x.ipynb")
        assert cli.main(["alt", str(tmp_path / name / "01_x.ipynb")]) == status, name


# ---------------------------------------------------------------------------- the kernel (a live run)
class FakeKernel:
    def __init__(self, cell_id):
        self.cell_id = cell_id

    def get_parent(self, channel):
        return {"metadata": {"cellId": self.cell_id}} if self.cell_id else {}


class FakeShell:
    def __init__(self, path, cell_id):
        self.kernel, self.user_ns = FakeKernel(cell_id), {"__session__": str(path)}


def message(kind="display_data", request="run-1", data=None):
    data = {"image/png": PNG, "text/plain": "<Figure>"} if data is None else data
    return {"header": {"msg_type": kind}, "parent_header": {"msg_id": request}, "content": {"data": data}}


def test_the_kernel_describes_a_described_cells_figures_in_order(tmp_path):
    cell = figure_cell(0, [GOOD, OTHER])
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    shell = FakeShell(path, cell.id)
    sent = [figure_alt.describe(message(), shell) for _ in range(3)]
    assert [m["content"]["metadata"]["image/png"]["alt"] for m in sent[:2]] == [GOOD, OTHER]
    assert (
        figure_alt.is_twin(sent[0]["content"]["data"]["text/html"])
        and "stroke detectors (&quot;edges&quot;)" in sent[1]["content"]["data"]["text/html"]
    )
    assert "text/html" not in sent[2]["content"]["data"]  # a third figure: no words for it
    figure_alt.describe(message("clear_output"), shell)  # a cleared output area starts again
    assert figure_alt.describe(message(), shell)["content"]["metadata"]["image/png"]["alt"] == GOOD
    assert figure_alt.describe(message(request="run-2"), shell)["content"]["data"]["text/html"].endswith(
        f'alt="{GOOD}">'
    )


@pytest.mark.parametrize(
    "shell",
    [
        FakeShell("/nowhere/lesson.ipynb", "abc"),  # no such notebook
        FakeShell("", "abc"),  # not started by JupyterLab: no __session__
        FakeShell(REPO / "notebooks" / "01_data_exploration.ipynb", None),  # no cell id (nbval, papermill)
        object(),  # anything else
    ],
)
def test_the_kernel_never_fails_a_students_run(shell):
    sent = figure_alt.describe(message(request="other"), shell)
    assert set(sent["content"]["data"]) == {"image/png", "text/plain"}
    assert figure_alt.describe({"not": "a message"}, shell) == {"not": "a message"}


# ---------------------------------------------------------------------------- nbval
@pytest.mark.kernel
def test_nbval_compares_a_described_notebook_without_its_html_copies(tmp_path):
    """The committed copies are not what a test kernel sends; the plugin leaves them out of the comparison."""
    from nbclient import NotebookClient

    source = "import course_utils\nimport matplotlib.pyplot as plt\n\nfig, ax = plt.subplots(figsize=(2, 2))"
    cell = nbformat.v4.new_code_cell(source)  # the kernel shows the figure as a lesson's: at the cell's end
    cell.metadata["course"] = {"alt": [GOOD]}
    notebook = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell("print('done')")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(notebook, kernel_name="python3").execute()
    assert alt_text.apply_alt(notebook) == 1
    nbformat.write(notebook, tmp_path / "described.ipynb")

    def nbval(*options):
        command = [*PYTEST, "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO)]
        command += ["-p", "no:xdist", "--nbval", "--nbval-current-env", "-q", *options, str(tmp_path)]
        return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)

    passed = nbval()
    assert passed.returncode == 0, passed.stdout[-3000:]
    without = nbval("-o", "addopts=-p no:cacheprovider")  # the plugin left out
    assert without.returncode != 0 and "text/html" in without.stdout, without.stdout[-3000:]
