"""Papermill reruns of a real lesson: `course sweep` over the two-conv lesson in quick mode.

This is the instructor's workflow end to end (real MNIST, real kernels, the results table),
so it needs the real dataset (the `mnist_root` fixture: skipped where it is absent, except in CI).
"""

import pandas as pd
import pytest

from course_tools import cli
from course_utils.datafiles import repo_root

LESSON = repo_root() / "notebooks" / "04_two_conv_net.ipynb"
pytestmark = pytest.mark.usefixtures("mnist_root")


@pytest.mark.kernel
def test_quick_sweep_over_the_two_conv_lesson(tmp_path, capsys):
    # One real run (20 s) is enough here: the grid, parallel workers and resuming are tested on a toy
    # notebook in test_runner.py. It is the lesson's other network, n_conv=1: the default, n_conv=2,
    # runs in the lesson's own nbval run (notebooks/04_two_conv_net.ipynb), whose claim "the two-conv
    # network has 30,840 parameters" fails the cell otherwise. One worker, so the sweep never competes
    # with the test runner.
    out = tmp_path / "sweep"
    code = cli.main(["sweep", str(LESSON), "-p", "n_conv", "1", "--quick", "--workers", "1", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    results = pd.read_csv(out / "results.csv")
    assert list(results["n_conv"]) == [1]
    assert (results["status"] == "ok").all()
    assert results["quick"].all()
    assert results["test_accuracy"].between(0.5, 1.0).all()  # 1 epoch on 2,000 images
    assert set(results["n_parameters"]) == {85_320}
    assert (out / "figures" / "test_accuracy.png").stat().st_size > 5_000
    assert len(list(out.glob("*.ipynb"))) == 1
    assert "elapsed" in printed and "left" in printed


def test_wrong_parameter_is_refused_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["run", str(LESSON), "-p", "epochs", "ten", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "epochs is declared as int, but 'ten' is not a valid int" in err
    assert "batch_size" in err and "passes over the training set" in err  # lists the parameters
    assert not out.exists()
    assert cli.main(["sweep", str(LESSON), "-p", "n_conf", "1", "2", "--out", str(out)]) == 2
    assert "has no parameter 'n_conf'" in capsys.readouterr().err
    assert not out.exists()
