"""The Colab set-up cell: what it would install on Colab, that it runs nothing elsewhere, and that
every lesson and exercise notebook carries the current one right after its parameters cell."""

import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from course_tools.colab import (
    BADGES,
    TAG,
    course_config,
    install_requirement,
    readme_badges,
    setup_cell_source,
    with_badges,
    with_setup_cell,
)

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for folder in ("notebooks", "solutions", "exercises") for p in (REPO / folder).glob("[0-9]*.ipynb")
)


def run_cell(source: str, monkeypatch, on_colab: bool) -> list:
    """Execute the cell's code with or without a fake ``google.colab`` module; return the commands it ran."""
    commands = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: commands.append((command, kwargs)))
    if on_colab:
        google = types.ModuleType("google")
        google.colab = types.ModuleType("google.colab")
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", google.colab)
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "colab-setup-cell", "exec"), {})
    return commands


def test_on_colab_the_cell_installs_the_release_named_in_pyproject_from_the_repository(monkeypatch):
    source = setup_cell_source("https://github.com/someone/cnn-mnist-course", "0.1.0")
    commands = run_cell(source, monkeypatch, on_colab=True)
    requirement = "cnn-mnist-course @ git+https://github.com/someone/cnn-mnist-course@v0.1.0"
    assert commands == [([sys.executable, "-m", "pip", "install", "--quiet", requirement], {"check": True})]
    assert not any("torch" in part for part in commands[0][0][:-1])  # Colab's own torch is left alone


def test_outside_colab_the_cell_runs_nothing(monkeypatch):
    for url in ("https://github.com/someone/cnn-mnist-course", ""):
        assert run_cell(setup_cell_source(url, "0.1.0"), monkeypatch, on_colab=False) == []


def test_with_no_repository_set_colab_users_get_a_clear_error(monkeypatch):
    with pytest.raises(RuntimeError, match="not set up for Colab yet.*own machine.*Colab link"):
        run_cell(setup_cell_source("", "0.1.0"), monkeypatch, on_colab=True)


def test_the_package_keeps_colabs_torch_because_its_lower_bounds_are_colabs_versions():
    # pip on Colab keeps what Colab has when it meets the bound, and `make setup`'s pins meet it too.
    import re
    import tomllib

    from course_tools.canary import STACKS

    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    colab = dict(pin.split("==") for pin in STACKS["colab"])
    pins = dict(
        line.split("#")[0].strip().split("==")
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    )

    def release(version):
        return tuple(int(part) for part in version.split("."))

    for dependency in dependencies:
        name, low = re.fullmatch(r"([\w-]+)>=([\d.]+)(,<[\d.]+)?", dependency).group(1, 2)
        assert low == colab.get(name, low), f"{dependency}: Colab's canary ran {name} {colab[name]}"
        assert release(low) <= release(pins[name]), f"{dependency}: requirements.txt pins {pins[name]}"
    assert any(d.startswith("torch>=") for d in dependencies)


def test_the_requirement_uses_the_version_and_url_from_pyproject():
    config = course_config(REPO)
    assert config["version"] == __import__("course_utils").__version__
    assert install_requirement("https://x.org/r", config["version"]).endswith(f"@v{config['version']}")


def test_inserting_twice_changes_nothing_and_replaces_an_old_cell():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("x"),
    ]
    assert with_setup_cell(nb, "old") and [c.source for c in nb.cells] == ["seed = 0", "old", "x"]
    assert with_setup_cell(nb, "new") and [c.source for c in nb.cells] == ["seed = 0", "new", "x"]
    assert not with_setup_cell(nb, "new")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_notebook_has_the_current_setup_cell_after_its_parameters(path):
    config = course_config(REPO)
    cells = nbformat.read(path, as_version=4).cells
    found = [i for i, c in enumerate(cells) if TAG in c.metadata.get("tags", [])]
    assert len(found) == 1, f"{path.name}: run `course colab` (then `course exercises`)"
    assert "parameters" in cells[found[0] - 1].metadata.get("tags", []), f"{path.name}: the cell must follow parameters"
    assert cells[found[0]].source == setup_cell_source(config["repository_url"], config["version"]), (
        f"{path.name}: the Colab cell is out of date; run `course colab`"
    )
    assert cells[found[0]].metadata.get("jupyter", {}).get("source_hidden"), (
        f"{path.name}: run `course colab` to collapse it"
    )


def test_the_readme_badges_follow_the_repository_url():
    readme = (REPO / "README.md").read_text()
    config = course_config(REPO)
    assert with_badges(readme, readme_badges(config["repository_url"])) == readme, "run `course colab`"
    badges = readme_badges("https://github.com/someone/course")
    assert "colab.research.google.com/github/someone/course/blob/main/notebooks/01_" in badges
    assert "mybinder.org/v2/gh/someone/course/main" in badges
    assert readme_badges("") == "" and "colab" not in readme_badges("https://gitlab.example/x/y")
    filled = with_badges(readme, badges)
    assert badges in filled and with_badges(filled, "") == readme and filled.count(BADGES[1]) == 1
