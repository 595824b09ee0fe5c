"""Lesson 12's drawing pad in a real browser: JupyterLab, Chromium, a mouse that draws digits.

The test starts JupyterLab on a random localhost port with a random token, serving a temporary
folder that holds a copy of the lesson (its outputs stripped, so the committed notebook is never
written to), opens it in Debian's Chromium driven by Playwright, runs all cells, draws digits on
the pad (a 7 and a 0 with the mouse, a 1 with a finger) and checks that the bar chart updates and
names at least one of them; then it uploads a photo of a 7. Then it puts the mouse away and uses the
pad as a keyboard-only or screen-reader user does: Tab to the canvas (labelled, with key help and a
visible focus outline), draw a 1 with the arrow keys and Space, put a sample digit on the pad with a
digit key and with the Sample digit button, press Clear with Enter and with Space, and read each
prediction from the pad's ARIA live region. It saves build/screenshots/drawpad.png (and
drawpad_photo.png, drawpad_from_python.png, drawpad_keyboard.png): look at them.
The browser-driving functions live in course_tools.screenshots, whose `course screenshots` draws
the picture of the pad that the lesson shows (notebooks/figures/12_drawpad.png).

Skips where Chromium or Playwright is missing, except under CI=true, where that is a failure.
"""

from functools import partial
from pathlib import Path

import pytest
from conftest import missing_for_browser_tests, skip_or_fail_in_ci

from course_tools.screenshots import DIGITS, INK, ScreenshotError, bars_after, draw, jupyterlab, launch
from course_tools.screenshots import open_and_run_all as _open_and_run_all
from course_tools.screenshots import probabilities as _probabilities

REPO = Path(__file__).resolve().parents[1]
LESSON = REPO / "notebooks" / "12_draw_your_own_digit.ipynb"
SCREENSHOTS = REPO / "build" / "screenshots"
DRAWN = (7, 0, 1)  # the digits drawn, from course_tools.screenshots.DIGITS; the 1 with a finger
# A 1 by keyboard: from the middle of the canvas up 10 steps of 10 px, pen down, 20 steps down, pen up.
KEYBOARD_ONE = ["ArrowUp"] * 10 + ["Space"] + ["ArrowDown"] * 20 + ["Space"]
# In the page: the tag, class and role of the focused element, and whether it shows an outline.
FOCUSED = """() => { const e = document.activeElement, style = getComputedStyle(e);
  return { tag: e.tagName, cls: e.className, role: e.getAttribute("role"),
           outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 }; }"""


def _requirements():
    missing = missing_for_browser_tests() + ([] if LESSON.exists() else [f"the lesson {LESSON.name}"])
    if missing:
        skip_or_fail_in_ci("the browser test needs " + " and ".join(missing))


@pytest.fixture
def jupyterlab_server(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving a copy of the lesson; yields (url, token, notebook name)."""
    _requirements()
    try:
        with jupyterlab(LESSON, tmp_path) as server:
            yield server
    except ScreenshotError as err:
        pytest.fail(str(err))


def _bars_after(page, pad, action, what: str) -> list:
    """Press Clear, do ``action`` (draw, upload), wait for the ten bars; check they agree with the message."""
    probabilities, message = bars_after(page, pad, action)
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


def _tab_to(page, key: str, cls: str) -> None:
    """Press ``key`` (Tab, Shift+Tab); the focus must land on the element of class ``cls``, outlined."""
    page.keyboard.press(key)
    focused = page.evaluate(FOCUSED)
    assert cls in focused["cls"], f"{key} went to {focused}, not to .{cls}"
    assert focused["outline"], f"no visible focus outline on .{cls}: {focused}"


def _announced(page, live, keys: list, expected: str) -> str:
    """Press ``keys``; wait until the live region says something that starts with ``expected``; return it."""
    before = live.inner_text()
    for key in keys:
        page.keyboard.press(key)
    page.wait_for_function(
        "([el, before, expected]) => el.textContent !== before && el.textContent.startsWith(expected)",
        arg=[live.element_handle(), before, expected],
        timeout=30_000,
    )
    return live.inner_text()


def _by_keyboard(page, pad) -> dict:
    """Use the pad with the keyboard alone; returns {what was done: the digit the live region announced}."""
    live = pad.locator('.course-drawpad-message[aria-live="polite"]')
    canvas = pad.locator("canvas.course-drawpad-canvas")
    assert live.count() == 1, "the pad's sentence is not an ARIA live region"
    pad.evaluate("pad => { pad.tabIndex = -1; pad.focus(); }")  # start at the pad's edge, then only keys
    _tab_to(page, "Tab", "course-drawpad-canvas")
    assert canvas.get_attribute("role") == "application" and "digit" in canvas.get_attribute("aria-label")
    help_text = page.locator(f"#{canvas.get_attribute('aria-describedby')}").inner_text()
    assert "arrow keys" in help_text and "Space" in help_text, f"the pad's help text: {help_text!r}"
    assert pad.locator(".course-drawpad-cursor").is_visible(), "no cursor shows where the keyboard's pen is"
    _tab_to(page, "Tab", "course-drawpad-clear")
    prompt = _announced(page, live, ["Enter"], "Draw a digit")  # Clear, pressed with Enter
    _tab_to(page, "Shift+Tab", "course-drawpad-canvas")
    said, heard = {}, _announced(page, live, KEYBOARD_ONE, "I think this is a")
    assert canvas.evaluate(INK), "the keys drew nothing on the canvas"
    assert len(_probabilities(page)) == 10 and f" {_best(page)} " in heard, heard
    said["a 1 drawn by keyboard"] = _best(page)
    pad.screenshot(path=str(SCREENSHOTS / "drawpad_keyboard.png"))
    if pad.locator("button.course-drawpad-sample").is_visible():  # the lesson's pad has sample digits
        heard = _announced(page, live, ["7"], "Sample 7: I think this is a")
        said["sample 7 (key 7)"] = _best(page)
        assert f" {_best(page)} " in heard, heard
        _tab_to(page, "Tab", "course-drawpad-clear")
        _announced(page, live, ["Space"], prompt)
        _tab_to(page, "Tab", "course-drawpad-sample")
        heard = _announced(page, live, ["Enter"], "Sample ")
        said[heard.split(":")[0] + " (Sample digit button)"] = _best(page)
        assert f" {_best(page)} " in heard, heard
        page.keyboard.press("Tab")  # the upload: a file input inside its label, which shows the focus
        label = pad.locator("label:has(input.course-drawpad-upload)")
        assert "course-drawpad-upload" in page.evaluate(FOCUSED)["cls"], "Tab does not reach the upload button"
        assert label.evaluate("e => getComputedStyle(e).outlineStyle") != "none", "no focus outline on the upload"
        _tab_to(page, "Shift+Tab", "course-drawpad-sample")
        _tab_to(page, "Shift+Tab", "course-drawpad-clear")
    else:
        _tab_to(page, "Tab", "course-drawpad-clear")
    _announced(page, live, ["Space"], prompt)  # Clear, pressed with Space
    assert _probabilities(page) == [] and not canvas.evaluate(INK), "Clear left bars or ink behind"
    return said


def _best(page) -> int:
    probabilities = _probabilities(page)
    return max(range(10), key=probabilities.__getitem__)


@pytest.mark.kernel
def test_drawing_digits_on_the_pad_updates_the_bars_and_names_the_digit(jupyterlab_server, tmp_path):
    from playwright.sync_api import sync_playwright

    predictions, seen, screenshot = {}, [], None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, has_touch=True)
        try:
            page.set_default_timeout(60_000)
            state = _open_and_run_all(page, *jupyterlab_server)
            assert state == "done", f"running the lesson in JupyterLab: {state}"

            pad = page.locator(".course-drawpad").first
            pad.scroll_into_view_if_needed()
            canvas = pad.locator("canvas.course-drawpad-canvas")
            if _probabilities(page):  # the lesson put a drawing on the pad from Python (set_drawing)
                assert canvas.evaluate(INK), "a drawing set from Python is not shown on the canvas"
                pad.screenshot(path=str(SCREENSHOTS / "drawpad_from_python.png"))
            for digit in DRAWN:
                drawing = partial(draw, page, canvas, DIGITS[digit], finger=digit == 1)
                probabilities = _bars_after(page, pad, drawing, f"drawing a {digit}")
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
            by_keyboard = _by_keyboard(page, pad)
        except Exception:
            page.screenshot(path=str(SCREENSHOTS / "drawpad_failure.png"), full_page=True)  # to see what went wrong
            raise
        finally:
            browser.close()
    (SCREENSHOTS / "drawpad.png").write_bytes(screenshot[1])
    print("drawn -> predicted:", predictions, "\nby keyboard -> announced:", by_keyboard)
    assert by_keyboard.get("sample 7 (key 7)", 7) == 7, f"a real test 7 was read as {by_keyboard}"
    assert any(drawn == guessed for drawn, guessed in predictions.items()), f"drawn -> predicted: {predictions}"
    assert predictions.get("photo of a 7", 7) == 7, f"the photo of a 7 was read as a {predictions['photo of a 7']}"
