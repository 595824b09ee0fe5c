"""What a sweep's run was made from, so that a resumed sweep reuses only runs that are still valid.

A run's **fingerprint** covers everything that can change its numbers: the notebook's code, the
course package (its version and the content of every module), the versions of the course's pinned
libraries, and the run's parameters (defaults included). A finished run whose recorded fingerprint
differs from today's is stale: `course sweep` reruns it and says what changed. Its **provenance**
says where and when it ran (git commit, CPU, GPU, threads, start and end); it is recorded, never
compared.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

# Used when the course's requirements.txt is not beside this package (an installed copy).
FALLBACK_LIBRARIES = ["torch", "torchvision", "numpy", "pandas", "scikit-learn", "papermill", "nbclient"]
# Pinned tools that cannot change a run's numbers: upgrading them must not rerun a sweep.
NOT_IN_RESULTS = {"jupyterlab", "nbval", "pytest", "pytest-xdist", "ruff"}


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()[:16]


def notebook_code_hash(notebook: Path | str) -> str:
    """The hash of a notebook's code cells, in order: re-executing it (new outputs) or editing
    its prose leaves the hash alone, changing a line of code does not."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    return _sha("\n\0".join(c.source for c in nb.cells if c.cell_type == "code"))


def course_utils_hash() -> str:
    """The course package's version and the content of its modules (all but the exercises' checks,
    which no lesson imports)."""
    import course_utils

    root = Path(course_utils.__file__).parent
    digest = hashlib.sha256(course_utils.__version__.encode())
    for path in sorted(p for p in root.rglob("*.py") if "exercise_checks" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return f"{course_utils.__version__}+{digest.hexdigest()[:12]}"


def pinned_libraries() -> dict[str, str]:
    """The installed versions of the libraries the course pins in requirements.txt (but its tools)."""
    from course_utils.datafiles import repo_root

    requirements = repo_root() / "requirements.txt"
    names = FALLBACK_LIBRARIES
    if requirements.is_file():
        lines = requirements.read_text().splitlines()
        pinned = [line.split("==")[0].strip() for line in lines if "==" in line and not line.startswith("#")]
        names = [name for name in pinned if name not in NOT_IN_RESULTS]
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def fingerprint_parts(notebook: Path | str, parameters: dict) -> dict:
    """What a run of ``notebook`` with ``parameters`` (all of them, defaults included) is made from."""
    return {
        "notebook code": notebook_code_hash(notebook),
        "course_utils": course_utils_hash(),
        "libraries": pinned_libraries(),
        "parameters": {name: parameters[name] for name in sorted(parameters)},
    }


def fingerprint(parts: dict) -> str:
    return _sha(json.dumps(parts, sort_keys=True, default=str))


def what_changed(old: dict | None, new: dict) -> list[str]:
    """The parts of ``new`` that differ from ``old``, in words (``old`` None: no fingerprint)."""
    if not old:
        return ["no fingerprint recorded (an older run)"]
    changes = [part for part in ("notebook code", "course_utils", "parameters") if old.get(part) != new[part]]
    old_libraries = old.get("libraries", {})
    for name, version in new["libraries"].items():
        if old_libraries.get(name) != version:
            changes.append(f"{name} {old_libraries.get(name, 'absent')} -> {version}")
    return changes


# The forms `git_commit` gives: what git prints for each.
GIT_COMMIT_FORMS = {
    "full": ["rev-parse", "HEAD"],  # "-dirty" added when tracked files differ from it
    "short": ["rev-parse", "--short", "HEAD"],
    "describe": ["describe", "--always", "--dirty"],  # the nearest tag, if any, and the short hash
}


def git_commit(root: Path | None = None, form: str = "full") -> str | None:
    """The commit of the git checkout at ``root`` (default: the course's), None outside git.

    ``form``: "full", the hash with ``-dirty`` when tracked files differ from it (a sweep's
    provenance); "short", the abbreviated hash alone (the site's footer); "describe",
    ``git describe --always --dirty`` (a release's record).
    """
    if root is None:
        from course_utils.datafiles import repo_root

        root = repo_root()
    if not shutil.which("git"):
        return None
    try:
        run = lambda *args: subprocess.run(  # noqa: E731
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=10
        )
        commit = run(*GIT_COMMIT_FORMS[form])
        if commit.returncode:
            return None
        dirty = form == "full" and run("status", "--porcelain", "--untracked-files=no").stdout.strip()
        return commit.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_name() -> str:
    """The CPU's model name, with AVX-512 or AVX2 when the CPU reports it (results differ slightly)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "")
    flags = next((line for line in info.splitlines() if line.startswith("flags")), "")
    vector = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else ""
    return f"{model or platform.machine()}{f' ({vector})' if vector else ''}"


def gpu_name() -> str | None:
    if not shutil.which("nvidia-smi"):
        return None
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return "; ".join(line.split(" (UUID")[0] for line in out.splitlines() if line.strip()) or None


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def where_it_ran(threads: int | None, started: str) -> dict:
    """A run's provenance, taken on the machine that ran it, at its end."""
    return {
        "host": platform.node(),
        "cpu": cpu_name(),
        "gpu": gpu_name(),
        "threads": threads or os.environ.get("OMP_NUM_THREADS") or os.cpu_count(),
        "python": platform.python_version(),
        "started": started,
        "ended": now(),
    }
