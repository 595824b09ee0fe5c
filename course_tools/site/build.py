"""The build: ``course site`` stages the pages, configures the book, adds MathJax, runs Sphinx in a
process of its own, and fixes the controls' names; a build whose inputs are unchanged is reused."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from .. import alt_text, notebook_transforms
from ..notebook_transforms import MarkerError
from ..provenance import git_commit
from .accessibility import fix_accessible_names
from .book import SiteError, book_config, repository_key, repository_url
from .mathjax import copy_mathjax, fetch_mathjax
from .pages import guide_pages, markdown_images, readme_page
from .staging import stage

SITE_ASSETS = Path(__file__).resolve().parents[2] / "site"  # the course's own CSS for the site
# The code that decides what the pages hold: a change to it is a change to the site.
SITE_CODE = [*sorted(Path(__file__).parent.glob("*.py")), Path(notebook_transforms.__file__), Path(alt_text.__file__)]


def inputs_digest(root: Path, with_solutions: bool = True) -> str:
    """A hash of everything the site is made of, so a build can be reused while nothing changed."""
    digest = hashlib.sha256()
    if not with_solutions:
        digest.update(b"without solutions")
    files = [root / "README.md", root / "pyproject.toml", *SITE_CODE]
    if (root / "README.md").is_file():
        files += [root / image for image in markdown_images(readme_page((root / "README.md").read_text()))]
    for guide in guide_pages(root):
        files += [guide] + [guide.parent / image for image in markdown_images(readme_page(guide.read_text()))]
    for folder in ("notebooks", "exercises", "solutions"):
        notebooks = sorted((root / folder).glob("*.ipynb"))
        files += notebooks
        for notebook in notebooks:
            files += [root / folder / image for image in markdown_images(nbformat.read(notebook, as_version=4))]
    files += sorted(p for p in SITE_ASSETS.rglob("*") if p.is_file())
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


BUILD_SCRIPT = """
import json, sys
from jupyter_book.sphinx import build_sphinx
source, out, doctrees = sys.argv[1:4]
overrides = {"external_toc_path": source + "/_toc.yml", "latex_individualpages": False}
result = build_sphinx(source, out, path_config=source + "/_config.yml", doctreedir=doctrees, confoverrides=overrides,
                      noconfig=True, freshenv=True, quiet=True, jobs=1)
sys.exit(result if isinstance(result, int) else 1)
"""


def build_site(
    root: Path | None = None,
    out: Path | None = None,
    *,
    reuse: bool = False,
    cache: Path | None = None,
    solutions: bool = True,
) -> Path:
    """Build the site of the course at ``root`` into ``out`` (default ``build/site``); returns ``out``.

    With ``reuse``, a build whose inputs are unchanged is kept as it is. MathJax is kept in
    ``cache`` (default ``build/cache``). Without ``solutions``: no solution page and no link to one.
    """
    from .. import course_folder

    root = Path(root) if root else course_folder("notebooks").parent
    build = root / "build"
    out = Path(out) if out else build / "site"
    stamp = out / ".course-site.json"
    digest = inputs_digest(root, solutions)
    if reuse and stamp.is_file() and json.loads(stamp.read_text()).get("inputs") == digest:
        print(f"course site: {out} is up to date")
        return out
    try:
        import jupyter_book  # noqa: F401
    except ImportError:
        raise SiteError("Jupyter Book is not installed: pip install -r requirements-site.txt") from None
    repo = repository_url(root, students=not solutions)  # a class site never points at the solutions
    staging = out.parent / f"{out.name}-src"
    toc, warnings = stage(root, staging, repo, with_solutions=solutions)
    if not repo:
        warnings.append(
            f"[tool.course] {repository_key(not solutions)} in pyproject.toml is empty: the site has no "
            "launch buttons (Colab, Binder) and no repository link"
        )
    commit = git_commit(root, "short")
    footer = f"Built {datetime.date.today().isoformat()}" + (f" from commit {commit}" if commit else "") + "."
    (staging / "_config.yml").write_text(json.dumps(book_config(repo, footer), indent=1) + "\n")
    static = staging / "_course_static"
    shutil.copytree(SITE_ASSETS, static)
    copy_mathjax(fetch_mathjax(Path(cache) if cache else build / "cache"), static / "mathjax")
    if out.exists():
        shutil.rmtree(out)
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    run = subprocess.run(
        [sys.executable, "-c", BUILD_SCRIPT, str(staging), str(out), str(out.parent / f"{out.name}-doctrees")],
        env=env,
        capture_output=True,
        text=True,
    )
    stderr = re.sub(r"\x1b\[[0-9;]*m", "", run.stderr)  # Sphinx colours its messages
    sphinx_warnings = [line for line in stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    if run.returncode != 0 or not (out / "index.html").is_file():
        raise SiteError(f"Sphinx failed (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    fix_accessible_names(out)
    for warning in warnings + sphinx_warnings:
        print(f"warning: {warning}")
    record = {"inputs": digest, "commit": commit, "toc": toc, "repository_url": repo, "solutions": solutions}
    stamp.write_text(json.dumps(record, indent=1))
    return out


def site_main(out: str | None = None, solutions: bool = True) -> int:
    import time

    start = time.perf_counter()
    try:
        site = build_site(out=Path(out) if out else None, solutions=solutions)
    except (SiteError, MarkerError) as err:
        print(f"course site: {err}", file=sys.stderr)
        return 1
    print(f"course site: built {site} in {time.perf_counter() - start:.0f}s; open {site / 'index.html'}")
    return 0
