"""The course's web site: ``course site`` (or ``make site``) builds ``build/site/`` with Jupyter Book 1.

The site is made from the committed, executed notebooks (nothing is executed or trained): the
README as the landing page, the lessons in order (``notebooks/NN_*.ipynb``, discovered), then
the exercises, the published solutions and the guides by reader (``docs/*.md``, ``GUIDES``'
order). Every notebook page says when and with which torch and Python it was executed
(``metadata.course.executed``, written by ``course lessons``), and each lesson page links to its
exercise notebook and its solution.

Nothing in notebooks/, exercises/ or solutions/ is touched: the pages are assembled in a staging
folder (``build/site-src/``), where

- published solutions lose their solution marker lines (their hidden tests are files of their
  own, ``solutions/hidden_tests/``, which the site never shows);
- cells hidden in Jupyter (``metadata.jupyter.source_hidden``) are folded on the page, and a widget
  (which needs a live kernel) becomes a line saying so;
- the relative links of the README and the guides point at the site's pages, or at the
  repository when the target is not a page (so a guide's links work on GitHub and on the site);
- the local pictures a notebook's markdown shows (``![alt](figures/x.png)``) are copied beside
  its page, so the site shows them (lesson 12's picture of its drawing pad is one);
- each figure gets the description its cell keeps (``course_tools.alt_text``): its ``text/html``
  copy, which the page shows, is an ``<img>`` with that alt (a bare PNG's alt is its file name).

The site works offline: the theme's scripts, styles and fonts come with the site, and so does
MathJax (its npm package, downloaded once into ``build/cache/`` and checked against a pinned
SHA-512), so a page requests nothing from another host. Launch buttons (Colab, Binder) and the
repository button appear when ``[tool.course] repository_url`` in pyproject.toml is set; while it
is empty they are left out, with a warning.

    course site                  # build build/site/ (open build/site/index.html)
    course site --out DIR        # elsewhere
    course site --no-solutions   # a class site: no solution pages and no link to them

``--no-solutions`` is for an instructor who publishes the site during the semester: the exercise
pages stay, the solution pages go, and so does every link to ``solutions/`` (the lessons' and the
exercises' links to their solutions, and those of the README and the guides, which keep their text).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import urllib.request
from pathlib import Path

import nbformat

from . import alt_text
from .notebook_transforms import MarkerError, publish_solution

TITLE = "CNNs on MNIST"
BRANCH = "main"  # the branch launch buttons and repository links point at
MATHJAX = {
    "version": "3.2.2",
    "url": "https://registry.npmjs.org/mathjax/-/mathjax-3.2.2.tgz",
    # the npm registry's dist.integrity for mathjax 3.2.2
    "sha512": "Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
}
# What of MathJax's es5/ folder a page can load: the TeX-to-HTML bundle, its fonts, the TeX
# extensions it autoloads, and the menu's accessibility parts (loaded when a reader asks).
MATHJAX_PARTS = ["tex-chtml.js", "output/chtml", "input/tex", "ui", "a11y", "sre"]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "(An interactive widget: open the notebook in Jupyter or Colab to use it.)"
SITE_ASSETS = Path(__file__).resolve().parent.parent / "site"  # the course's own CSS for the site
# The guides in docs/, in the navigation's order (one a reader); any other docs/*.md follows them.
GUIDES = ("students", "instructors", "grading", "researchers", "authors", "security")


class SiteError(RuntimeError):
    """The site cannot be built (no Jupyter Book, MathJax not downloadable, Sphinx failed)."""


# ---------------------------------------------------------------------------- what goes on the site
def lesson_notebooks(root: Path) -> list[Path]:
    """The lessons in reading order: ``notebooks/NN_*.ipynb``."""
    return sorted((root / "notebooks").glob("[0-9]*.ipynb"))


def guide_pages(root: Path) -> list[Path]:
    """The guides, ``docs/*.md``: those named in ``GUIDES`` in that order, then any other by name."""
    found = sorted((root / "docs").glob("*.md"))
    return sorted(found, key=lambda p: (GUIDES.index(p.stem) if p.stem in GUIDES else len(GUIDES), p.name))


def exercise_pair(root: Path, lesson: Path) -> tuple[Path | None, Path | None]:
    """A lesson's exercise notebook and solution (``NN_name_exercises.ipynb``), where they exist."""
    name = f"{lesson.stem}_exercises.ipynb"
    found = [root / folder / name for folder in ("exercises", "solutions")]
    return tuple(path if path.is_file() else None for path in found)


def repository_url(root: Path) -> str:
    """``[tool.course] repository_url`` from pyproject.toml ("" when unset)."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return ""
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return str(config.get("tool", {}).get("course", {}).get("repository_url", "")).strip().rstrip("/")


def executed_line(notebook: nbformat.NotebookNode) -> str:
    """The line every notebook page shows: when, and with which torch and Python, it was executed."""
    record = notebook.metadata.get("course", {}).get("executed") or {}
    if not record:
        return "Executed: not recorded (the notebook names no date, torch or Python version)."
    parts = [
        f"Executed {record.get('date', 'on a date not recorded')}",
        f"torch {record.get('torch', 'not recorded')}",
        f"Python {record.get('python', 'not recorded')}",
    ]
    if record.get("cpu_capability"):
        parts.append(f"CPU {record['cpu_capability']}")
    return " · ".join(parts) + "."


def solution_title(title: str) -> str:
    """A solution page's title: "Exercises 1: ..." becomes "Solutions 1: ..." (the two pages differ)."""
    return "Solutions" + title.removeprefix("Exercises") if title.startswith("Exercises") else f"{title} (solutions)"


def prepare_page(notebook: nbformat.NotebookNode, info: list[str], retitle=None) -> nbformat.NotebookNode:
    """Put ``info`` (MyST blocks) under the page's title (``retitle`` changes it); fold hidden cells;
    make widgets static."""
    notebook.metadata.pop("widgets", None)  # widget state: nothing on a static page can use it
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        jupyter = cell.metadata.get("jupyter", {})
        for flag, tag in (("source_hidden", "hide-input"), ("outputs_hidden", "hide-output")):
            if jupyter.get(flag) and tag not in tags:
                tags.append(tag)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                if set(data) <= {"text/plain"}:
                    data["text/plain"] = WIDGET_NOTE
    block = "\n\n".join(info)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown" and cell.source.strip():
            lines = cell.source.strip("\n").split("\n")
            if lines[0].startswith("# "):
                title = retitle(lines[0][2:].strip()) if retitle else lines[0][2:].strip()
                cell.source = "\n".join([f"# {title}", "", block, "", *lines[1:]])
            else:
                notebook.cells.insert(index, nbformat.v4.new_markdown_cell(block))
            break
    return notebook


IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)[^)]*\)|<img\s[^>]*src=[\"']([^\"']+)[\"']")


def markdown_images(notebook: nbformat.NotebookNode) -> list[str]:
    """The local images the markdown of ``notebook`` shows (``![alt](figures/x.png)``, ``<img src=...>``),
    as paths relative to the notebook's folder."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for match in IMAGE.finditer(cell.source):
            target = match.group(1) or match.group(2)
            if not re.match(r"^([a-z][a-z0-9+.-]*:|/|#)", target, re.I) and target not in found:
                found.append(target)
    return found


def readme_page(text: str) -> nbformat.NotebookNode:
    """The README as a one-cell notebook, so its pictures are found as a lesson's are."""
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])


def container(css_class: str, text: str) -> str:
    """A MyST block whose HTML element has ``css_class`` (the browser test looks for it)."""
    return f"```{{container}} {css_class}\n{text}\n```"


def rewrite_links(
    markdown: str, page: str, pages: set[str], root: Path, repo: str, withheld: tuple[str, ...] = ()
) -> tuple[str, list[str]]:
    """Point the relative links of ``markdown`` (the text of ``page``) at the site's pages.

    A link to a page of the site stays; one to a folder goes to its index page when the site has
    one; anything else goes to the repository (or, with no repository URL, loses its link and
    keeps its text). A link into a ``withheld`` folder (``solutions``) loses its link, even to the
    repository. Returns the new text and warnings.
    """
    warnings = []
    folder = posixpath.dirname(page)

    def replace(match: re.Match) -> str:
        text, target = match.group(1), match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            return match.group(0)
        path, _, anchor = target.partition("#")
        path = posixpath.normpath(posixpath.join(folder, path))
        if any(path == kept or path.startswith(kept + "/") for kept in withheld):
            return text
        anchor = f"#{anchor}" if anchor else ""
        relative = posixpath.relpath
        if path in pages:
            return f"[{text}]({relative(path, folder or '.')}{anchor})"
        if f"{path}/index.md" in pages:
            return f"[{text}]({relative(path + '/index.md', folder or '.')}{anchor})"
        if repo and (root / path).exists():
            kind = "tree" if (root / path).is_dir() else "blob"
            return f"[{text}]({repo}/{kind}/{BRANCH}/{path}{anchor})"
        warnings.append(f"{page}: the link to {target} has no page on the site; its text is kept")
        return text

    return re.sub(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)", replace, markdown), warnings


# ---------------------------------------------------------------------------- the staging folder
def index_page(title: str, intro: str, entries: list[tuple[str, str]]) -> str:
    lines = [f"# {title}", "", intro, ""]
    lines += [f"- [{label}]({target})" for label, target in entries]
    return "\n".join(lines) + "\n"


def notebook_title(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        for line in cell.source.split("\n") if cell.cell_type == "markdown" else []:
            if line.startswith("# "):
                return line[2:].strip()
    return path.stem


def stage(root: Path, staging: Path, repo: str, with_solutions: bool = True) -> tuple[dict, list[str]]:
    """Write the site's sources into ``staging``: pages, table of contents. Returns (toc, warnings).

    Without ``with_solutions``: no solution page, and no link to ``solutions/`` (``--no-solutions``)."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    warnings = []
    lessons = lesson_notebooks(root)
    if not lessons:
        raise SiteError(f"no lessons in {root / 'notebooks'}")
    solutions = sorted((root / "solutions").glob("[0-9]*.ipynb"))
    exercises = [root / "exercises" / s.name for s in solutions if (root / "exercises" / s.name).is_file()]
    withheld = () if with_solutions else ("solutions",)
    if not with_solutions:
        solutions = []  # the exercises above are still those of the solutions

    def write(relative: str, notebook: nbformat.NotebookNode) -> None:
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        alt_text.apply_alt(notebook)  # the figures' descriptions, even where the committed outputs lag
        nbformat.write(notebook, target)
        copy_images(notebook, relative)

    def copy_images(notebook: nbformat.NotebookNode, relative: str) -> None:
        """A picture in the markdown of page ``relative`` goes with its page."""
        for image in markdown_images(notebook):
            source = root / posixpath.dirname(relative) / image
            target = staging / posixpath.dirname(relative) / image
            if source.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
            else:
                warnings.append(f"{relative}: the image {image} does not exist")

    for lesson in lessons:
        notebook = nbformat.read(lesson, as_version=4)
        info = [container("course-executed", executed_line(notebook))]
        exercise, solution = exercise_pair(root, lesson)
        links = []
        if exercise:
            links.append(f"[the exercise notebook](../exercises/{exercise.name})")
        if solution and with_solutions:
            links.append(f"[its solution](../solutions/{solution.name})")
        if links:
            info.append(container("course-exercises", "**Exercises:** " + " and ".join(links) + "."))
        write(f"notebooks/{lesson.name}", prepare_page(notebook, info))
    for path in exercises:
        notebook = nbformat.read(path, as_version=4)
        line = "Not executed: an exercise notebook to download (⬇ above) and complete."
        info = [container("course-executed", line)]
        if with_solutions:
            ran = executed_line(nbformat.read(root / "solutions" / path.name, as_version=4))
            info[0] = container("course-executed", f"{line} Its solution: {ran[0].lower()}{ran[1:]}")
            title = solution_title(notebook_title(root / "solutions" / path.name))
            info.append(container("course-exercises", f"**Solution:** [{title}](../solutions/{path.name})."))
        write(f"exercises/{path.name}", prepare_page(notebook, info))
    for path in solutions:
        notebook = publish_solution(nbformat.read(path, as_version=4))
        info = [container("course-executed", executed_line(notebook))]
        if (root / "exercises" / path.name).is_file():
            exercise = f"**Exercises:** [{notebook_title(root / 'exercises' / path.name)}](../exercises/{path.name})."
            info.append(container("course-exercises", exercise))
        write(f"solutions/{path.name}", prepare_page(notebook, info, retitle=solution_title))

    exercise_pages = [(notebook_title(p), p.name) for p in exercises]
    solution_pages = [(solution_title(notebook_title(p)), p.name) for p in solutions]
    (staging / "exercises" / "index.md").write_text(
        index_page(
            "Exercises",
            "Every lesson has an exercise notebook: download it (the ⬇ button on its page) or open it in "
            "Jupyter, replace each `# YOUR CODE HERE`, and run the check below it.",
            exercise_pages,
        ),
        encoding="utf-8",
    )
    if with_solutions:
        (staging / "solutions" / "index.md").write_text(
            index_page("Solutions", "Complete, executed solutions of the exercises.", solution_pages), encoding="utf-8"
        )
    pages = {f"notebooks/{p.name}" for p in lessons} | {"exercises/index.md"}
    pages |= {"solutions/index.md"} if with_solutions else set()
    pages |= {f"exercises/{p.name}" for p in exercises} | {f"solutions/{p.name}" for p in solutions}
    guides = guide_pages(root)
    pages |= {"README.md"} | {f"docs/{p.name}" for p in guides}
    for guide in guides:
        text, link_warnings = rewrite_links(
            guide.read_text(encoding="utf-8"), f"docs/{guide.name}", pages, root, repo, withheld
        )
        warnings += link_warnings
        (staging / "docs").mkdir(exist_ok=True)
        (staging / "docs" / guide.name).write_text(text, encoding="utf-8")
        copy_images(readme_page(text), f"docs/{guide.name}")
    readme = (root / "README.md").read_text(encoding="utf-8") if (root / "README.md").is_file() else f"# {TITLE}\n"
    readme, link_warnings = rewrite_links(readme, "README.md", pages, root, repo, withheld)
    warnings += link_warnings
    built = "This site shows the lessons as they were last executed; each page says when and with which versions."
    (staging / "README.md").write_text(readme.rstrip("\n") + "\n\n" + container("course-executed", built) + "\n")
    copy_images(readme_page(readme), "README.md")

    def chapters(folder: str, paths: list[Path]) -> list[dict]:
        return [{"file": f"{folder}/{p.stem}"} for p in paths]

    toc = {
        "format": "jb-book",
        "root": "README",
        "parts": [
            {"caption": "Lessons", "chapters": chapters("notebooks", lessons)},
            {"caption": "Exercises", "chapters": [{"file": "exercises/index"}] + chapters("exercises", exercises)},
            {"caption": "Solutions", "chapters": [{"file": "solutions/index"}] + chapters("solutions", solutions)},
        ],
    }
    if not with_solutions:
        toc["parts"] = [part for part in toc["parts"] if part["caption"] != "Solutions"]
    if guides:
        toc["parts"].append({"caption": "Guides", "chapters": chapters("docs", guides)})
    (staging / "_toc.yml").write_text(json.dumps(toc, indent=1) + "\n")  # JSON is YAML
    return toc, warnings


def book_config(repo: str, footer: str) -> dict:
    """Jupyter Book's ``_config.yml``: no execution, local MathJax, no CDN scripts, launch buttons iff ``repo``."""
    launch = {"colab_url": "https://colab.research.google.com", "binderhub_url": "https://mybinder.org"}
    return {
        "title": TITLE,
        "author": "the course's authors",
        "copyright": str(datetime.date.today().year),
        "only_build_toc_files": True,
        "execute": {"execute_notebooks": "off"},
        "parse": {"myst_enable_extensions": ["dollarmath", "amsmath", "colon_fence"]},
        "html": {
            "use_repository_button": bool(repo),
            "use_issues_button": False,
            "use_edit_page_button": False,
            "home_page_in_navbar": True,
            "extra_footer": footer,
        },
        "launch_buttons": dict(launch, notebook_interface="jupyterlab", thebe=False) if repo else {"thebe": False},
        "repository": {"url": repo, "branch": BRANCH, "path_to_book": ""} if repo else {},
        "latex": {"use_jupyterbook_latex": False},
        "sphinx": {
            "recursive_update": True,
            "config": {
                # _static is left to the theme: Jupyter Book would add every .js in a folder of that name
                # to every page, MathJax's hundreds of parts included.
                "html_static_path": ["_course_static"],
                "myst_heading_anchors": 3,  # the README's links to its own sections
                "html_css_files": ["course.css"],
                "mathjax_path": "mathjax/tex-chtml.js",  # relative to _static: served by the site
                "nb_ipywidgets_js": {},  # no widget manager from a CDN (widgets are static text here)
                # Jupyter Book's extensions less thebe (live code from a Binder, its script from unpkg)
                # and intersphinx (other sites' inventories).
                "extensions": [
                    "sphinx_togglebutton",
                    "sphinx_copybutton",
                    "myst_nb",
                    "jupyter_book",
                    "sphinx_comments",  # off (no hypothes.is, no utterances); Jupyter Book configures it
                    "sphinx_external_toc",
                    "sphinx_design",
                    "sphinx_book_theme",
                ],
                "html_theme_options": {"use_download_button": True, "use_fullscreen_button": False},
                # light: the figures have white backgrounds (and without a default the theme logs an error)
                "html_context": {"default_mode": "light"},
                "suppress_warnings": ["mystnb.unknown_mime_type"],
                "html_show_sourcelink": False,
            },
        },
    }


# ---------------------------------------------------------------------------- MathJax
def fetch_mathjax(cache: Path) -> Path:
    """MathJax's es5/ folder, downloaded once into ``cache`` and checked against the pinned SHA-512.

    Safe when two builds fetch at once: each downloads and unpacks into a folder of its own, and
    the first to finish puts its copy in place.
    """
    version = MATHJAX["version"]
    es5 = cache / f"mathjax-{version}" / "es5"
    if (es5 / "tex-chtml.js").is_file():
        return es5
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / f"mathjax-{version}.tgz"
    if not tarball.is_file():
        with tempfile.NamedTemporaryFile(dir=cache, suffix=".part", delete=False) as out:
            try:
                with urllib.request.urlopen(MATHJAX["url"], timeout=60) as response:
                    shutil.copyfileobj(response, out)
            except OSError as err:
                Path(out.name).unlink(missing_ok=True)
                raise SiteError(
                    f"cannot download MathJax {version} from {MATHJAX['url']} ({err}). The site serves MathJax "
                    f"itself so that it works offline: download that file where there is internet access and "
                    f"put it at {tarball} (its SHA-512 is checked), then build again."
                ) from None
        Path(out.name).replace(tarball)
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != MATHJAX["sha512"]:
        raise SiteError(
            f"{tarball} is not MathJax {version}: its SHA-512 is {digest}, expected {MATHJAX['sha512']}. "
            "Delete it and build again."
        )
    unpacking = Path(tempfile.mkdtemp(dir=cache, prefix="mathjax-unpacking-"))
    try:
        with tarfile.open(tarball) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith("package/es5/") and m.isfile()]
            archive.extractall(unpacking, members=members, filter="data")
        es5.parent.mkdir(exist_ok=True)
        try:
            (unpacking / "package" / "es5").rename(es5)
        except OSError:  # another build put its copy in place first
            if not (es5 / "tex-chtml.js").is_file():
                raise
    finally:
        shutil.rmtree(unpacking, ignore_errors=True)
    return es5


def copy_mathjax(es5: Path, target: Path) -> None:
    for part in MATHJAX_PARTS:
        source = es5 / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / part)


# ---------------------------------------------------------------------------- accessible names
# Controls whose accessible name (aria-label) leaves out the text they show, which a speech-input
# user says to press them (WCAG 2.5.3, axe's label-content-name-mismatch); each loses what hides
# its visible text. The site's axe audit (tests/test_site_a11y.py) fails if the theme changes them.
ACCESSIBLE_NAMES = [
    # a hidden cell's fold (myst-nb): its name becomes what it shows, "Show code cell source"
    ('<summary aria-label="Toggle hidden content">', "<summary>"),
    # the search field (pydata theme): named by what it shows, "Search Ctrl+K"
    (
        'search-button-field search-button__button pst-js-only" title="Search" aria-label="Search"',
        'search-button-field search-button__button pst-js-only" title="Search"',
    ),
]
# The colour-mode button (named "Color mode") shows an icon whose title ("Light", "Dark") Font
# Awesome turns into visible text; without the title the icon is decorative (aria-hidden).
THEME_ICON_TITLE = re.compile(r'(<i class="theme-switch [^"]*" data-mode="\w+")\s+title="[^"]*"')


def fix_accessible_names(site: Path) -> None:
    """Make every page's controls say what they show (see ``ACCESSIBLE_NAMES``)."""
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        fixed = THEME_ICON_TITLE.sub(r"\1", html)
        for before, after in ACCESSIBLE_NAMES:
            fixed = fixed.replace(before, after)
        if fixed != html:
            page.write_text(fixed, encoding="utf-8")


# ---------------------------------------------------------------------------- the build
def inputs_digest(root: Path, with_solutions: bool = True) -> str:
    """A hash of everything the site is made of, so a build can be reused while nothing changed."""
    digest = hashlib.sha256()
    if not with_solutions:
        digest.update(b"without solutions")
    files = [root / "README.md", root / "pyproject.toml", Path(__file__), Path(alt_text.__file__)]
    files.append(Path(__file__).parent / "notebook_transforms.py")  # publish_solution
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


def commit_of(root: Path) -> str:
    try:
        run = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    except OSError:
        return ""
    return run.stdout.strip() if run.returncode == 0 else ""


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
    from . import course_folder

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
    repo = repository_url(root)
    staging = out.parent / f"{out.name}-src"
    toc, warnings = stage(root, staging, repo, with_solutions=solutions)
    if not repo:
        warnings.append(
            "[tool.course] repository_url in pyproject.toml is empty: the site has no launch buttons "
            "(Colab, Binder) and no repository link"
        )
    commit = commit_of(root)
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
