"""Every lesson figure says what it shows: text alternatives kept in the cell, checked, and copied out.

Where the words live. A lesson or solution cell that draws figures keeps one description per
figure in its metadata, ``course.alt``: a list of strings, one per image output of the cell, in output order.
Each says in 1-3 sentences what the figure shows and its point - what a sighted reader takes
from it, numbers where the point is a number - never "Figure 3" or a file name. The words stay
with the code that draws the figure, and survive every re-execution. A picture in a lesson's
markdown carries its own: ``![what it shows](figures/x.png)``.

Where they go. `apply_alt` copies each description into the cell's outputs, without running
anything (``course lessons`` does it after executing; ``course alt`` on the committed notebooks):

- into the output's metadata, ``metadata["image/png"]["alt"]``, for any tool that reads it;
- into a ``text/html`` copy of the figure, ``<img class="course-figure" src="data:image/png;base64,..."
  alt="...">`` (``course_utils.figure_alt.figure_html``). That copy is what reaches a reader:

  * JupyterLab (4.6) draws a PNG output as an ``<img>`` with no alt, whatever the output's metadata
    says (``renderImage``), so a screen reader hears only "image". It prefers ``text/html`` (rank
    50) to ``image/png`` (rank 90), and its HTML renderer counts as safe, so it shows the copy even
    in an untrusted notebook (one opened from a clone). The sanitizer keeps ``<img>``'s ``alt``
    and checks the scheme of ``href`` and ``cite`` only, so the ``data:`` picture stays. Checked in
    Chromium: the image's accessible name is the description, in the committed outputs and after
    a cell is run again (``course_utils.figure_alt`` adds the copy in the kernel).
  * The site (myst-nb) renders ``text/html`` before ``image/png`` too, so the page's ``<img>``
    carries the alt; from the PNG alone it would write the image's file name. ``course site``
    applies the descriptions to its staged copies again, so the site follows the metadata even
    where committed outputs lag behind.

  The copy holds the PNG a second time (about 6.5 MB more over the thirteen lessons): the price
  of a description that needs neither the course's code nor a particular front end.

Checked. `problems` lists every lesson or solution figure without a description or with a bad
one (a file name, "Figure N", too short, too long, the same words for two figures), and every
markdown picture without real alt text; tests/test_figure_alt.py fails on any. Students never meet
these checks: a missing description fails the test run, never a student's run. An exercise keeps
its solution's words, marked as the solution's (`course_tools.exercises`): a student's code draws
the figure there.

nbval. The test run compares a re-executed notebook's outputs with the committed ones. It never
compares PNGs (they differ between CPUs), and the copy is the PNG again, which a test kernel (no
JupyterLab, so no cell id) does not send: this module, a pytest plugin (``-p
course_tools.alt_text`` in pyproject's ``addopts``), leaves the copies out of what nbval compares.

    course alt                      # every lesson and solution: copy the descriptions into the outputs
    course alt notebooks/03_*.ipynb # just these
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from course_utils.figure_alt import IMAGE_TYPES, figure_html, is_twin

MIN_CHARACTERS, MAX_CHARACTERS = 40, 600
DESCRIBED_FOLDERS = ("notebooks", "solutions")  # where every figure must have a description
BAD_TEXTS = [
    (re.compile(r"\.(png|jpe?g|gif|svg|pdf)\b|^\S+$", re.I), "a file name or a single word"),
    (re.compile(r"\bfig(ure)?\.?\s*\d+\b", re.I), 'a number ("Figure 3"), not a description'),
    (
        re.compile(r"^\s*(an?\s+|the\s+)?(image|picture|figure|graphic)\s+(of|showing)\b", re.I),
        'starts with "image of"',
    ),
    (re.compile(r"\b(TODO|FIXME|TBD|XXX|lorem ipsum)\b|<Figure size", re.I), "a placeholder"),
]
MARKDOWN_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)[^)]*\)|<img\s[^>]*>")


def alt_problem(text) -> str | None:
    """What is wrong with ``text`` as a figure's description, or None when nothing is."""
    if not isinstance(text, str) or not text.strip():
        return "is empty"
    words = " ".join(text.split())
    if len(words) < MIN_CHARACTERS:
        return f"is too short ({len(words)} characters, at least {MIN_CHARACTERS}): {words!r}"
    if len(words) > MAX_CHARACTERS:
        return f"is too long ({len(words)} characters, at most {MAX_CHARACTERS}: 1-3 sentences)"
    for pattern, why in BAD_TEXTS:
        if pattern.search(words):
            return f"is {why}: {words!r}"
    return None


def image_outputs(cell) -> list[tuple[dict, str]]:
    """The figures among ``cell``'s outputs, in order: (output, its image type)."""
    found = []
    for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
        mime = next((m for m in IMAGE_TYPES if m in output.get("data", {})), None)
        if mime:
            found.append((output, mime))
    return found


def cell_alts(cell):
    """The cell's ``course.alt`` (None where it has none)."""
    return cell.get("metadata", {}).get("course", {}).get("alt")


def where(index: int, cell) -> str:
    first = next((line.strip() for line in cell.get("source", "").splitlines() if line.strip()), "")
    return f"cell {index} ({first[:60]!r})"


def markdown_images(source: str) -> list[tuple[str, str]]:
    """(alt text, target) of each picture in markdown ``source``: ``![alt](x.png)`` or ``<img ...>``."""
    found = []
    for match in MARKDOWN_IMAGE.finditer(source):
        if match.group(0).startswith("<img"):
            alt = re.search(r"""\balt=(["'])(.*?)\1""", match.group(0), re.S)
            src = re.search(r"""\bsrc=(["'])(.*?)\1""", match.group(0), re.S)
            found.append((alt.group(2) if alt else "", src.group(2) if src else "?"))
        else:
            found.append((match.group(1), match.group(2)))
    return found


def problems(notebook) -> list[str]:
    """Every figure of ``notebook`` without a good description, and every other slip of ``course.alt``."""
    found, seen = [], {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            for alt, target in markdown_images(cell.source):
                if problem := alt_problem(alt):
                    found.append(f"{where(index, cell)}: the picture {target}'s alt text {problem}")
            continue
        figures, alts = image_outputs(cell), cell_alts(cell)
        if alts is None:
            if figures:
                found.append(
                    f"{where(index, cell)}: {len(figures)} figure(s) and no description; add "
                    f'metadata {{"course": {{"alt": ["what the figure shows and its point", ...]}}}}'
                )
            continue
        if not isinstance(alts, list):
            found.append(f"{where(index, cell)}: course.alt must be a list of strings, one per figure")
            continue
        if len(alts) != len(figures):
            found.append(f"{where(index, cell)}: {len(figures)} figure(s) but {len(alts)} description(s) in course.alt")
        for number, alt in enumerate(alts, 1):
            if problem := alt_problem(alt):
                found.append(f"{where(index, cell)}: description {number} {problem}")
            elif (words := " ".join(alt.split())) in seen:
                found.append(f"{where(index, cell)}: description {number} repeats that of {seen[words]}")
            else:
                seen[words] = where(index, cell)
    return found


def apply_alt(notebook) -> int:
    """Copy each cell's descriptions into its figure outputs (metadata and HTML copy); drop stale copies.

    Changes ``notebook`` in place; returns how many figures now carry a description.
    """
    described = 0
    for cell in notebook.cells:
        alts = cell_alts(cell)
        for number, (output, mime) in enumerate(image_outputs(cell)):
            alt = alts[number] if isinstance(alts, list) and number < len(alts) else None
            metadata = output.setdefault("metadata", {})
            if isinstance(alt, str) and alt.strip():
                size = metadata.get(mime) if isinstance(metadata.get(mime), dict) else None
                output["data"]["text/html"] = figure_html(mime, output["data"][mime], alt, size)
                metadata.setdefault(mime, {})["alt"] = " ".join(alt.split())
                described += 1
            else:
                if is_twin(output["data"].get("text/html", "")):
                    del output["data"]["text/html"]
                if isinstance(metadata.get(mime), dict):
                    metadata[mime].pop("alt", None)
                    if not metadata[mime]:
                        del metadata[mime]
    return described


def apply_to_file(path: Path) -> tuple[int, list[str], bool]:
    """`apply_alt` on the notebook at ``path``, written back only if it changed: (described, problems, changed)."""
    # Imported here, not at the top: every pytest run loads this module as a plugin (pyproject's addopts),
    # and nbformat's import (jsonschema's format checkers) takes 1.5-2 s that a run without nbval need not pay.
    import nbformat

    text = path.read_text(encoding="utf-8")
    notebook = nbformat.reads(text, as_version=4)
    described = apply_alt(notebook)
    written = nbformat.writes(notebook).rstrip("\n") + "\n"  # as nbformat.write writes it
    changed = written != text
    if changed:
        path.write_text(written, encoding="utf-8")
    return described, problems(notebook), changed


def alt_main(args: list[str]) -> int:
    """``course alt [NOTEBOOK...]``: exit status 1 when a lesson or solution figure lacks a good description."""
    from . import named_or_every_notebook

    paths = named_or_every_notebook(args, "course alt")
    if paths is None:
        return 2
    failed = False
    for path in paths:
        described, found, changed = apply_to_file(path)
        required = path.parent.name in DESCRIBED_FOLDERS
        print(f"{path}: {described} figure(s) described{' (written)' if changed else ''}")
        for problem in found if required else []:
            print(f"  {problem}", file=sys.stderr)
        failed = failed or (required and bool(found))
    return 1 if failed else 0


# ---------------------------------------------------------------------------- the pytest plugin (nbval)
def pytest_collection_modifyitems(items) -> None:
    """Leave the figures' HTML copies out of the outputs nbval compares (it compares no PNG either)."""
    for item in items:
        cell = getattr(item, "cell", None)
        if type(item).__module__.startswith("nbval") and cell is not None and cell.get("outputs"):
            for output in cell.outputs:
                data = output.get("data", {})
                if any(m in data for m in IMAGE_TYPES) and is_twin(data.get("text/html", "")):
                    del data["text/html"]
