"""Sweeps a researcher can trust: stale runs rerun (or kept on purpose, marked), every swept factor
shown, 95% intervals computed right, bad folders and records refused in one line, runs in MLflow.

The notebooks here are tiny (a parameters cell and one that records a metric): what costs time is
starting a Dask cluster and a kernel per run, so each test sweeps two runs at most, and the sweeps
share one local cluster (`one_cluster`) instead of starting one each (a sweep starting its own local
cluster is tests/test_runner.py's).
"""

import json
import math
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from scipy import stats
from test_runner import make_notebook

from course_tools import cli
from course_tools.provenance import git_commit
from course_tools.sweep import SweepFolderError, run_sweep
from course_tools.sweep_report import draw_metric, format_summary, layout, plot_sweep, summarize, t_interval

REPO = Path(__file__).resolve().parents[1]
BODY = (
    "from course_utils import lesson_checks\n"
    "with lesson_checks() as checks:\n"
    "    checks.record('score', seed * 10 + epochs + lr)"
)


@pytest.fixture(scope="module")
def local_cluster():
    """One local Dask cluster of one worker, for every sweep of this file."""
    from course_tools.cluster import dask_client

    with dask_client(None, workers=1, echo=lambda message: None) as client:
        yield client


@pytest.fixture
def one_cluster(local_cluster, monkeypatch):
    """Sweeps run on `local_cluster` instead of starting a cluster of their own (3-4 s each, most of what
    a sweep of two tiny runs costs); what they do on it is unchanged."""
    from contextlib import contextmanager

    import course_tools.sweep

    @contextmanager
    def shared(address=None, workers=1, echo=print):
        assert address is None, "these sweeps run on the local cluster"
        yield local_cluster

    monkeypatch.setattr(course_tools.sweep, "dask_client", shared)


@pytest.fixture
def notebook(tmp_path):
    return make_notebook(tmp_path / "tiny.ipynb", BODY)


def sweep(notebook, out, **kw):
    messages = []
    table = run_sweep(notebook, {"seed": ["0", "1"]}, out, echo=messages.append, **kw)
    return table, messages


def mtimes(out):
    return {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}


def edit_code(notebook, new_body):
    nb = nbformat.read(str(notebook), as_version=4)
    nb.cells[1].source = new_body
    nbformat.write(nb, str(notebook))


@pytest.mark.kernel
@pytest.mark.usefixtures("one_cluster")
def test_a_changed_notebook_reruns_its_runs_and_the_same_one_none(notebook, tmp_path):
    out = tmp_path / "sweep"
    table, _ = sweep(notebook, out)
    assert list(table["score"]) == [2.1, 12.1] and not table["stale"].any()
    record = json.loads((out / "seed=0.json").read_text())
    parts = record["fingerprint"]["parts"]
    assert set(parts) == {"notebook code", "course_utils", "libraries", "parameters"}
    assert parts["libraries"]["torch"] and parts["parameters"] == {
        "epochs": 2,
        "lr": 0.1,
        "name": "x",
        "quick": False,
        "seed": 0,
    }
    assert {"git commit", "cpu", "gpu", "threads", "started", "ended", "host"} <= set(record["provenance"])
    before = mtimes(out)

    _, messages = sweep(notebook, out)  # the same notebook: nothing reruns
    assert mtimes(out) == before and "resuming: 2 of 2" in messages[0] and len(messages) == 1

    nb = nbformat.read(str(notebook), as_version=4)  # prose is not code: nothing reruns
    nb.cells.append(nbformat.v4.new_markdown_cell("A note added later."))
    nbformat.write(nb, str(notebook))
    sweep(notebook, out)
    assert mtimes(out) == before

    edit_code(notebook, BODY.replace("+ lr", "+ 2 * lr"))
    table, messages = sweep(notebook, out, reuse_stale=True)  # kept on purpose, and marked
    assert mtimes(out) == before and table["stale"].all() and list(table["score"]) == [2.1, 12.1]
    assert any("--reuse-stale: keeping 2 runs" in m and "notebook code (2)" in m for m in messages)
    assert pd.read_csv(out / "summary.csv")["stale"].tolist() == [2]

    table, messages = sweep(notebook, out)
    assert any(m.startswith("rerunning 2 finished runs because something changed: notebook code (2)") for m in messages)
    assert list(table["score"]) == [2.2, 12.2] and not table["stale"].any()
    assert all(mtimes(out)[name] > before[name] for name in before)


def test_a_folder_of_another_notebooks_runs_is_refused_and_kept(notebook, tmp_path):
    out = tmp_path / "sweep"
    out.mkdir()
    other = {"run": "seed=0", "notebook": "/x/04_two_conv_net.ipynb", "status": "ok"}
    (out / "seed=0.json").write_text(json.dumps(other))
    with pytest.raises(SweepFolderError, match="holds 1 run.s. of /x/04_two_conv_net.ipynb, not of /.*/tiny.ipynb"):
        sweep(notebook, out)
    assert json.loads((out / "seed=0.json").read_text()) == other  # nothing lost
    same_name = other | {"notebook": "tiny.ipynb", "notebook path": "/elsewhere/tiny.ipynb"}
    (out / "seed=0.json").write_text(json.dumps(same_name))  # another file of the same name
    with pytest.raises(SweepFolderError, match="run.s. of /elsewhere/tiny.ipynb"):
        sweep(notebook, out)


@pytest.mark.kernel
@pytest.mark.usefixtures("one_cluster")
def test_a_record_edited_into_nonsense_is_put_aside_in_one_line_and_rerun(notebook, tmp_path):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "seed=0.json").write_text('{"status": "ok", "metrics": [1, 2')  # cut short
    (out / "seed=1.json").write_text(json.dumps({"status": "ok", "run": "seed=1", "metrics": "lots"}))
    table, messages = sweep(notebook, out)
    said = [m for m in messages if "is not a run record" in m]
    assert len(said) == 2 and "metrics" in said[1] and "seed=1.json.unreadable" in said[1]
    assert (table["status"] == "ok").all()
    record = json.loads((out / "seed=1.json").read_text())
    del record["error"]  # a key deleted by hand
    (out / "seed=1.json").write_text(json.dumps(record))
    record = json.loads((out / "seed=0.json").read_text())
    record["metrics"]["score"] = "2.1"  # a number turned into text
    (out / "seed=0.json").write_text(json.dumps(record))
    table, messages = sweep(notebook, out)
    assert any("seed=1.json is not a run record (error missing or of the wrong type)" in m for m in messages)
    assert "score is text, not a number, in seed=0.ipynb: left out of summary.csv and the figures" in messages
    assert (out / "seed=0.json.unreadable").read_text().startswith('{"status": "ok"')  # kept, aside


def test_the_interval_is_students_t_on_a_worked_example():
    # Three runs 97, 98, 99: mean 98, std 1 (divided by n - 1 = 2), standard error 1/sqrt(3);
    # t(0.975, 2 degrees of freedom) = 4.3027, so the half-width is 4.3027 / 1.7321 = 2.4841.
    low, high = t_interval([97.0, 98.0, 99.0])
    assert low == pytest.approx(98 - 2.4841, abs=1e-4) and high == pytest.approx(98 + 2.4841, abs=1e-4)
    values = [0.981, 0.984, 0.979, 0.986, 0.983]
    sem = stats.sem(values)
    assert t_interval(values) == pytest.approx(stats.t.interval(0.95, 4, loc=sum(values) / 5, scale=sem))
    assert all(math.isnan(v) for v in t_interval([0.9]))  # one run: no interval, not a zero-width one


def three_factor_table():
    """lr x batch_size x epochs, 3 seeds each: epochs moves accuracy by 0.02, the seeds by 0.002."""
    rows = []
    for lr in (0.001, 0.003):
        for batch in (32, 64):
            for epochs in (1, 3):
                for seed in (0, 1, 2):
                    accuracy = 0.95 + 0.02 * (epochs == 3) + 0.005 * (lr == 0.003) + 0.001 * seed
                    rows.append(dict(lr=lr, batch_size=batch, epochs=epochs, seed=seed, accuracy=accuracy))
    table = pd.DataFrame(rows).assign(status="ok", seconds=1.0, error="", stale=False, notebook="x.ipynb")
    return table, ["lr", "batch_size", "epochs", "seed"]


def test_no_factor_is_averaged_away_in_the_summary():
    table, swept = three_factor_table()
    summary = summarize(table, swept)
    assert len(summary) == 8 and (summary["n"] == 3).all() and (summary["failed"] == 0).all()
    assert summary["accuracy std"].max() == pytest.approx(0.001)  # the seeds' spread, not epochs'
    row = summary[(summary.lr == 0.003) & (summary.batch_size == 64) & (summary.epochs == 3)].iloc[0]
    assert row["accuracy mean"] == pytest.approx(0.976)
    assert (row["accuracy ci95 low"], row["accuracy ci95 high"]) == pytest.approx(t_interval([0.975, 0.976, 0.977]))
    text = format_summary(summary, swept, table)
    assert "accuracy: mean [95% CI]" in text and "Student's t" in text and "0.9760 [0.9735, 0.9785]" in text


def test_every_swept_factor_is_visible_in_the_figure(tmp_path):
    import matplotlib.image
    import matplotlib.pyplot as plt

    table, swept = three_factor_table()
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "loss.png").write_bytes(b"an earlier sweep's figure")
    [figure] = plot_sweep(table, swept, tmp_path)
    assert figure == tmp_path / "figures" / "accuracy.png" and matplotlib.image.imread(figure).shape[1] > 600
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["accuracy.png"]  # the old one is gone
    plan = layout(table, swept)
    assert plan["roles"] == {"x": "lr", "hue": "batch_size", "col": "epochs"}
    grid = draw_metric(table, "accuracy", plan)
    assert [ax.get_title() for ax in grid.axes.flat] == ["epochs = 1", "epochs = 3"]  # small multiples
    assert grid.axes.flat[0].get_xlabel() == "lr" and grid.legend.get_title().get_text() == "batch_size"
    assert "95% confidence interval (t)\nn=3 runs per point" in grid.figure.get_suptitle()
    plt.close("all")

    messages = []
    five = table.assign(width=1, momentum=0.0)
    five.loc[five.seed == 1, ["width", "momentum"]] = [2, 0.9]  # two more factors: five vary
    factors = ["lr", "batch_size", "epochs", "width", "momentum", "seed"]
    assert plot_sweep(five, factors, tmp_path, echo=messages.append) == []
    assert messages == ["5 factors vary: too many for one figure; summary.csv has every configuration"]


def test_seeds_is_shorthand_for_a_seed_list(notebook, tmp_path, monkeypatch, capsys):
    import course_tools.sweep

    seen = {}
    monkeypatch.setattr(course_tools.sweep, "run_sweep", lambda nb, values, out, **kw: seen.update(values) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cli.main(["sweep", str(notebook), "-p", "lr", "0.1", "--seeds", "3"])
    assert seen == {"lr": ["0.1"], "seed": ["0", "1", "2"]}
    assert cli.main(["sweep", str(notebook), "-p", "seed", "1", "--seeds", "3"]) == 2
    assert "give the seeds once" in capsys.readouterr().err


@pytest.mark.kernel
@pytest.mark.usefixtures("one_cluster")
def test_runs_are_logged_to_mlflow_with_parameters_metrics_and_the_notebook(notebook, tmp_path, capsys, monkeypatch):
    from mlflow.tracking import MlflowClient

    from course_tools.tracking import SweepTracker

    out, uri = tmp_path / "sweep", f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert cli.main(["sweep", str(notebook), "--seeds", "2", "--out", str(out), "--mlflow", uri]) == 0
    client = MlflowClient(tracking_uri=uri)
    [experiment] = [e for e in client.search_experiments() if e.name.startswith("tiny sweep in ")]
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert set(runs) == {"seed=0", "seed=1"}
    run = runs["seed=1"]
    assert run.data.params["seed"] == "1" and run.data.params["lr"] == "0.1"
    assert run.data.metrics == {"score": 12.1} and run.info.status == "FINISHED"
    record = json.loads((out / "seed=1.json").read_text())
    assert run.data.tags["course.fingerprint"] == record["fingerprint"]["id"]
    assert record["mlflow"] == {"uri": uri, "run": run.info.run_id}
    [artifact] = client.list_artifacts(run.info.run_id)
    assert artifact.path == "seed=1.ipynb"

    # A run redone because its code changed replaces its MLflow run (the old one is marked deleted)
    edit_code(notebook, BODY.replace("+ lr", "+ 2 * lr"))
    assert cli.main(["sweep", str(notebook), "--seeds", "2", "--out", str(out), "--mlflow", uri]) == 0
    active = client.search_runs([experiment.experiment_id])
    assert len(active) == 2 and {r.data.metrics["score"] for r in active} == {2.2, 12.2}
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert active[0].info.end_time - active[0].info.start_time > 0  # when it ran, not when it was logged
    record = json.loads((out / "seed=1.json").read_text())

    # A tracking server that fails mid-sweep: said once, every run kept, the sweep goes on
    def broken(self, record):
        raise ConnectionError("the server went away")

    later = f"sqlite:///{tmp_path / 'later.db'}"  # a new database costs 2-3 s: this one serves twice
    records = {p.name: p.read_text() for p in out.glob("*.json")}
    with monkeypatch.context() as failing:
        failing.setattr(SweepTracker, "log", broken)
        assert cli.main(["sweep", str(notebook), "--seeds", "2", "--out", str(out), "--mlflow", later]) == 0
    said = capsys.readouterr().out
    assert said.count("MLflow logging stopped (ConnectionError: the server went away)") == 1
    assert {p.name: p.read_text() for p in out.glob("*.json")} == records

    # Finished runs logged later, when the URI is given only now (the server is back): nothing reruns
    assert cli.main(["sweep", str(notebook), "--seeds", "2", "--out", str(out), "--mlflow", later]) == 0
    assert "resuming: 2 of 2" in capsys.readouterr().out
    assert len(MlflowClient(tracking_uri=later).search_runs([experiment.experiment_id])) == 2


def test_an_unreachable_tracking_uri_is_one_line_before_any_run(notebook, tmp_path, capsys):
    out = tmp_path / "sweep"
    code = cli.main(["sweep", str(notebook), "--seeds", "2", "--out", str(out), "--mlflow", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "cannot reach the MLflow tracking URI 'http://127.0.0.1:9'" in err
    assert not out.exists()  # nothing ran


def test_without_a_tracking_uri_mlflow_is_not_imported(monkeypatch):
    import subprocess
    import sys

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    code = "import sys, course_tools.cli, course_tools.sweep; assert 'mlflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.kernel
def test_each_course_run_keeps_its_own_folder(notebook, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", str(notebook)]) == 0
    assert cli.main(["run", str(notebook)]) == 0
    folders = sorted((tmp_path / "build" / "run").iterdir())
    assert len(folders) == 2 and all((f / "summary.json").exists() and (f / "tiny.ipynb").exists() for f in folders)
    capsys.readouterr()
    assert cli.main(["run", str(notebook), "--out", str(folders[0])]) == 2
    err = capsys.readouterr().err
    assert "holds an earlier run" in err and "--replace" in err
    assert cli.main(["run", str(notebook), "--out", str(folders[0]), "--replace"]) == 0


def markdown(path):
    return "\n".join(c.source for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "markdown")


def test_lesson_5_and_the_researchers_guide_quote_the_intervals_of_the_measured_sweep():
    """The sweep was measured once (benchmarks/sweep-lesson5/, 5 minutes: too long for every run of
    the suite); its summary is recomputed here from its runs, and the quotes must be that summary."""
    measured = REPO / "benchmarks" / "sweep-lesson5"
    results = pd.read_csv(measured / "results.csv")
    summary = summarize(results, ["n_conv", "seed"])
    pd.testing.assert_frame_equal(summary, pd.read_csv(measured / "summary.csv"), check_dtype=False)
    lesson, guide = markdown(REPO / "notebooks" / "05_ablations.ipynb"), (REPO / "docs" / "researchers.md").read_text()
    for _, row in summary.iterrows():
        mean, low, high = row["test_accuracy mean"], row["test_accuracy ci95 low"], row["test_accuracy ci95 high"]
        assert f"{100 * mean:.2f}% [{100 * low:.2f}, {100 * high:.2f}]" in lesson
        parameters = f"{row['n_parameters mean']:,.0f}"
        assert f"| {row['n_conv']:.0f} | 3 | {parameters} | {mean:.4f} [{low:.4f}, {high:.4f}] |" in guide


def test_lesson_10_quotes_the_intervals_of_its_seed_by_seed_table():
    text = markdown(REPO / "notebooks" / "10_beyond_mnist.ipynb")
    runs = {}
    for line in text.splitlines():  # the table of the five runs: "| MNIST, VGG | 99.10 | ... |"
        cells = [c.strip(" *") for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith(("MNIST,", "Fashion-MNIST,")):
            runs[cells[0]] = [float(c) for c in cells[1:]]
    assert len(runs) == 6
    for dataset in ("MNIST", "Fashion-MNIST"):
        small, vgg, gap = runs[f"{dataset}, two-conv"], runs[f"{dataset}, VGG"], runs[f"{dataset}, gap"]
        quoted = " | ".join(f"{sum(v) / 5:.2f} [{t_interval(v)[0]:.2f}, {t_interval(v)[1]:.2f}]" for v in (small, vgg))
        low, high = t_interval(gap)
        assert f"| {dataset} | {quoted} | **{sum(gap) / 5:.2f}** [{low:.2f}, {high:.2f}] |" in text


def test_a_value_given_twice_is_refused_not_counted_twice(notebook, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert cli.main(["sweep", str(notebook), "-p", "lr", "0.1", "0.10", "--out", str(out)]) == 2
    assert "-p lr gives 0.1 more than once: give each value once" in capsys.readouterr().err
    assert cli.main(["sweep", str(notebook), "-p", "lr", "0.1", "-p", "lr", "0.2", "--out", str(out)]) == 2
    assert "-p lr is given twice" in capsys.readouterr().err
    assert not out.exists()


def test_the_figure_and_the_table_say_where_n_is_too_small_for_an_interval():
    table, swept = three_factor_table()
    table.loc[(table.epochs == 3) & (table.seed > 0) & (table.lr == 0.001), "status"] = "failed"  # n=1 there
    plan = layout(table, swept)
    assert plan["runs per point"] == (1, 3)
    grid = draw_metric(table, "accuracy", plan)
    assert "95% confidence interval (t) where n > 1\nn=1-3 runs per point" in grid.figure.get_suptitle()
    summary = summarize(table, swept)
    text = format_summary(summary, swept, table)
    assert "[n < 2]" in text and "failed" in text.splitlines()[0]
    constant = summarize(table.assign(width=16), swept)  # a metric the same in every run
    assert "16.00 (the same in every run)" in format_summary(constant, swept, table.assign(width=16))


def test_tools_that_cannot_change_a_number_are_not_in_the_fingerprint():
    from course_tools.provenance import pinned_libraries

    libraries = pinned_libraries()
    assert {"torch", "numpy", "papermill"} <= set(libraries)
    assert not {"ruff", "pytest", "nbval", "jupyterlab"} & set(libraries)


def test_the_commit_is_named_in_each_form_and_none_outside_git(tmp_path):
    """A sweep's provenance records the full hash, the site's footer the short one, a release `git describe`;
    a change to a tracked file, not a new file, makes the checkout dirty."""

    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True, text=True).stdout

    assert git_commit(tmp_path) is None
    git("init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    git("add", "a.txt")
    git("-c", "user.name=Course", "-c", "user.email=course@example.org", "commit", "-qm", "one")
    full, short = git("rev-parse", "HEAD").strip(), git("rev-parse", "--short", "HEAD").strip()
    forms = lambda: [git_commit(tmp_path, form) for form in ("full", "short", "describe")]  # noqa: E731
    (tmp_path / "new.txt").write_text("untracked\n")
    assert forms() == [full, short, short]
    (tmp_path / "a.txt").write_text("two\n")
    assert forms() == [f"{full}-dirty", short, f"{short}-dirty"]
