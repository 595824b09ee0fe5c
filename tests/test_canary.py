"""`course canary`: its report, and a machine without network (nothing here downloads anything)."""

from course_tools import canary, cli

RUNS = [
    {"notebook": "/x/notebooks/01_data_exploration.ipynb", "status": "ok", "error": None},
    {
        "notebook": "/x/solutions/05_ablations_exercises.ipynb",
        "status": "failed",
        "error": "cell 3: FutureWarning: x\nmore",
    },
]


def test_the_report_gives_the_date_the_versions_and_each_failure_first_line():
    failed = {"tests/test_data.py::test_load": "AttributeError: no attribute 'x'"}
    text = canary.report("colab", "2026-12-06", {"torch": "2.9.0", "numpy": "2.0.2"}, 40, failed, RUNS)
    assert text.startswith("# Version canary: colab stack, 2026-12-06")
    assert "| torch | 2.9.0 |" in text and "| pandas | not installed |" in text
    assert "40 passed, 1 failed" in text and "1 of 2 ran without an error" in text
    assert "- `tests/test_data.py::test_load`: AttributeError: no attribute 'x'" in text
    assert "- `solutions/05_ablations_exercises.ipynb`: cell 3: FutureWarning: x" in text and "more" not in text


def test_a_clean_run_says_nothing_failed():
    text = canary.report("newest", "2026-12-06", {}, 3, {}, RUNS[:1])
    assert "Nothing failed." in text and "## Failures" not in text


def test_without_network_it_says_so_in_one_line_and_writes_no_report(no_network, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(canary, "build", lambda *a: (_ for _ in ()).throw(AssertionError("must not build")))
    assert canary.canary(["newest", "colab"], out=tmp_path) == 2
    err = capsys.readouterr().err
    assert err.startswith("canary: no network") and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_the_command_runs_both_stacks_by_default(monkeypatch):
    seen = []
    monkeypatch.setattr(canary, "canary", lambda stacks: seen.append(stacks) or 0)
    assert cli.main(["canary"]) == 0 and cli.main(["canary", "--stack", "colab"]) == 0
    assert seen == [["newest", "colab"], ["colab"]]


def test_the_colab_stack_pins_what_the_course_depends_on():
    pinned = {spec.split("==")[0] for spec in canary.STACKS["colab"]}
    assert {"torch", "torchvision", "numpy", "pandas", "matplotlib", "seaborn", "scikit-learn"} <= pinned
    assert canary.STACKS["newest"] == []
