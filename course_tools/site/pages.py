"""What goes on the site, and how each page is prepared: the lessons in order, the guides, the
exercise of each lesson, page titles, the executed line, folded cells, static widgets, the pictures
a page shows, and links that point at the site's pages."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import nbformat

from .book import BRANCH

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "(An interactive widget: open the notebook in Jupyter or Colab to use it.)"
# The guides in docs/, in the navigation's order (one a reader); any other docs/*.md follows them.
GUIDES = ("students", "instructors", "grading", "researchers", "authors", "security")


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


def notebook_title(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        for line in cell.source.split("\n") if cell.cell_type == "markdown" else []:
            if line.startswith("# "):
                return line[2:].strip()
    return path.stem


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


def index_page(title: str, intro: str, entries: list[tuple[str, str]]) -> str:
    lines = [f"# {title}", "", intro, ""]
    lines += [f"- [{label}]({target})" for label, target in entries]
    return "\n".join(lines) + "\n"


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
