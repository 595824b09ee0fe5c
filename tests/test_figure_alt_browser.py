"""What a screen reader gets from a lesson figure in JupyterLab: Chromium's accessibility tree.

JupyterLab draws a bare PNG output as an ``<img>`` without alt; a figure whose cell keeps a
description carries a ``text/html`` copy, ``<img alt="...">`` (course_tools.alt_text), which
JupyterLab shows instead. The test opens a small notebook in JupyterLab (course_tools.screenshots
starts it) and reads each output image's accessible name as Chromium computes it: from the saved
outputs of an untrusted notebook (a clone's), and again after the cells run in JupyterLab's
kernel (course_utils.figure_alt adds the copy there). A figure without words has no name: a bare
PNG's ``<img>`` gets none from JupyterLab.

Skips where Chromium or Playwright is missing, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import time

import nbformat
import pytest
from conftest import missing_for_browser_tests, skip_or_fail_in_ci

from course_tools.alt_text import apply_alt
from course_tools.screenshots import jupyterlab, launch, open_and_run_all

WORDS = [
    "A straight line rising from 0 to 1 over the unit interval: the first of two lines.",
    "A line twice as steep, rising from 0 to 2: doubling the slope doubles every value.",
]
SETUP = "import course_utils  # as every lesson does\nimport matplotlib.pyplot as plt"
TWO = (
    "for slope in (1, 2):\n    fig, ax = plt.subplots(figsize=(3, 2))\n    ax.plot([0, 1], [0, slope])\n    plt.show()"
)
BARE = "fig, ax = plt.subplots(figsize=(3, 2))\nbars = ax.bar([0, 1], [1, 2])"
# In the page: the output images of the notebook on show, as objects CDP can name.
OUTPUT_IMAGES = (
    "(window.jupyterapp && window.jupyterapp.shell.currentWidget"
    " ? [...window.jupyterapp.shell.currentWidget.node.querySelectorAll('.jp-OutputArea-output img')] : [])"
)

# In the page: a promise kept once two frames have been drawn (layout, then paint, after a change).
NEXT_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def notebook() -> nbformat.NotebookNode:
    described = nbformat.v4.new_code_cell(TWO)
    described.metadata["course"] = {"alt": WORDS}
    made = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(SETUP), described, nbformat.v4.new_code_cell(BARE)]
    )
    made.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return made


def accessible_names(page, notebook: str, expected: int) -> list[str]:
    """The accessible name of each output image of ``notebook`` (on show), once there are ``expected``."""
    current = "window.jupyterapp && window.jupyterapp.shell.currentWidget"
    page.wait_for_function(f"() => {current} && {current}.title.label === {notebook!r}", timeout=90_000)
    page.wait_for_function(f"() => {OUTPUT_IMAGES}.length >= {expected}", timeout=90_000)
    time.sleep(0.5)  # let the last output settle
    cdp = page.context.new_cdp_session(page)
    names = []
    count = page.evaluate(f"() => {OUTPUT_IMAGES}.length")
    for index in range(count):
        # JupyterLab leaves cells far outside the view unrendered: bring each figure into view first
        page.evaluate(f"() => {OUTPUT_IMAGES}[{index}].scrollIntoView()")
        page.evaluate(NEXT_FRAMES)  # until the scrolled view has been drawn
        handle = cdp.send("Runtime.evaluate", {"expression": f"{OUTPUT_IMAGES}[{index}]"})["result"]
        node = cdp.send("Accessibility.getPartialAXTree", {"objectId": handle["objectId"], "fetchRelatives": False})
        found = node["nodes"][0]
        assert found["role"]["value"] == "image", found
        names.append(found.get("name", {}).get("value", ""))
    return names


@pytest.mark.kernel
def test_jupyterlab_names_each_described_figure_by_its_words(tmp_path):
    if missing := missing_for_browser_tests():
        skip_or_fail_in_ci("the browser test needs " + " and ".join(missing))
    from nbclient import NotebookClient
    from playwright.sync_api import sync_playwright

    saved = notebook()
    NotebookClient(saved, kernel_name="python3").execute()  # as `course lessons` does, then the copy step
    assert apply_alt(saved) == 2
    source = tmp_path / "figures.ipynb"
    nbformat.write(notebook(), source)
    with jupyterlab(source, tmp_path / "lab") as (url, token, name), sync_playwright() as playwright:
        nbformat.write(saved, tmp_path / "lab" / "root" / "saved.ipynb")
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            assert open_and_run_all(page, url, token, name) == "done"
            assert accessible_names(page, name, 3) == [*WORDS, ""], "after the cells ran in JupyterLab's kernel"

            # opened in the same JupyterLab, as from its file browser: a reload of the page costs 4 s
            page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:open', {path: 'saved.ipynb'}); }")
            assert accessible_names(page, "saved.ipynb", 3) == [*WORDS, ""], "the saved outputs, untrusted"
            trusted = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets[1].model.trusted")
            assert trusted is False, "the saved notebook should open untrusted, as a clone's does"
        finally:
            browser.close()
