"""Figure descriptions for a screen reader, kept when a student runs a lesson cell again.

Each lesson cell that draws figures keeps a short description of each in its metadata
(``course.alt``: a list, one text per figure, in output order). ``course_tools.alt_text`` copies
them into the saved notebook; a screen reader meets them through a ``text/html`` copy of the
picture, ``<img src="data:image/png;base64,..." alt="...">`` (`figure_html`), which JupyterLab
shows instead of the bare PNG: its PNG renderer writes no alt, its HTML renderer keeps one.

When the cell runs again, the kernel's new figure would be the bare PNG. `install` (called when
a lesson imports course_utils in a Jupyter kernel) adds the HTML copy as each figure is sent:
JupyterLab tells the kernel which cell runs (``cellId``) and the kernel knows its notebook
(``__session__``), so the description is read from the saved notebook. Where any of that is
missing (a script, another front end, a cell without descriptions) the figure goes out as it
is: nothing here ever raises into a student's run.
"""

from __future__ import annotations

import base64
import html
import json
import os

IMAGE_TYPES = ("image/png", "image/jpeg")
TWIN_CLASS = "course-figure"  # marks the HTML copy, so tools can tell it from other HTML output

_installed = False
_notebooks: dict[str, tuple[float, dict]] = {}  # path -> (modification time, {cell id: descriptions})
_sent = {"request": None, "figures": 0}  # figures sent so far for the request (cell run) now running


def figure_html(mime: str, data, alt: str, size: dict | None = None) -> str:
    """The picture ``data`` (base64 text or bytes) as an ``<img>`` whose alt is ``alt``.

    ``size`` is the output's metadata for ``mime`` (its ``width`` and ``height``, where set).
    """
    if isinstance(data, bytes):
        data = base64.b64encode(data).decode()
    source = "".join(str(data).split())
    text = html.escape(" ".join(alt.split()), quote=True)
    extra = "".join(f' {key}="{int(size[key])}"' for key in ("width", "height") if size and key in size)
    return f'<img class="{TWIN_CLASS}" src="data:{mime};base64,{source}" alt="{text}"{extra}>'


def is_twin(text) -> bool:
    """True for HTML that `figure_html` made."""
    text = "".join(text) if isinstance(text, list) else str(text)
    return text.startswith(f'<img class="{TWIN_CLASS}" src="data:')


def descriptions(path: str) -> dict:
    """{cell id: its ``course.alt``} of the notebook at ``path``, re-read when the file changes."""
    modified = os.stat(path).st_mtime
    if path not in _notebooks or _notebooks[path][0] != modified:
        with open(path, encoding="utf-8") as file:
            cells = json.load(file).get("cells", [])
        found = {c.get("id"): c.get("metadata", {}).get("course", {}).get("alt") for c in cells}
        _notebooks[path] = (modified, found)
    return _notebooks[path][1]


def describe(message: dict, shell) -> dict:
    """A display hook: give a figure of a described cell its HTML copy; return the message."""
    try:
        kind = message["header"]["msg_type"]
        request = message.get("parent_header", {}).get("msg_id")
        if _sent["request"] != request or kind == "clear_output":
            _sent.update(request=request, figures=0)
        content = message.get("content", {})
        data = content.get("data", {})
        mime = next((m for m in IMAGE_TYPES if m in data), None)
        if kind != "display_data" or mime is None:
            return message
        index = _sent["figures"]
        _sent["figures"] += 1
        cell = shell.kernel.get_parent("shell").get("metadata", {}).get("cellId")
        path = shell.user_ns.get("__session__") or ""
        if not os.path.isfile(path):
            path = os.path.basename(path)  # the kernel runs in the notebook's folder
        alts = descriptions(path).get(cell) if cell and os.path.isfile(path) else None
        if isinstance(alts, list) and index < len(alts) and isinstance(alts[index], str) and alts[index].strip():
            metadata = content.setdefault("metadata", {})
            size = metadata.get(mime) if isinstance(metadata.get(mime), dict) else None
            data.setdefault("text/html", figure_html(mime, data[mime], alts[index], size))
            metadata.setdefault(mime, {})["alt"] = " ".join(alts[index].split())
    except Exception:  # a description is a help, never a reason for a cell to fail
        pass
    return message


def install() -> None:
    """Describe this kernel's figures from their cells' metadata (once; only in a Jupyter kernel)."""
    global _installed
    if _installed:
        return
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None and hasattr(shell, "kernel") and hasattr(shell.display_pub, "register_hook"):
            shell.display_pub.register_hook(lambda message: describe(message, shell))
            _installed = True
    except Exception:
        pass
