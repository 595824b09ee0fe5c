"""course_tools: what instructors and authors run; students never need to open it.

It sits beside ``course_utils`` (the helpers the lessons import) rather than inside it, so the
package a student reads holds only what the lessons use, and these tools start without
importing PyTorch. The ``course`` command (`cli`) is its front door:

- `runner`    ``course run`` / ``course params``: papermill runs with typed, checked parameters
- `sweep`     ``course sweep``: a grid of runs in parallel, resumed only from runs of the same code
- `sweep_report` a sweep's summary (95% t intervals per configuration) and figures (every factor shown)
- `provenance` what a run was made from (its fingerprint) and where and when it ran
- `tracking`  a sweep's runs in MLflow, only when a tracking URI is given
- `exercises` ``course exercises``: build ``exercises/`` from ``solutions/``
- `grading`   ``course grade``: run submissions in separate processes, write a gradebook (a package)
- `lessons`   ``course lessons``: re-execute committed notebooks in place (for authors)
- `alt_text`  ``course alt``: every figure's description, from its cell's metadata into the outputs; checks
- `colab`     ``course colab``: the generated Colab set-up cell after each parameters cell (for authors)
- `site`      ``course site``: the course's web site (Jupyter Book 1) in build/site/
- `bench`     ``course bench``: training, evaluation, start-up and lesson times measured here (imports PyTorch)
- `screenshots` ``course screenshots``: lesson 12's drawing pad in use, drawn in Chromium, as a PNG (for authors)
- `canary`    ``course canary``: the course on the newest releases and on Colab's versions (for authors)
- `strict_warnings` the pytest plugin that makes deprecations errors in the kernels the tests start
- `suite_plan` the pytest plugin that shares the cores between test workers, whole files as units
- `doc_tables` the measured tables in docs/, written by their commands (``course test-times``, ``bench --docs``)
"""

from pathlib import Path

from course_utils.datafiles import repo_root  # a light module: no PyTorch


def course_folder(name: str) -> Path:
    """A folder of the course (``notebooks``, ``solutions``...): in the current folder if it has
    one, so the commands work in a copy of the course, else in this checkout."""
    here = Path.cwd() / name
    return here if here.is_dir() else repo_root() / name


def named_or_every_notebook(args: list[str], command: str) -> list[Path] | None:
    """The notebooks a command was given, else every lesson and solution, in course order; None
    (after saying which, on stderr) when a named one does not exist."""
    import sys

    paths = [Path(a) for a in args] or [
        p for folder in ("notebooks", "solutions") for p in sorted(course_folder(folder).glob("[0-9]*.ipynb"))
    ]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"{command}: no notebook at {', '.join(missing)}", file=sys.stderr)
        return None
    return paths
