"""``course canary`` (``make canary``): does the course still run as its libraries move?

For each stack, a fresh virtual environment in ``build/canary/<stack>/`` gets the course (from this
checkout, with its dependencies) and the test tools, then runs the kernel-free tests and every
lesson and solution in quick mode, deprecations as errors as in the test run. The report,
``benchmarks/canary-<stack>.md``, gives the date, the versions pip chose, what passed, and the first
line of each failure. Stacks:

- ``newest``: no pins, the newest release of every dependency on PyPI;
- ``colab``: the versions of Colab's runtime 2026.01, the newest runtime that
  github.com/googlecolab/backend-info (Colab's own record of its images) lists with its exact
  ``pip-freeze.txt`` (commit bd8aaa4); Colab runs Python 3.12, the canary this machine's Python.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

from . import strict_warnings

REPO = strict_warnings.REPO
TOOLS = ["pytest", "pytest-xdist", "nbval", "pyyaml", "ruff", "dask", "distributed", "ipykernel", "ipywidgets"]
STACKS = {
    "newest": [],
    "colab": "torch==2.9.0 torchvision==0.24.0 numpy==2.0.2 pandas==2.2.2 matplotlib==3.10.0 seaborn==0.13.2 "
    "scikit-learn==1.6.1 tqdm==4.67.1 anywidget==0.9.21 nbformat==5.10.4 nbclient==0.10.4 ipykernel==6.17.1 "
    "ipython==7.34.0 ipywidgets==7.7.1 jupyter-client==7.4.9 threadpoolctl==3.6.0 psutil==5.9.5".split(),
}
DESCRIBED = {
    "newest": "no pins, the newest release of every dependency on PyPI",
    "colab": "Colab's runtime 2026.01 (github.com/googlecolab/backend-info, pip-freeze.txt at commit bd8aaa4); "
    "Colab itself runs Python 3.12",
}
SHOWN = "torch torchvision numpy pandas matplotlib seaborn scikit-learn tqdm torchinfo papermill nbformat anywidget"
SHOWN = SHOWN.split() + ["ipykernel", "ipython", "jupyter-client", "nbclient", "pytest"]
# The environment's own copy of the pinned-versions check would only say that it is not `make setup`'s.
DESELECT = ["tests/test_environment.py::test_the_installed_versions_are_the_pinned_ones"]
INDEX = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/")


def network_problem(url: str = INDEX) -> str | None:
    """Why the package index cannot be reached, or None."""
    try:
        urllib.request.urlopen(url, timeout=15).close()
    except OSError as err:
        return f"cannot reach {url} ({err})"
    return None


def first_line(text: str | None) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "(no message)")[:200]


def build(stack: str, venv: Path) -> tuple[dict[str, str], str | None]:
    """A fresh environment with ``stack``'s versions: the versions it got by package name, and pip's error."""
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    # A site-wide constraint file (this machine caps torch at the pins) would hold "newest" back.
    env = os.environ | {"PIP_CONSTRAINT": os.devnull}
    subprocess.run(pip + ["install", "--quiet", "--upgrade", "pip"], check=True, env=env)
    install = pip + ["install", "--quiet", "--upgrade", "-e", str(REPO)] + TOOLS + STACKS[stack]
    done = subprocess.run(install, env=env, capture_output=True, text=True)
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")] + ["ERROR: pip install failed"]
    error = None if done.returncode == 0 else errors[0]
    listed = json.loads(subprocess.run(pip + ["list", "--format=json"], capture_output=True, text=True).stdout)
    return {p["name"].lower().replace("_", "-"): p["version"] for p in listed}, error


def run_tests(venv: Path, work: Path) -> tuple[int, dict[str, str]]:
    """The kernel-free tests: (how many passed, {failed test: first line of its error})."""
    xml = work / "tests.xml"
    command = [str(venv / "bin" / "python"), "-m", "pytest", "-m", "not kernel and not slow", "tests", "-q"]
    command += ["-n", "2", f"--junitxml={xml}"] + [f"--deselect={d}" for d in DESELECT]
    subprocess.run(command, cwd=REPO)
    passed, failed = 0, {}
    for case in ET.parse(xml).iter("testcase") if xml.exists() else []:
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        name = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        if problem is not None:
            failed[name] = first_line(problem.get("message") or problem.text)
        elif case.find("skipped") is None:
            passed += 1
    return passed, failed


def run_notebooks(venv: Path, work: Path) -> list[dict]:
    """Every lesson and solution in quick mode: ``course run``'s summary (notebook, status, error)."""
    notebooks = sorted(REPO.glob("notebooks/[0-9]*.ipynb")) + sorted(REPO.glob("solutions/[0-9]*.ipynb"))
    env = os.environ | strict_warnings.kernel_environment(work / "ipython")
    command = [str(venv / "bin" / "course"), "run", "--quick", "--out", str(work / "run")] + [str(n) for n in notebooks]
    subprocess.run(command, cwd=REPO, env=env)
    summary = work / "run" / "summary.json"
    return json.loads(summary.read_text()) if summary.exists() else []


def report(stack: str, date: str, versions: dict, passed: int, failed: dict, runs: list[dict]) -> str:
    """The Markdown report of one stack's run."""
    ran = [r for r in runs if r["status"] == "ok"]
    lines = [
        f"# Version canary: {stack} stack, {date}",
        "",
        f"`make canary` on Python {platform.python_version()} ({platform.machine()}): {DESCRIBED[stack]}.",
        "",
        "| package | version |",
        "| --- | --- |",
        *(f"| {name} | {versions.get(name, 'not installed')} |" for name in SHOWN),
        "",
        f"**Kernel-free tests:** {passed} passed, {len(failed)} failed.",
        f"**Lessons and solutions (quick mode):** {len(ran)} of {len(runs)} ran without an error.",
        "",
    ]
    failures = [f"- `{name}`: {error}" for name, error in failed.items()]
    failures += [
        f"- `{Path(r['notebook']).parent.name}/{Path(r['notebook']).name}`: {first_line(r['error'])}"
        for r in runs
        if r["status"] != "ok"
    ]
    return "\n".join(lines + (["## Failures", "", *failures, ""] if failures else ["Nothing failed.", ""]))


def canary(stacks: list[str], out: Path = REPO / "benchmarks") -> int:
    problem = network_problem()
    if problem:
        print(f"canary: no network, {problem}; no report written", file=sys.stderr)
        return 2
    worst = 0
    for stack in stacks:
        work = REPO / "build" / "canary" / stack
        print(f"canary: building the {stack} stack in {work}", flush=True)
        versions, error = build(stack, work / "venv")
        passed, failed, runs = 0, {"pip install": error}, []
        if not error:
            passed, failed = run_tests(work / "venv", work)
            runs = run_notebooks(work / "venv", work)
        path = out / f"canary-{stack}.md"
        path.write_text(report(stack, datetime.date.today().isoformat(), versions, passed, failed, runs))
        print(f"canary: {stack}: {passed} tests passed, {len(failed)} failed; report in {path}", flush=True)
        worst = max(worst, 1 if failed or any(r["status"] != "ok" for r in runs) else 0)
    return worst
