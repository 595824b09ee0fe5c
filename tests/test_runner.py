"""course run / params / sweep: parameters checked before running, failures reported, sources untouched.

The sweep here runs on a local Dask cluster (the default); tests/test_dask_cluster.py covers a
scheduler and workers started separately, a worker killed mid-sweep and grading on them.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from course_tools import cli
from course_tools.runner import ParameterError, convert_value, validate_parameters
from course_tools.sweep import grid, plot_sweep, run_id, run_sweep


def make_notebook(path: Path, body: str) -> Path:
    """A small notebook with a typed parameters cell and a body that records a metric."""
    params = nbformat.v4.new_code_cell(
        "seed: int = 0  # random seed\nepochs: int = 2  # passes over the data\n"
        'lr: float = 0.1  # learning rate\nquick: bool = False  # smoke run\nname: str = "x"  # a label'
    )
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def good(tmp_path):
    return make_notebook(
        tmp_path / "good.ipynb",
        "from course_utils import lesson_checks\n"
        "if seed == 13: raise ValueError('unlucky seed')\n"
        "with lesson_checks() as checks:\n"
        "    checks.record('score', seed * 10 + epochs + (0.5 if quick else 0.0))",
    )


@pytest.fixture
def bad(tmp_path):
    return make_notebook(tmp_path / "bad.ipynb", "1 / 0")


@pytest.mark.parametrize(
    "text,type_name,value",
    [
        ("3", "int", 3),
        ("1e-3", "float", 0.001),
        ("true", "bool", True),
        ("0", "bool", False),
        ("None", "Optional[int]", None),
        ("none", "Optional[int]", None),
        ("18000", "Optional[int]", 18000),
        ("abc", "str", "abc"),
    ],
)
def test_convert_value(text, type_name, value):
    assert convert_value("p", text, type_name) == value


def test_wrong_type_and_unknown_name_list_the_parameters(good):
    with pytest.raises(
        ParameterError, match=r"epochs is declared as int, but 'ten' is not a valid int(.|\n)*seed +int +default 0"
    ):
        validate_parameters(good, {"epochs": "ten"})
    with pytest.raises(ParameterError, match=r"has no parameter 'epoch'(.|\n)*epochs +int"):
        validate_parameters(good, {"epoch": "3"})
    assert validate_parameters(good, {"lr": "0.5", "quick": "yes"}) == {"lr": 0.5, "quick": True}


def test_course_run_refuses_bad_parameters_before_running(good, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", str(good), "-p", "epochs", "ten", "--out", str(out)]) == 2
    assert "not a valid int" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.kernel
def test_course_run_reports_failures_and_keeps_going(good, bad, tmp_path, capsys):
    before = {p: p.read_bytes() for p in (good, bad)}
    out = tmp_path / "out"
    code = cli.main(["run", str(bad), str(good), "-p", "epochs", "5", "--quick", "--out", str(out)])
    assert code == 1
    summary = json.loads((out / "summary.json").read_text())
    assert [s["status"] for s in summary] == ["failed", "ok"]
    assert "ZeroDivisionError" in summary[0]["error"] and "cell" in summary[0]["error"]
    assert summary[1]["metrics"] == {"score": 5.5}
    assert summary[1]["parameters"] == {"seed": 0, "epochs": 5, "lr": 0.1, "quick": True, "name": "x"}
    assert (out / "good.ipynb").exists()
    assert {p: p.read_bytes() for p in (good, bad)} == before  # sources never touched
    printed = capsys.readouterr().out
    assert "score=5.5" in printed and "FAILED bad.ipynb" in printed


def test_grid_and_run_ids():
    runs = grid({"n_conv": [1, 2], "seed": [0, 1, 2]})
    assert len(runs) == 6 and runs[0] == {"n_conv": 1, "seed": 0}
    assert run_id({"n_conv": 1, "lr": 0.001}) == "n_conv=1__lr=0.001"


@pytest.mark.kernel
def test_sweep_rows_failures_and_resume(good, tmp_path):
    out = tmp_path / "sweep"
    environ = dict(os.environ)
    table = run_sweep(good, {"epochs": ["1", "2"], "seed": ["0", "13"]}, out, workers=2, echo=lambda m: None)
    assert dict(os.environ) == environ  # the runs' threads went to their kernels, not to this process
    assert len(table) == 4
    assert set(table["status"]) == {"ok", "failed"}
    failed = table[table["status"] == "failed"]
    assert (failed["seed"] == 13).all() and failed["error"].str.contains("unlucky seed").all()
    assert sorted(table.loc[table["status"] == "ok", "score"]) == [1, 2]
    assert pd.read_csv(out / "results.csv").shape[0] == 4
    finished = sorted(p.stat().st_mtime_ns for p in out.glob("*seed=0.json"))
    messages = []
    run_sweep(good, {"epochs": ["1", "2"], "seed": ["0", "13"]}, out, workers=1, echo=messages.append)
    assert "resuming: 2 of 4" in messages[0]
    assert sorted(p.stat().st_mtime_ns for p in out.glob("*seed=0.json")) == finished  # not re-run
    figures = plot_sweep(table, ["epochs", "seed"], out)
    assert [f.name for f in figures] == ["score.png"] and figures[0].stat().st_size > 1000


def test_sweep_refuses_a_wrong_value_before_running(good, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert cli.main(["sweep", str(good), "-p", "seed", "0", "one", "--out", str(out)]) == 2
    assert "not a valid int" in capsys.readouterr().err
    assert not out.exists()  # refused before anything ran or was created


def test_params_command_lists_types_and_help(good, capsys):
    assert cli.main(["params", str(good)]) == 0
    out = capsys.readouterr().out
    assert "epochs" in out and "int" in out and "passes over the data" in out


@pytest.mark.kernel
def test_a_parameter_applies_to_the_notebooks_that_declare_it_and_no_kernel_warns(good, tmp_path, capfd):
    other = tmp_path / "other.ipynb"
    nb = nbformat.read(str(good), as_version=4)
    nb.cells[0].source = "seed: int = 0  # random seed"
    nb.cells[
        1
    ].source = (
        "from course_utils import lesson_checks\nwith lesson_checks() as checks:\n    checks.record('seed', seed)"
    )
    nbformat.write(nb, str(other))
    out = tmp_path / "out"
    assert cli.main(["run", str(good), str(other), "-p", "epochs", "3", "-p", "seed", "2", "--out", str(out)]) == 0
    captured = capfd.readouterr()  # the kernels write to the terminal directly, not via Python
    assert "other.ipynb has no parameter epochs" in captured.out
    assert "without encryption" not in captured.err + captured.out  # no kernel transport warning
    summary = json.loads((out / "summary.json").read_text())
    assert summary[0]["metrics"] == {"score": 23} and summary[1]["metrics"] == {"seed": 2}
    assert cli.main(["run", str(good), str(other), "-p", "epoch", "3", "--out", str(out)]) == 2


# The adopter makes itself a subreaper (as a CI runner or a container's init may be), forks a
# "sweep worker" that starts a kernel and reports its pid, kills that worker at once (before the
# kernel can have started its own parent check), and waits for the kernel to go.
ORPHAN_SCRIPT = """
import asyncio, ctypes, os, signal, sys, time

ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans below come here
read_end, write_end = os.pipe()
worker = os.fork()
if worker == 0:
    from course_tools.runner import child_environment, kernel_manager

    manager = kernel_manager(child_environment(1))(kernel_name="python3")
    asyncio.run(manager.start_kernel())
    os.write(write_end, f"{manager.provisioner.pid}\\n".encode())
    time.sleep(60)
    os._exit(0)
kernel = int(os.read(read_end, 100))
os.kill(worker, signal.SIGKILL)
deadline = time.monotonic() + 15
while time.monotonic() < deadline:
    try:
        os.waitpid(-1, os.WNOHANG)  # reap what we adopted
    except ChildProcessError:
        pass
    if not os.path.exists(f"/proc/{kernel}"):
        sys.exit(0)
    time.sleep(0.1)
os.kill(kernel, signal.SIGKILL)
sys.exit("the kernel outlived the process that started it")
"""


@pytest.mark.kernel
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_killed_worker_leaves_no_kernel_even_where_a_subreaper_adopts_it():
    adopter = subprocess.run([sys.executable, "-c", ORPHAN_SCRIPT], capture_output=True, text=True, timeout=90)
    assert adopter.returncode == 0, adopter.stderr[-2000:]
