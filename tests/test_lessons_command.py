"""course lessons: authors re-execute committed notebooks in place, from a fresh kernel."""

import nbformat
import pytest

from course_tools import cli


def test_missing_notebook_is_refused(tmp_path, capsys):
    assert cli.main(["lessons", str(tmp_path / "nope.ipynb")]) == 2
    assert "no notebook at" in capsys.readouterr().err


@pytest.mark.kernel
def test_executes_in_place_in_order_and_drops_volatile_metadata(tmp_path):
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 20"), nbformat.v4.new_code_cell("print(x + 1)")]
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells[1].execution_count = 7  # stale, from an earlier run
    path = tmp_path / "lesson.ipynb"
    nbformat.write(notebook, path)
    assert cli.main(["lessons", str(path)]) == 0
    executed = nbformat.read(path, as_version=4)
    assert [c.execution_count for c in executed.cells] == [1, 2]
    assert executed.cells[1].outputs[0].text == "21\n"
    assert all("execution" not in c.metadata for c in executed.cells)


@pytest.mark.kernel
def test_a_failing_notebook_keeps_its_source_and_leaves_the_partial_run_aside(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # course_folder("build") is ./build when the folder exists here
    (tmp_path / "build").mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(notebook, path)
    before = path.read_bytes()
    assert cli.main(["lessons", str(path), str(path)]) == 1  # stops at the first failure
    assert "was left as it was: ZeroDivisionError: division by zero" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert (tmp_path / "build" / "failed" / "broken.ipynb").exists()
