"""Lesson 12's picture of its drawing pad in use: committed, shown next to the pad, made by one command.

The pad is a widget, invisible in a static copy of the lesson, so the lesson shows
``notebooks/figures/12_drawpad.png`` beside it; ``course screenshots`` (course_tools.screenshots)
redraws it in Chromium. These tests need no browser: tests/test_drawpad_browser.py drives the pad.
"""

import io
import json
import re
from pathlib import Path

from PIL import Image

from course_tools import screenshots
from course_tools.cli import main

REPO = Path(__file__).resolve().parents[1]
LESSON = REPO / "notebooks" / screenshots.LESSON_NAME
PICTURE = REPO / screenshots.FIGURE


def _cells():
    return json.loads(LESSON.read_text())["cells"]


def _text(cell):
    return "".join(cell["source"])


def test_the_picture_is_committed_small_and_shows_the_pad():
    assert PICTURE.is_file(), f"{PICTURE} is missing: run `course screenshots`"
    assert PICTURE.stat().st_size < 150_000, "the picture should stay small (a palette PNG)"
    with Image.open(PICTURE) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert width > 500 and 250 < height < width, f"not the pad's canvas and bars side by side: {image.size}"


def test_the_lesson_shows_the_picture_next_to_the_pad_with_alt_text():
    cells = _cells()
    pad = next(i for i, c in enumerate(cells) if c["cell_type"] == "code" and "DrawingPad(" in _text(c))
    link = re.compile(r"!\[([^\]]+)\]\(figures/12_drawpad\.png\)")
    shown = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and link.search(_text(c))]
    assert shown, "lesson 12 does not show figures/12_drawpad.png"
    assert any(abs(i - pad) <= 2 for i in shown), f"the picture (cell {shown}) is far from the pad (cell {pad})"
    alt = link.search(_text(cells[shown[0]])).group(1)
    assert len(alt.split()) >= 15 and "4" in alt and "bar" in alt, f"the alt text must say what it shows: {alt!r}"


def test_small_png_keeps_the_size_and_the_look_in_a_palette():
    image = Image.new("RGB", (120, 80), "white")
    image.paste((0, 0, 0), (10, 10, 60, 70))  # a black stroke
    image.paste((220, 100, 40), (80, 20, 100, 70))  # an orange bar
    raw = io.BytesIO()
    image.save(raw, "PNG")
    small = Image.open(io.BytesIO(screenshots.small_png(raw.getvalue())))
    assert small.mode == "P" and small.size == (120, 80)
    assert small.convert("RGB").getpixel((30, 30)) == (0, 0, 0)
    assert small.convert("RGB").getpixel((90, 40)) == (220, 100, 40)


def test_course_screenshots_says_what_it_lacks_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(screenshots, "CHROMIUM", tmp_path / "no-chromium")
    out = tmp_path / "pad.png"
    assert main(["screenshots", "--out", str(out)]) == 1
    assert "Chromium" in capsys.readouterr().err
    assert not out.exists()
