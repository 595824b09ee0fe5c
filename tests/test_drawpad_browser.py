"""Lesson 12's drawing pad in a real browser: JupyterLab, Chromium, a mouse that draws digits.

The test starts JupyterLab on a random localhost port with a random token, serving a temporary
folder that holds a copy of the lesson (its outputs stripped, so the committed notebook is never
written to), opens it in Debian's Chromium driven by Playwright, runs all cells, draws digits on
the pad (a 7 and a 0 with the mouse, a 1 with a finger) and checks that the bar chart updates and
names at least one of them; then it uploads a photo of a 7. It saves build/screenshots/drawpad.png
(and drawpad_photo.png, drawpad_from_python.png): look at them.

Skips where Chromium or Playwright is missing, except under CI=true, where that is a failure.
"""

import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from functools import partial
from pathlib import Path

import nbformat
import pytest
from conftest import CHROMIUM, missing_for_browser_tests, skip_or_fail_in_ci

REPO = Path(__file__).resolve().parents[1]
LESSON = REPO / "notebooks" / "12_draw_your_own_digit.ipynb"
SCREENSHOTS = REPO / "build" / "screenshots"
SERVER_START_S = 90  # JupyterLab answering
RUN_ALL_S = 300  # the lesson runs in about 2 minutes with its defaults (longer if it trains)
PREDICTION_S = 30  # a stroke's probabilities come back

# Paths on the 280x280 canvas (canvas pixels), one list of strokes per digit; the 1 is drawn with a finger.
DIGITS = {
    7: [[(70, 50), (210, 50), (120, 240)]],
    0: [[(140 + 65 * math.sin(t * math.pi / 10), 140 - 95 * math.cos(t * math.pi / 10)) for t in range(21)]],
    1: [[(140, 40), (140, 240)]],
}


def _requirements():
    missing = missing_for_browser_tests() + ([] if LESSON.exists() else [f"the lesson {LESSON.name}"])
    if missing:
        skip_or_fail_in_ci("the browser test needs " + " and ".join(missing))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _copy_lesson(folder: Path) -> Path:
    """The lesson without its outputs, so the browser shows only what this run produces."""
    nb = nbformat.read(LESSON, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    copy = folder / LESSON.name
    nbformat.write(nb, copy)
    return copy


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving a copy of the lesson; yields (url, token, notebook name)."""
    _requirements()
    root = tmp_path / "root"
    root.mkdir()
    notebook = _copy_lesson(root)
    port, token = _free_port(), secrets.token_hex(16)
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # No "receive Jupyter news?" question and no update check: nothing asks for the network.
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
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
        f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run commands without clicking menus
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]
    log = tmp_path / "jupyterlab.log"
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
                pytest.fail(f"JupyterLab did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url, token, notebook.name
    finally:
        _stop(server, url, token)
        shutil.rmtree(root, ignore_errors=True)


def _stop(server: subprocess.Popen, url: str, token: str) -> None:
    """Shut JupyterLab down with its kernels; kill its process group if it does not go in time."""
    try:
        request = urllib.request.Request(f"{url}/api/shutdown?token={token}", method="POST")
        urllib.request.urlopen(request, timeout=10).close()
    except OSError:
        pass
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    try:  # the kernels are in the server's process group: none may outlive the test
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.wait(timeout=10)


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


def _wait_for_run_all(page) -> None:
    deadline = time.monotonic() + RUN_ALL_S
    state = "opening"
    while time.monotonic() < deadline:
        state = page.evaluate(RUN_STATE)
        if state == "done" or state.startswith("error"):
            break
        time.sleep(1)
    assert state == "done", f"running the lesson in JupyterLab: {state} after {RUN_ALL_S} s"


# In the page: how much ink the canvas holds (the sum of its pixels' opacity, 0-255 each).
INK = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 3; i < data.length; i += 4) ink += data[i];
  return ink;
}"""


def _probabilities(page) -> list:
    values = page.eval_on_selector_all(".course-drawpad-bar", "bars => bars.map(b => b.dataset.probability || '')")
    return [float(v) for v in values] if all(values) and len(values) == 10 else []


def _draw(page, canvas, strokes, finger: bool = False) -> None:
    """Drag along each stroke in many small moves, like a hand: with the mouse, or a finger (touch events)."""
    box = canvas.bounding_box()
    scale = box["width"] / 280
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


def _bars_after(page, pad, action, what: str) -> list:
    """Press Clear, do ``action`` (draw, upload), wait for the ten bars; check they agree with the message."""
    pad.locator("button.course-drawpad-clear").click()
    page.wait_for_function("() => !document.querySelector('.course-drawpad-bar').dataset.probability")
    action()
    deadline = time.monotonic() + PREDICTION_S
    while not (probabilities := _probabilities(page)) and time.monotonic() < deadline:
        time.sleep(0.2)
    message = pad.locator(".course-drawpad-message").inner_text()
    assert len(probabilities) == 10, f"no bars after {what}; the pad says {message!r}"
    assert abs(sum(probabilities) - 1) < 1e-3, probabilities
    best = max(range(10), key=probabilities.__getitem__)
    assert pad.locator(".course-drawpad-best").get_attribute("data-digit") == str(best), "wrong bar highlighted"
    assert f" {best} " in message, f"the message does not name the prediction {best}: {message!r}"
    return probabilities


def _photo_of_a_seven(folder: Path) -> Path:
    """A PNG of an unevenly lit photo of a 7 written in pencil (course_utils.digits makes one)."""
    from PIL import Image

    from course_utils.digits import synthetic_digits, synthetic_photo

    path = folder / "seven.png"
    Image.fromarray(synthetic_photo(synthetic_digits([7], distort=False)[0])).save(path)
    return path


@pytest.mark.kernel
def test_drawing_digits_on_the_pad_updates_the_bars_and_names_the_digit(jupyterlab, tmp_path):
    from playwright.sync_api import sync_playwright

    url, token, name = jupyterlab
    predictions, seen, screenshot = {}, [], None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        # --disable-dev-shm-usage: a container's small /dev/shm would crash the page.
        args = ["--no-sandbox", "--disable-dev-shm-usage"]
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args, timeout=60_000)
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, has_touch=True)
        try:
            page.set_default_timeout(60_000)
            page.goto(f"{url}/lab/tree/{name}?token={token}", timeout=90_000)
            page.wait_for_function(
                "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel; }",
                timeout=90_000,
            )
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            _wait_for_run_all(page)

            pad = page.locator(".course-drawpad").first
            pad.scroll_into_view_if_needed()
            canvas = pad.locator("canvas.course-drawpad-canvas")
            if _probabilities(page):  # the lesson put a drawing on the pad from Python (set_drawing)
                assert canvas.evaluate(INK), "a drawing set from Python is not shown on the canvas"
                pad.screenshot(path=str(SCREENSHOTS / "drawpad_from_python.png"))
            for digit, strokes in DIGITS.items():
                draw = partial(_draw, page, canvas, strokes, finger=digit == 1)
                probabilities = _bars_after(page, pad, draw, f"drawing a {digit}")
                assert probabilities not in seen, f"the bars did not change after drawing a {digit}"
                seen.append(probabilities)
                predictions[digit] = max(range(10), key=probabilities.__getitem__)
                if screenshot is None or (predictions[digit] == digit and predictions[screenshot[0]] != screenshot[0]):
                    screenshot = digit, pad.screenshot()  # the first digit the pad names right, else the first
            upload = pad.locator("input.course-drawpad-upload")
            if upload.count():  # the lesson's pad reads photos too
                photo = _photo_of_a_seven(tmp_path)
                probabilities = _bars_after(page, pad, lambda: upload.set_input_files(str(photo)), "uploading a photo")
                predictions["photo of a 7"] = max(range(10), key=probabilities.__getitem__)
                pad.screenshot(path=str(SCREENSHOTS / "drawpad_photo.png"))
        except Exception:
            page.screenshot(path=str(SCREENSHOTS / "drawpad_failure.png"), full_page=True)  # to see what went wrong
            raise
        finally:
            browser.close()
    (SCREENSHOTS / "drawpad.png").write_bytes(screenshot[1])
    print("drawn -> predicted:", predictions)
    assert any(drawn == guessed for drawn, guessed in predictions.items()), f"drawn -> predicted: {predictions}"
    assert predictions.get("photo of a 7", 7) == 7, f"the photo of a 7 was read as a {predictions['photo of a 7']}"
