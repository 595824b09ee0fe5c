"""Lesson 12's drawing pad without a browser: the traits the browser sets, and what Python sends back.

``pad.set_state(...)`` is what the widget's comm calls when the browser sends an update, so these
tests take the same path as a stroke on the real pad. tests/test_drawpad_browser.py draws in Chromium.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers

from course_utils.drawpad import EMPTY, PROMPT, DrawingPad

JS = Path(__file__).resolve().parents[1] / "course_utils" / "drawpad.js"
KNOWN = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.6, 0.08, 0.04]  # adds up to 1; the best is a 7


class Recorder:
    """A fake classifier: remembers what it was given and answers ``KNOWN``."""

    def __init__(self, answer=KNOWN):
        self.answer, self.calls = answer, []

    def __call__(self, image):
        self.calls.append(image)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def stroke(size=112):
    """A vertical stroke (a "1") as the browser sends it: ink 1 in the middle columns, soft edges."""
    drawing = np.zeros((size, size))
    top, bottom, left, right = (round(size * f) for f in (0.13, 0.85, 0.46, 0.55))
    drawing[top:bottom, left:right] = 1.0
    drawing[top:bottom, [left - 1, right]] = 0.5
    return drawing


def test_a_stroke_from_the_browser_is_classified_and_the_bars_update():
    classify = Recorder()
    pad = DrawingPad(classify)
    assert pad.probabilities == [] and pad.message == PROMPT
    pad.set_state({"message": "Thinking…", "pixels": stroke().ravel().tolist()})  # what the JS sends
    (drawing,) = classify.calls
    assert drawing.shape == (112, 112) and drawing.dtype == np.float32
    assert drawing.min() == 0 and drawing.max() == 1
    np.testing.assert_array_equal(drawing, stroke())  # row by row: the list is the drawing, not its transpose
    assert pad.probabilities == pytest.approx(KNOWN)
    assert "7" in pad.message and "60%" in pad.message


def test_set_drawing_does_what_a_stroke_does_and_the_next_stroke_updates_again():
    classify = Recorder()
    pad = DrawingPad(classify)
    pad.set_drawing(stroke(28))
    assert pad.size == 28 and classify.calls[0].shape == (28, 28)
    classify.answer = KNOWN[::-1]
    more = stroke(28)
    more[5, 5:20] = 1
    pad.set_drawing(more)
    assert len(classify.calls) == 2 and pad.probabilities == pytest.approx(KNOWN[::-1])
    assert "2" in pad.message
    with pytest.raises(ValueError, match="square"):
        pad.set_drawing(np.zeros((20, 30)))


def test_a_blank_pad_says_draw_a_digit_first_and_shows_no_bars():
    classify = Recorder()
    pad = DrawingPad(classify)
    pad.set_drawing(stroke())
    pad.set_drawing(np.zeros((112, 112)))
    assert len(classify.calls) == 1  # a blank pad gets no confident guess: the model is not asked
    assert pad.probabilities == [] and "draw a digit first" in pad.message and pad.message == EMPTY


def test_the_classifiers_own_error_is_the_message_and_nothing_escapes():
    pad = DrawingPad(Recorder(ValueError("Too faint: draw a digit first.")))
    pad.set_drawing(stroke())
    assert pad.probabilities == [] and pad.message == "Too faint: draw a digit first."
    pad.classify = Recorder(RuntimeError("CUDA out of memory"))
    pad.set_drawing(stroke() * 0.9)
    assert pad.probabilities == [] and "RuntimeError: CUDA out of memory" in pad.message
    assert isinstance(pad.error, RuntimeError)  # kept for a student to look at
    pad.classify = Recorder([2.0, -1.0] + [0.0] * 8)  # logits, not probabilities
    pad.set_drawing(stroke() * 0.8)
    assert pad.probabilities == [] and "softmax" in pad.message
    pad.classify = Recorder([0.5, 0.5])
    pad.set_drawing(stroke() * 0.7)
    assert pad.probabilities == [] and "10 probabilities" in pad.message
    pad.set_state({"pixels": [1.0] * 100})  # not 112 x 112
    assert pad.probabilities == [] and "Clear" in pad.message


def test_clear_empties_the_pad_the_bars_and_brings_back_the_prompt():
    pad = DrawingPad(Recorder())
    pad.set_drawing(stroke())
    assert pad.probabilities
    pad.set_state({"pixels": [], "probabilities": [], "message": PROMPT})  # the Clear button
    assert (pad.pixels, pad.probabilities, pad.message) == ([], [], PROMPT)
    pad.set_drawing(stroke())
    pad.clear()  # the same from Python
    assert (pad.pixels, pad.probabilities, pad.message) == ([], [], PROMPT)
    assert not pad.drawing().any() and pad.drawing().shape == (112, 112)


@pytest.mark.parametrize("order", ["shape first", "photo first"])
def test_an_uploaded_photo_goes_to_classify_photo_as_grey_values(order):
    classify, classify_photo = Recorder(), Recorder(KNOWN[::-1])
    pad = DrawingPad(classify, classify_photo)
    assert pad.photo_enabled
    photo = np.linspace(0, 1, 210 * 280).reshape(210, 280).round(3)  # 280 px on the long side, white 1
    update = {"photo_shape": [210, 280], "photo": photo.ravel().tolist()}
    pad.set_state(update if order == "shape first" else dict(reversed(update.items())))
    (got,) = classify_photo.calls
    assert classify.calls == [] and got.shape == (210, 280) and 0 <= got.min() and got.max() <= 1
    np.testing.assert_allclose(got, photo, atol=1e-6)
    assert pad.probabilities == pytest.approx(KNOWN[::-1]) and "2" in pad.message
    assert pad.photo == []  # emptied, so the same photo uploaded again counts as new
    pad.set_state(update)
    assert len(classify_photo.calls) == 2


def test_a_pad_without_classify_photo_hides_the_upload_and_says_so_if_a_photo_comes():
    pad = DrawingPad(Recorder())
    assert not pad.photo_enabled
    pad.set_state({"photo_shape": [2, 2], "photo": [1.0, 1.0, 0.0, 1.0]})
    assert pad.probabilities == [] and "photo" in pad.message


def test_the_digit_keys_and_the_sample_button_put_a_sample_on_the_pad_and_it_is_classified():
    """The keys 0-9 and the Sample digit button send a custom message; Python answers with the sample's pixels."""
    classify, one, seven = Recorder(), stroke(28), np.eye(28)
    pad = DrawingPad(classify, samples={7: seven, 1: one})
    assert pad.sample_digits == [1, 7]
    pad._handle_custom_msg({"sample": 7}, [])  # what the comm does with the browser's model.send({sample: 7})
    (drawing,) = classify.calls
    assert drawing.shape == (112, 112) and drawing.max() <= 1 and drawing[0, 0] > 0.5 and drawing[0, -1] == 0
    assert pad.probabilities == pytest.approx(KNOWN) and pad.message == "Sample 7: I think this is a 7 (60% sure)."
    pad._handle_custom_msg({"sample": 7}, [])  # the same sample again is classified (and announced) again
    assert len(classify.calls) == 2 and pad.message.startswith("Sample 7: I think")
    pad._handle_custom_msg({"sample": None}, [])  # the button: the next sample, round and round
    assert pad.message.startswith("Sample 1:") and classify.calls[-1][:, 50:60].max() == 1
    pad._handle_custom_msg({"sample": None}, [])
    assert pad.message.startswith("Sample 7:") and len(classify.calls) == 4
    pad._handle_custom_msg({"sample": 3}, [])
    assert pad.probabilities == [] and pad.message == "This pad has no sample 3." and len(classify.calls) == 4
    pad._handle_custom_msg({"something": "else"}, [])  # other messages are ignored
    assert len(classify.calls) == 4
    bare = DrawingPad(Recorder())
    assert bare.sample_digits == []  # the browser hides the button and ignores the digit keys
    bare.load_sample()
    assert bare.message == "This pad has no sample digits."
    with pytest.raises(ValueError, match="2-D"):
        DrawingPad(Recorder(), samples={0: np.zeros(784)})


def test_the_state_is_plain_json_with_no_binary_buffers():
    """Binary buffers break canvas widgets on Colab: the drawing travels as a list of numbers."""
    pad = DrawingPad(Recorder())
    pad.set_drawing(stroke())
    _, paths, buffers = _remove_buffers(pad.get_state())
    assert paths == [] and buffers == []
    assert isinstance(pad.get_state()["pixels"], list)


def test_the_brush_draws_mnist_like_strokes():
    """A digit ~200 px tall on the 280 px canvas is shrunk into MNIST's 20x20 box: strokes of 2-3 px."""
    pad = DrawingPad(Recorder())
    assert pad.canvas_size == 280 and 2 <= pad.brush * 20 / 200 <= 3


def test_the_javascript_fetches_nothing_and_keeps_the_dom_contract():
    source = JS.read_text()
    assert DrawingPad(Recorder())._esm == source  # the pad ships this file, inline
    assert "http" not in source and "import(" not in source and not re.search(r"^\s*import\b", source, re.M)
    assert "fetch(" not in source and "XMLHttpRequest" not in source and "WebSocket" not in source
    assert "export default" in source
    for needed in ("pointerdown", "pointermove", "pointerup", "setPointerCapture", "touch-action: none"):
        assert needed in source, needed
    for name in ("course-drawpad", "course-drawpad-canvas", "course-drawpad-clear", "course-drawpad-upload"):
        assert f'"{name}"' in source, name
    assert 'accept = "image/*"' in source and "data-digit" not in source  # set through dataset.digit
    for needed in ("dataset.digit", "dataset.probability", "course-drawpad-bar", "course-drawpad-message"):
        assert needed in source, needed


def test_the_javascript_makes_a_pad_for_the_keyboard_and_screen_readers():
    """tests/test_drawpad_browser.py drives it by keyboard; here, what it must contain to be usable that way."""
    source = JS.read_text()
    for needed in (
        "canvas.tabIndex = 0",  # the canvas takes the focus
        'canvas.setAttribute("role", "application")',  # and gets the keys, even under a screen reader
        '"aria-label", "Drawing pad',
        '"aria-describedby"',  # the help text says which keys do what
        'message.setAttribute("aria-live", "polite")',  # the prediction is read out when it changes
        '"keydown"',
        "ArrowLeft",
        "model.send({ sample:",  # the digit keys and the Sample digit button
        '"course-drawpad-sample"',
        ":focus-visible",  # a visible focus outline
        "data-lm-suppress-shortcuts",  # JupyterLab's own shortcuts keep out of the pad
    ):
        assert needed in source, needed
    assert "upload { display: none" not in source, "the upload button must stay reachable by Tab"
    for key in ("arrow keys", "Space", "Enter", "0-9"):
        assert key in source.split("const HELP")[1].split("let views")[0], f"the help text does not mention {key}"


def test_a_real_model_reads_a_drawn_one_and_a_photo_of_a_seven():
    """The lesson's path: the pad's drawing (or photo) through MNIST's preprocessing into lesson 4's network."""
    digits = pytest.importorskip("course_utils.digits", reason="course_utils/digits.py (lesson 12) not there yet")
    torch = pytest.importorskip("torch")
    from course_utils.experiments import checkpoint_path, load_model

    path = checkpoint_path("two_conv_net", 0)
    if not path.exists():
        pytest.skip(f"needs lesson 4's saved model {path.name} (run lesson 4 first)")
    model, _ = load_model(path)
    model.eval()

    def classify(drawing):
        with torch.no_grad():
            return torch.softmax(model(digits.to_mnist(drawing, mean=0.1307, std=0.3081)), dim=1)[0].tolist()

    pad = DrawingPad(classify, classify_photo=lambda photo: classify(digits.photo_to_ink(photo)))
    pad.set_drawing(stroke())
    assert np.argmax(pad.probabilities) == 1, pad.message
    pad.set_drawing(np.full((112, 112), 1e-4))  # not blank to the pad, but no digit either
    assert pad.probabilities == [] and "draw a digit first" in pad.message
    photo = digits.synthetic_photo(digits.synthetic_digits([7], distort=False)[0])  # RGB, unevenly lit
    grey = (photo @ [0.299, 0.587, 0.114] / 255).round(3)  # what the browser sends, as drawpad.js computes it
    pad.set_state({"photo_shape": list(grey.shape), "photo": grey.ravel().tolist()})
    assert np.argmax(pad.probabilities) == 7, pad.message
