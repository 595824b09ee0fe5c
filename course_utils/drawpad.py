"""A drawing pad in the notebook: draw a digit (or upload a photo of one) and see what the network thinks.

Lesson 12 uses it. ``DrawingPad(classify)`` is a Jupyter widget made with anywidget: a 280x280 canvas
you draw on with a mouse, a finger or a stylus, a Clear button, an upload button for a photo of a
digit on paper, and a bar chart of the network's ten class probabilities.

Without a mouse: Tab to the canvas; the arrow keys move a round cursor (Shift: four times further),
Space or Enter puts the pen down and lifts it again, which sends the stroke; with ``samples`` (e.g.
one real MNIST test digit per class), the keys 0-9 and a "Sample digit" button put one on the pad.
Clear and the other buttons are ordinary buttons. The sentence under the bars is an ARIA live
region, so a screen reader reads each prediction out.

How the two halves talk: the browser part (``drawpad.js``, shipped beside this file; it fetches
nothing from the internet) sends the drawing after each stroke as a plain list of numbers in the
``pixels`` trait (an attribute that the widget keeps equal in Python and in the browser): the canvas
shrunk to ``size`` x ``size``, row by row, ink 1 and empty paper 0. Python turns it back into a 2-D
array, calls ``classify(drawing)`` and sets ``probabilities`` and ``message``, which the browser
draws. A photo arrives the same way in ``photo`` (grey values, white paper 1) and goes to
``classify_photo``. Plain lists, not binary buffers, because binary buffers break canvas widgets on
Google Colab.

Example:
    >>> pad = DrawingPad(classify=lambda drawing: [0.1] * 10)
    >>> pad.set_drawing(np.eye(112))
    >>> pad.message
    'I think this is a 0 (10% sure).'

Without a widget frontend (a script, papermill, nbval) the pad shows nothing but still works from
Python: ``set_drawing`` does what a stroke in the browser does. On Google Colab, call
``enable_colab_widgets()`` first.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import anywidget
import numpy as np
import traitlets
from PIL import Image

PROMPT = "Draw a digit (0-9) in the box with your mouse, finger, pen or the keyboard — or upload a photo of one."
EMPTY = "The pad is empty: draw a digit first."


class DrawingPad(anywidget.AnyWidget):
    """A canvas to draw a digit on, with the class probabilities ``classify`` gives it as a bar chart.

    ``classify(drawing)`` gets the drawing as a square float array in [0, 1] (ink 1, empty 0) and
    returns the 10 class probabilities, or raises a ValueError whose message the pad shows instead
    (e.g. "draw a digit first"). ``classify_photo(photo)``, if given, gets an uploaded photo as a 2-D
    float array of grey values in [0, 1] (white paper 1), at most ``photo_size`` pixels on its long side.
    ``samples`` maps digits to images of them (2-D, ink 1, e.g. MNIST test digits): the keys 0-9 and
    the Sample digit button put them on the pad, for a student who cannot draw with a pointer.
    """

    _esm = (Path(__file__).with_name("drawpad.js")).read_text(encoding="utf-8")

    canvas_size = traitlets.Int(280).tag(sync=True)  # the canvas, in screen pixels
    # The brush's width on the canvas. A digit drawn ~200 px tall is shrunk to MNIST's 20x20 box, a
    # tenth of its size, so the strokes end up 2-3 px wide: like the pen strokes MNIST was written with.
    brush = traitlets.Float(24.0).tag(sync=True)
    size = traitlets.Int(112).tag(sync=True)  # the drawing Python gets is size x size
    photo_size = traitlets.Int(280).tag(sync=True)  # an uploaded photo is shrunk to this on its long side
    photo_enabled = traitlets.Bool(False).tag(sync=True)  # show the upload button?
    sample_digits = traitlets.List(traitlets.Int()).tag(sync=True)  # the digits `samples` holds
    prompt = traitlets.Unicode(PROMPT).tag(sync=True)
    # What the browser sends: plain lists of numbers, row by row (echo_update=False: not sent back).
    pixels = traitlets.List(traitlets.Float()).tag(sync=True, echo_update=False)
    photo = traitlets.List(traitlets.Float()).tag(sync=True, echo_update=False)
    photo_shape = traitlets.List(traitlets.Int(), default_value=[0, 0]).tag(sync=True)  # [height, width]
    # What Python sends back: ten probabilities (empty: no bars) and a sentence.
    probabilities = traitlets.List(traitlets.Float()).tag(sync=True)
    message = traitlets.Unicode(PROMPT).tag(sync=True)

    def __init__(
        self,
        classify: Callable[[np.ndarray], Sequence[float]],
        classify_photo: Callable[[np.ndarray], Sequence[float]] | None = None,
        samples: Mapping[int, np.ndarray] | None = None,
        **kwargs,
    ):
        self.samples = {int(k): np.asarray(image, dtype=np.float32) for k, image in (samples or {}).items()}
        if any(image.ndim != 2 for image in self.samples.values()):
            raise ValueError("each sample is a 2-D image (ink 1, empty 0)")
        super().__init__(photo_enabled=classify_photo is not None, sample_digits=sorted(self.samples), **kwargs)
        self.classify = classify
        self.classify_photo = classify_photo
        self.error: Exception | None = None  # the last exception classify raised, to look at
        self._sample = -1  # the last sample shown: the Sample digit button shows the next one
        self.on_msg(self._on_message)

    def set_drawing(self, drawing) -> None:
        """Put a square array (ink 1, empty 0) on the pad as if it had been drawn: the pad classifies it."""
        drawing = np.asarray(drawing, dtype=float)
        if drawing.ndim != 2 or drawing.shape[0] != drawing.shape[1]:
            raise ValueError(f"a drawing is a square 2-D array, got shape {drawing.shape}")
        self.size = drawing.shape[0]
        self.pixels = drawing.clip(0, 1).ravel().tolist()

    def load_sample(self, digit: int | None = None) -> None:
        """What the keys 0-9 and the Sample digit button (``digit`` None: the next sample) do."""
        if digit is None and self.samples:
            digit = next((k for k in sorted(self.samples) if k > self._sample), min(self.samples))
        if digit not in self.samples:
            self._show([], f"This pad has no sample {'digits' if digit is None else digit}.")
            return
        self._sample = digit
        image = Image.fromarray(self.samples[digit]).resize((self.size, self.size), Image.Resampling.BILINEAR)
        with self.hold_sync():  # the canvas and the sentence change together
            self.pixels = []  # so that the same sample twice is classified (and announced) twice
            self.pixels = np.asarray(image).clip(0, 1).ravel().round(3).tolist()
            self.message = f"Sample {digit}: {self.message}"

    def clear(self) -> None:
        """What the Clear button does: an empty pad, no bars, the prompt."""
        self.pixels = []
        self.probabilities = []
        self.message = self.prompt

    def drawing(self) -> np.ndarray:
        """The pad's drawing as a ``size`` x ``size`` array (all zeros if nothing is drawn)."""
        if len(self.pixels) != self.size**2:
            return np.zeros((self.size, self.size), dtype=np.float32)
        return np.asarray(self.pixels, dtype=np.float32).reshape(self.size, self.size)

    def _on_message(self, _, content, buffers) -> None:
        """A message from the browser: {"sample": a digit, or None} from a digit key or the Sample digit button."""
        if isinstance(content, dict) and "sample" in content:
            self.load_sample(content["sample"])

    @traitlets.observe("pixels")
    def _on_drawing(self, change) -> None:
        pixels = change["new"]
        if not pixels:  # cleared
            self._show([], self.prompt)
        elif len(pixels) != self.size**2:
            self._show([], f"The pad sent {len(pixels)} values, not {self.size}x{self.size}; press Clear.")
        elif max(pixels) <= 0:
            self._show([], EMPTY)
        else:
            self._classify(self.classify, self.drawing())

    @traitlets.observe("photo")
    def _on_photo(self, change) -> None:
        values = change["new"]
        if not values:
            return
        height, width = self.photo_shape
        if self.classify_photo is None:
            self._show([], "This pad reads no photos (it was made without classify_photo).")
        elif len(values) != height * width:
            self._show([], f"The photo sent {len(values)} values, not {height}x{width}; upload it again.")
        else:
            photo = np.asarray(values, dtype=np.float32).reshape(height, width).clip(0, 1)
            self._classify(self.classify_photo, photo)
        self.photo = []  # so that uploading the same photo again counts as a change

    def _classify(self, function, image: np.ndarray) -> None:
        """Call ``function(image)`` and show its probabilities; show any error as the message."""
        self.error = None
        try:
            p = np.asarray(function(image), dtype=float).ravel()
            if p.shape != (10,) or not np.isfinite(p).all() or p.min() < 0 or abs(p.sum() - 1) > 1e-3:
                raise TypeError(f"classify must return 10 probabilities that add up to 1 (softmax), got {p}")
        except ValueError as error:  # the classifier's own verdict, e.g. "draw a digit first"
            self.error = error
            self._show([], str(error))
            return
        except Exception as error:  # never let an error escape into the widget's messages
            self.error = error
            self._show([], f"Could not classify this: {type(error).__name__}: {error}")
            return
        best = int(p.argmax())
        self._show(p.tolist(), f"I think this is a {best} ({p[best]:.0%} sure).")

    def _show(self, probabilities: list, message: str) -> None:
        with self.hold_sync():  # one message to the browser, not two
            self.probabilities = probabilities
            self.message = message


def enable_colab_widgets() -> bool:
    """On Google Colab, switch on widgets from outside Colab (the pad is one); elsewhere do nothing.

    Returns whether it did something. (anywidget also does this when a pad is made; calling it in
    the lesson makes the step visible.)
    """
    if "google.colab" not in sys.modules:
        return False
    from google.colab import output

    output.enable_custom_widget_manager()
    return True
