"""``course screenshots``: lesson 12's drawing pad in use, drawn in a real browser, as a committed PNG.

The pad is a widget: a static copy of the lesson (GitHub, the site, a run by papermill) shows only a
line of text where it sits. So the lesson shows a picture of it instead, ``notebooks/figures/
12_drawpad.png``, and this module makes that picture: it starts JupyterLab on a random localhost
port with a random token, serving a temporary copy of the lesson (its outputs stripped: the
committed notebook is never written to), opens it in Debian's Chromium driven by Playwright, runs
all cells, draws a digit on the pad with the mouse, waits for the probability bars, and saves the
pad, shrunk to a small palette PNG.

    course screenshots              # rewrite notebooks/figures/12_drawpad.png (about a minute)
    course screenshots --out FILE   # elsewhere

tests/test_drawpad_browser.py drives the pad with the same functions (`jupyterlab`, `open_and_run_all`,
`draw`, `bars_after`). It needs the test requirements (Playwright) and Chromium at /usr/bin/chromium
(or $COURSE_CHROMIUM); Playwright never downloads a browser.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from course_utils.datafiles import repo_root

LESSON_NAME = "12_draw_your_own_digit.ipynb"
FIGURE = Path("notebooks") / "figures" / "12_drawpad.png"  # relative to the course folder
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))  # Debian's
SERVER_START_S = 90  # JupyterLab answering
RUN_ALL_S = 300  # the lesson runs in seconds with a saved model (a few minutes if it must train)
PREDICTION_S = 30  # a stroke's probabilities come back
# The bars count once they have stayed the same this long: far longer than the kernel takes from one
# stroke's answer to the next (milliseconds, more on a busy machine), and than the bars' 0.2 s transition.
STABLE_S = 1.0
CANVAS = 280  # the pad's canvas, in canvas pixels: the strokes below are in these units

# Paths on the 280x280 canvas, one list of strokes per digit.
DIGITS = {
    7: [[(70, 50), (210, 50), (120, 240)]],
    0: [[(140 + 65 * math.sin(t * math.pi / 10), 140 - 95 * math.cos(t * math.pi / 10)) for t in range(21)]],
    1: [[(140, 40), (140, 240)]],
    # the picture's digit: an open-topped 4, two strokes, as most people write it
    4: [[(150, 45), (75, 175), (215, 175)], [(175, 95), (175, 245)]],
}
FIGURE_DIGIT = 4


class ScreenshotError(RuntimeError):
    """The picture cannot be made here (no Chromium or Playwright, JupyterLab or the lesson failed)."""


def missing() -> list[str]:
    """What driving the pad in a browser lacks here: Debian's Chromium, Playwright."""
    import importlib.util

    lacking = [] if CHROMIUM.is_file() else [f"Chromium at {CHROMIUM} (apt-get install chromium)"]
    if importlib.util.find_spec("playwright") is None:
        lacking.append("Playwright (pip install -r requirements-test.txt)")
    return lacking


# ---------------------------------------------------------------------------- JupyterLab
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_lesson(lesson: Path, folder: Path) -> Path:
    """The lesson without its outputs, so the browser shows only what this run produces."""
    import nbformat

    nb = nbformat.read(lesson, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    copy = folder / lesson.name
    nbformat.write(nb, copy)
    return copy


@contextlib.contextmanager
def jupyterlab(lesson: Path, work: Path) -> Iterator[tuple[str, str, str]]:
    """A JupyterLab server on 127.0.0.1 serving a copy of ``lesson`` from ``work``; yields (url, token, name)."""
    root = work / "root"
    root.mkdir(parents=True)
    notebook = copy_lesson(lesson, root)
    port, token = _free_port(), secrets.token_hex(16)
    settings = work / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # No "receive Jupyter news?" question and no update check: nothing asks for the network.
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(work / "config"), JUPYTER_RUNTIME_DIR=str(work / "runtime"))
    command = [
        str(Path(sys.executable).with_name("jupyter")),
        "lab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={work / 'settings'}",
        f"--LabApp.workspaces_dir={work / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run commands without clicking menus
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]
    log = work / "jupyterlab.log"
    with open(log, "w") as output:  # its own process group, with the kernels it starts: see _stop
        server = subprocess.Popen(command, cwd=root, env=env, stdout=output, stderr=output, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise ScreenshotError(f"JupyterLab did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)  # a local request: asked often, the wait ends soon after the server answers
        yield url, token, notebook.name
    finally:
        _stop(server)
        shutil.rmtree(root, ignore_errors=True)


def _stop(server: subprocess.Popen) -> None:
    """Stop JupyterLab and its kernels at once: kill the server's process group and what it started.

    No graceful shutdown (``/api/shutdown``): it waited 2 s for the kernel, which has imported
    torch, to exit, and saved nothing worth keeping; the folder it served is a copy, deleted next.
    """
    import psutil

    try:  # jupyter_client starts each kernel in a session of its own, outside the server's group
        started = psutil.Process(server.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        started = []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    for process in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(started, timeout=10)
    server.wait(timeout=10)


# ---------------------------------------------------------------------------- the page
def launch(playwright):
    """Debian's Chromium under Playwright (--disable-dev-shm-usage: a container's small /dev/shm crashes pages)."""
    args = ["--no-sandbox", "--disable-dev-shm-usage"]
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, timeout=60_000)


# In the page: the notebook's state. "done" once every code cell has run and the kernel is idle.
RUN_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return "opening";
  for (const cell of panel.content.widgets) {
    if (cell.model.type !== "code") continue;
    for (const output of cell.model.outputs.toJSON())
      if (output.output_type === "error") return "error: " + output.ename + ": " + output.evalue;
    if (cell.model.sharedModel.getSource().trim() && cell.model.executionCount === null) return "running";
  }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return kernel && kernel.status === "idle" ? "done" : "running";
}"""


def open_and_run_all(page, url: str, token: str, name: str) -> str:
    """Open the notebook, run all its cells, wait until they are done; returns "done" or "error: ..." or "running"."""
    page.goto(f"{url}/lab/tree/{name}?token={token}", timeout=90_000)
    page.wait_for_function(
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel; }",
        timeout=90_000,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.monotonic() + RUN_ALL_S
    state = "opening"
    while time.monotonic() < deadline:
        state = page.evaluate(RUN_STATE)
        if state == "done" or state.startswith("error"):
            break
        time.sleep(0.25)  # a cheap look at the page: polled often, the wait ends soon after the last cell
    return state


# In the page: how much ink the canvas holds (the sum of its pixels' opacity, 0-255 each).
INK = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 3; i < data.length; i += 4) ink += data[i];
  return ink;
}"""


def probabilities(page) -> list:
    """The ten probabilities the pad's bars show, or [] while it shows none."""
    values = page.eval_on_selector_all(".course-drawpad-bar", "bars => bars.map(b => b.dataset.probability || '')")
    return [float(v) for v in values] if all(values) and len(values) == 10 else []


def draw(page, canvas, strokes, finger: bool = False) -> None:
    """Drag along each stroke in many small moves, like a hand: with the mouse, or a finger (touch events)."""
    box = canvas.bounding_box()
    scale = box["width"] / CANVAS
    touch = page.context.new_cdp_session(page) if finger else None
    for stroke in strokes:
        points = [stroke[0]] + [
            (x0 + t / 10 * (x1 - x0), y0 + t / 10 * (y1 - y0))
            for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False)
            for t in range(1, 11)
        ]
        for i, (x, y) in enumerate(points):
            x, y = box["x"] + x * scale, box["y"] + y * scale
            if touch:
                kind = "touchStart" if i == 0 else "touchMove"
                touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
            else:
                page.mouse.move(x, y)
                if i == 0:
                    page.mouse.down()
        if touch:
            touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        else:
            page.mouse.up()
    if touch:
        touch.detach()


def bars_after(page, pad, action) -> tuple[list, str]:
    """Press Clear, do ``action`` (draw, upload), wait for the ten bars; returns (probabilities, the pad's message).

    The probabilities are [] when none came within ``PREDICTION_S``. A digit of two strokes gets two
    answers, the first for its first stroke: the bars count once they have stayed the same for
    ``STABLE_S`` while the pad does not say "Thinking…" (a stroke's end says so, but the first
    stroke's answer may replace that message while the second's is pending: the time is the guard).
    """
    pad.locator("button.course-drawpad-clear").click()
    page.wait_for_function("() => !document.querySelector('.course-drawpad-bar').dataset.probability")
    action()
    deadline = time.monotonic() + PREDICTION_S
    message = pad.locator(".course-drawpad-message")
    found, stable_since = [], time.monotonic()
    while time.monotonic() < deadline:
        now = probabilities(page)
        if now != found or message.inner_text().startswith("Thinking"):
            found, stable_since = now, time.monotonic()
        elif found and time.monotonic() - stable_since >= STABLE_S:  # also lets the bars' 0.2 s transition end
            break
        time.sleep(0.1)
    return found, message.inner_text()


# ---------------------------------------------------------------------------- the picture
def small_png(png: bytes, colours: int = 64) -> bytes:
    """``png`` as a palette PNG of at most ``colours`` colours: a screenshot of flat colours and text loses
    nothing you can see, and shrinks several times."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, "PNG", optimize=True)
    return out.getvalue()


def drawpad_picture(out: Path, lesson: Path, digit: int = FIGURE_DIGIT) -> dict:
    """Draw ``digit`` on lesson 12's pad in JupyterLab and save the pad (canvas and bars) to ``out``.

    Returns what the pad said: {"digit", "predicted", "probabilities", "message", "bytes"}. Raises
    `ScreenshotError` when the lesson fails, no bars come, or the pad names another digit (a picture
    of the pad getting it wrong is not the one the lesson means).
    """
    lacking = missing()
    if lacking:
        raise ScreenshotError("needs " + " and ".join(lacking))
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="course-screenshots-") as work, jupyterlab(lesson, Path(work)) as server:
        with sync_playwright() as p:
            browser = launch(p)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 900})
                page.set_default_timeout(60_000)
                state = open_and_run_all(page, *server)
                if state != "done":
                    raise ScreenshotError(f"running {lesson.name} in JupyterLab: {state}")
                pad = page.locator(".course-drawpad").first
                pad.scroll_into_view_if_needed()
                canvas = pad.locator("canvas.course-drawpad-canvas")
                found, message = bars_after(page, pad, lambda: draw(page, canvas, DIGITS[digit]))
                if len(found) != 10:
                    raise ScreenshotError(f"no bars after drawing a {digit}; the pad says {message!r}")
                predicted = max(range(10), key=found.__getitem__)
                if predicted != digit:
                    raise ScreenshotError(f"the pad read the drawn {digit} as a {predicted} ({message!r})")
                png = small_png(pad.screenshot())
            finally:
                browser.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)
    return {"digit": digit, "predicted": predicted, "probabilities": found, "message": message, "bytes": len(png)}


def screenshots_main(out: str | None = None) -> int:
    from . import course_folder

    notebooks = course_folder("notebooks")
    lesson = notebooks / LESSON_NAME
    target = Path(out) if out else notebooks.parent / FIGURE
    start = time.perf_counter()
    try:
        result = drawpad_picture(target, lesson)
    except ScreenshotError as err:
        print(f"course screenshots: {err}", file=sys.stderr)
        return 1
    shown = target.relative_to(repo_root()) if target.is_relative_to(repo_root()) else target
    print(
        f"course screenshots: {shown} ({result['bytes'] / 1000:.0f} kB) in {time.perf_counter() - start:.0f}s: "
        f"a drawn {result['digit']}, the pad says {result['message']!r}"
    )
    return 0
