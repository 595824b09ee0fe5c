"""The pip and conda paths install the same pinned versions, and the README and CI agree."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def pip_pins() -> dict:
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements.txt: {line!r} is not pinned with =="
            pins[name.lower()] = version
    return pins


def conda_pins() -> dict:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pins = {}
    for item in pip_section:
        if item.startswith("-e"):
            continue
        name, _, version = item.partition("==")
        assert version, f"environment.yml: {item!r} is not pinned with =="
        pins[name.lower()] = version
    return pins


def test_environment_yml_and_requirements_agree():
    assert conda_pins() == pip_pins()


def test_the_installed_versions_are_the_pinned_ones():
    """What `make setup` installed is what requirements.txt pins (a stale .venv fails here)."""
    from importlib.metadata import PackageNotFoundError, version

    wrong = {}
    for name, pinned in pip_pins().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "not installed"
        if installed.split("+")[0] != pinned:  # a local build tag such as 2.14.1+cpu is the same release
            wrong[name] = f"pinned {pinned}, installed {installed}"
    assert not wrong, f"run `make setup` (or pip install -r requirements.txt): {wrong}"


def test_torch_pair_is_the_one_that_installs_here():
    pins = pip_pins()
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"


def test_design_card_packages_are_pinned():
    for name in [
        "jupyterlab",
        "torch",
        "torchvision",
        "matplotlib",
        "seaborn",
        "scikit-learn",
        "nbval",
        "papermill",
        "tqdm",
        "torchinfo",
        "ipykernel",
    ]:
        assert name in pip_pins(), f"{name} is missing from requirements.txt"


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    commands = re.findall(r"^\s*(make \w+)\s*$", ci, re.M)
    assert commands == ["make test"], "CI must run exactly the README's test command"
    assert "make test" in readme and "shared/data" in ci
