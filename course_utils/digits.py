"""Your own digits for an MNIST network: MNIST's preprocessing, photos of paper, and made-up digits.

MNIST's digits were prepared in a fixed way: each was scaled to fit a 20x20 box, keeping its
aspect ratio (with antialiasing, which gives the grey edges), then placed in a 28x28 image so that
its centre of mass sits at the centre, (14, 14). A network trained on MNIST has seen nothing else,
so a digit you draw must go through the same steps before it is classified:

- `to_mnist`      crop to the ink, scale into 20x20, centre by centre of mass, normalize
- `photo_to_ink`  a photo of dark ink on light paper -> white ink on black, ready for `to_mnist`
- `otsu_threshold` the grey level that best splits an image into two groups (ink and paper)
- `synthetic_digits`, `synthetic_photo` digits drawn from a font, and an unevenly lit photo of one

An image with no ink raises `BlankImageError` (a `ValueError`) instead of getting a confident guess.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

BOX = 20  # MNIST scaled every digit so that its longer side is 20 pixels...
SIZE = 28  # ...and placed it in a 28x28 image...
CENTRE = (14, 14)  # ...with its centre of mass at (row 14, column 14), to the nearest pixel
INK_LEVEL = 0.1  # pixels above this (on a 0-1 scale) count as ink when cropping
MIN_CONTRAST = 0.2  # an image whose darkest and brightest pixels differ less than this is blank


class BlankImageError(ValueError):
    """An image with no ink in it: there is nothing to classify."""

    def __init__(self, message: str = "draw a digit first"):
        super().__init__(message)


def as_grey(image) -> np.ndarray:
    """A PIL image or an array (grey or RGB, uint8 0-255 or float 0-1) -> float 2-D array in [0, 1]."""
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("L"))
    image = np.asarray(image)
    if image.ndim == 3:  # RGB(A): PIL's luminance weights, the usual grey conversion
        image = image[..., :3] @ np.array([0.299, 0.587, 0.114])
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"expected a 2-D grey or a 3-D colour image, got shape {image.shape}")
    if image.dtype == np.uint8 or image.max() > 1:
        image = image / 255
    return image.astype(np.float32)


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """The smallest rectangle holding every pixel brighter than `INK_LEVEL`."""
    rows = np.flatnonzero((ink > INK_LEVEL).any(axis=1))
    cols = np.flatnonzero((ink > INK_LEVEL).any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def box_size(height: int, width: int, box: int = BOX) -> tuple[int, int]:
    """(height, width) scaled so that the longer side is ``box`` pixels, keeping the aspect ratio."""
    scale = box / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def scale_into_box(ink: np.ndarray, box: int = BOX) -> np.ndarray:
    """Resize so that the longer side is ``box`` pixels (antialiased: edges become grey)."""
    height, width = box_size(*ink.shape, box)
    resized = Image.fromarray(ink.astype(np.float32)).resize((width, height), Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized), 0, 1)  # Lanczos can overshoot a little beyond 0 and 1


def centre_by_mass(digit: np.ndarray, size: int = SIZE, centre=CENTRE) -> np.ndarray:
    """Paste ``digit`` into a ``size`` x ``size`` black image with its centre of mass at ``centre``."""
    row, col = ndimage.center_of_mass(digit)  # the ink-weighted average position
    height, width = digit.shape
    top = int(np.clip(round(centre[0] - row), 0, size - height))  # whole-pixel shift, digit kept inside
    left = int(np.clip(round(centre[1] - col), 0, size - width))
    out = np.zeros((size, size), np.float32)
    out[top : top + height, left : left + width] = digit
    return out


def to_mnist(image, mean: float, std: float, steps: bool = False):
    """MNIST's preprocessing of a white-on-black ink image -> a ``[1, 1, 28, 28]`` tensor for the model.

    ``mean`` and ``std`` are the training set's (``data.mean``, ``data.std``). With ``steps=True``
    also returns a dict of the images along the way: ink, cropped, scaled, centred.
    """
    import torch

    ink = as_grey(image)
    low, high = float(ink.min()), float(ink.max())
    if high - low < MIN_CONTRAST and high < 0.5:
        raise BlankImageError()  # an empty pad
    if high - low < MIN_CONTRAST:
        raise BlankImageError("no ink found in the image: it is all one light colour; draw a digit first")
    ink = (ink - low) / (high - low)  # background 0, strongest ink 1, as in MNIST
    cropped = crop_to_ink(ink)
    scaled = scale_into_box(cropped)
    centred = centre_by_mass(scaled)
    tensor = torch.from_numpy((centred - mean) / std).float()[None, None]
    if steps:
        return tensor, dict(ink=ink, cropped=cropped, scaled=scaled, centred=centred)
    return tensor


def otsu_threshold(image: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold: the grey level that splits the pixels into two groups as different as possible.

    For every candidate level, the pixels below and above it form two groups; Otsu picks the level
    where (size of group 1) x (size of group 2) x (difference of their means)² is largest.
    """
    counts, edges = np.histogram(image, bins=bins, range=(0, 1))
    centres = (edges[:-1] + edges[1:]) / 2
    n_dark = np.cumsum(counts)  # pixels in this bin or a darker one
    n_light = n_dark[-1] - n_dark
    sum_dark = np.cumsum(counts * centres)
    mean_dark = sum_dark / np.maximum(n_dark, 1)
    mean_light = (sum_dark[-1] - sum_dark) / np.maximum(n_light, 1)
    between = n_dark * n_light * (mean_dark - mean_light) ** 2
    return float(edges[np.argmax(between) + 1])  # pixels below this level form the dark group


def remove_specks(mask: np.ndarray, min_fraction: float = 0.05) -> np.ndarray:
    """Drop blobs smaller than ``min_fraction`` of the largest one (dust would stretch the crop)."""
    labels, n = ndimage.label(mask)
    if n == 0:
        return mask
    areas = ndimage.sum(mask, labels, index=range(1, n + 1))
    keep = np.flatnonzero(areas >= min_fraction * areas.max()) + 1
    return np.isin(labels, keep)


def photo_to_ink(photo, steps: bool = False, max_side: int = 256):
    """A photo of a digit on paper -> white ink on black (0-1 floats), ready for `to_mnist`.

    Grey -> even out the lighting -> Otsu threshold -> ink is 1, paper 0. With ``steps=True``
    also returns a dict: grey, paper (the estimated lighting), flat, threshold, ink.
    """
    grey = as_grey(photo)
    if max(grey.shape) > max_side:  # a phone photo: 256 pixels are plenty for a 20x20 digit
        scale = max_side / max(grey.shape)
        size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
        grey = np.asarray(Image.fromarray(grey).resize(size, Image.Resampling.BOX))
    grey = ndimage.gaussian_filter(grey, 1)  # a slight blur averages away the camera's pixel noise
    # Which way round? Take away the lighting (a heavy blur) and look at what is left: paper near 0,
    # and the ink, a minority of the pixels, far from it: far below 0 if it is darker than the paper.
    window = max(3, max(grey.shape) // 4)  # wider than any pen stroke, narrower than the lighting's changes
    detail = grey - ndimage.gaussian_filter(grey, window)
    dark_ink = -np.percentile(detail, 1) > np.percentile(detail, 99)
    paper_side = grey if dark_ink else 1 - grey  # now dark ink on light paper in either case
    # Uneven light: paper in a shadow can be darker than ink under the lamp, so no single grey level
    # separates them. Estimate the paper's brightness everywhere (a closing, max then min over the
    # window, erases the ink; a blur smooths what is left) and divide by it: paper becomes 1
    # everywhere and ink a fraction of it, however bright the light was there.
    # (Padding first continues the lighting's slope past the edges, so the window sees it there too.)
    padded = np.pad(paper_side, window, mode="reflect", reflect_type="odd")
    paper = ndimage.gaussian_filter(ndimage.grey_closing(padded, size=window), window / 4)
    paper = paper[window:-window, window:-window]
    flat = np.clip(paper_side / np.maximum(paper, 1e-3), 0, 1)
    if flat.min() > 1 - MIN_CONTRAST:
        raise BlankImageError("no ink found in the image: nothing is clearly darker than the paper around it")
    threshold = otsu_threshold(flat)
    ink = remove_specks(flat < threshold).astype(np.float32)
    if steps:
        return ink, dict(grey=grey, paper=paper, flat=flat, threshold=threshold, ink=ink)
    return ink


def synthetic_digits(labels, size: int = 112, seed: int = 0, distort: bool = True) -> np.ndarray:
    """One white-on-black image per label, drawn with PIL's built-in font: ``[len(labels), size, size]``.

    With ``distort`` each digit gets a random height, stroke width, rotation, shear and place on the
    canvas, like a drawing on a pad; without it, a plain digit in the middle.
    """
    rng = np.random.default_rng(seed)
    images = []
    for label in labels:
        height = rng.uniform(0.35, 0.8) * size if distort else 0.7 * size
        font = ImageFont.load_default(size=round(height * 1.3))  # a font's size is more than its digits
        canvas = Image.new("L", (2 * size, 2 * size))
        stroke = round(rng.uniform(0, 0.025) * height * 1.3) if distort else 0
        ImageDraw.Draw(canvas).text((size, size), str(label), fill=255, font=font, anchor="mm", stroke_width=stroke)
        if distort:
            shear = rng.uniform(-0.3, 0.3)  # x moves by shear * (y - centre): a slant
            canvas = canvas.transform(canvas.size, Image.AFFINE, (1, shear, -shear * size, 0, 1, 0), Image.BILINEAR)
            canvas = canvas.rotate(rng.uniform(-15, 15), Image.BILINEAR)
        glyph = canvas.crop(canvas.getbbox())
        place = rng.integers(0, size - np.array(glyph.size) + 1) if distort else (size - np.array(glyph.size)) // 2
        digit = Image.new("L", (size, size))
        digit.paste(glyph, tuple(int(p) for p in place))
        images.append(np.asarray(digit) / 255)
    return np.stack(images).astype(np.float32)


def synthetic_photo(ink: np.ndarray, seed: int = 0, shape=(180, 240)) -> np.ndarray:
    """A fake phone photo of ``ink`` (white-on-black) written in pencil on paper lit from one side:
    the paper in the shadow is darker than the pencil in the light. RGB uint8 ``[*shape, 3]``."""
    rng = np.random.default_rng(seed)
    height, width = shape
    side = min(shape) * 3 // 4
    written = np.zeros(shape, np.float32)
    top, left = (height - side) // 2, (width - side) // 2 + rng.integers(-width // 8, width // 8)
    written[top : top + side, left : left + side] = np.asarray(Image.fromarray(ink).resize((side, side)))
    rows, cols = np.mgrid[0:height, 0:width]
    light = 0.2 + 0.8 * (cols / width * 0.7 + rows / height * 0.3)  # dim at the top left, bright bottom right
    reflectance = 1 - 0.75 * np.clip(written, 0, 1)  # paper reflects nearly all the light, pencil a quarter
    grey = ndimage.gaussian_filter(light * reflectance, 1.0) + rng.normal(0, 0.02, shape)  # focus, noise
    tint = np.array([1.0, 0.97, 0.9])  # warm lamp light
    return (np.clip(grey[..., None] * tint, 0, 1) * 255).astype(np.uint8)
