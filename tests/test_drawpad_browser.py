"""Lesson 12's drawing pad in a real browser: JupyterLab, Chromium, a mouse that draws digits.

The test starts JupyterLab on a random localhost port with a random token, serving a temporary
folder that holds a copy of the lesson (its outputs stripped, so the committed notebook is never
written to), opens it in Debian's Chromium driven by Playwright, runs all cells, draws digits on
the pad (a 7 and a 0 with the mouse, a 1 with a finger) and checks that the bar chart updates and
names at least one of them; then it uploads a photo of a 7. It saves build/screenshots/drawpad.png
(and drawpad_photo.png, drawpad_from_python.png): look at them.
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
        except Exception:
            page.screenshot(path=str(SCREENSHOTS / "drawpad_failure.png"), full_page=True)  # to see what went wrong
            raise
        finally:
            browser.close()
    (SCREENSHOTS / "drawpad.png").write_bytes(screenshot[1])
    print("drawn -> predicted:", predictions)
    assert any(drawn == guessed for drawn, guessed in predictions.items()), f"drawn -> predicted: {predictions}"
    assert predictions.get("photo of a 7", 7) == 7, f"the photo of a 7 was read as a {predictions['photo of a 7']}"
