"""course_utils.digits: MNIST's preprocessing for your own digits, photos of paper, made-up digits.

Fast: no notebook kernel. The tests marked with ``mnist_root`` use the real MNIST (and skip without it).
"""

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from course_utils import digits
from course_utils.digits import BlankImageError, otsu_threshold, photo_to_ink, synthetic_digits, to_mnist

MEAN, STD = 0.1307, 0.3081


def enlarge(image28: np.ndarray, size: int) -> np.ndarray:
    """An MNIST digit (uint8 28x28) as a float image of ``size`` x ``size``, like a drawing on a pad."""
    return np.asarray(Image.fromarray(image28.astype(np.float32) / 255).resize((size, size), Image.BILINEAR))


@pytest.fixture(scope="module")
def mnist_test(mnist_root):
    from course_utils.data import load_split

    images, labels = load_split("mnist", train=False, root=mnist_root, download=False)
    return images.numpy(), labels.numpy()


def test_a_shifted_and_shrunk_mnist_digit_comes_back_centred(mnist_test):
    images, _ = mnist_test
    similarities = []
    for image in images[:30]:
        canvas = np.zeros((112, 112), np.float32)
        canvas[6:62, 50:106] = enlarge(image, 56)  # half the canvas, up and to the right
        _, steps = to_mnist(canvas, MEAN, STD, steps=True)
        back = steps["centred"]
        original = np.array(ndimage.center_of_mass(image.astype(float)))
        assert np.abs(np.array(ndimage.center_of_mass(back)) - original).max() <= 1.0
        rows, cols = np.flatnonzero(back.max(axis=1) > 0.05), np.flatnonzero(back.max(axis=0) > 0.05)
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20, 21)  # MNIST's 20-pixel box
        similarities.append(np.corrcoef(back.ravel(), image.ravel().astype(float))[0, 1])
    assert min(similarities) > 0.5 and np.median(similarities) > 0.85, "it should look like the MNIST original"


def test_the_aspect_ratio_is_kept():
    tall = np.zeros((100, 100), np.float32)
    tall[10:90, 46:54] = 1.0  # a stroke 80 high, 8 wide
    _, steps = to_mnist(tall, MEAN, STD, steps=True)
    assert steps["cropped"].shape == (80, 8)
    assert steps["scaled"].shape == (20, 2)  # still ten times as tall as wide
    assert steps["centred"].shape == (28, 28)
    ink_rows = np.flatnonzero(steps["centred"].max(axis=1) > 0.5)
    ink_cols = np.flatnonzero(steps["centred"].max(axis=0) > 0.5)
    assert len(ink_rows) == 20 and len(ink_cols) <= 3
    assert digits.box_size(8, 80) == (2, 20)  # and a wide one stays wide
    assert digits.box_size(30, 40) == (15, 20)
    assert digits.box_size(5, 5) == (20, 20)  # small drawings are enlarged, as MNIST's were


def test_to_mnist_gives_a_normalized_batch_of_one():
    image = synthetic_digits([7], seed=0)[0]
    x = to_mnist(image, MEAN, STD)
    assert x.shape == (1, 1, 28, 28) and x.dtype == torch.float32
    assert x.min().item() == pytest.approx(-MEAN / STD)  # the background, as in the training data
    assert x.max().item() == pytest.approx((1 - MEAN) / STD, abs=0.05)
    uint8 = to_mnist((image * 255).astype(np.uint8), MEAN, STD)
    assert torch.allclose(uint8, x, atol=0.05)  # uint8 0-255 and float 0-1 inputs agree


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((112, 112), np.float32), "draw a digit first"),  # an empty pad
        (np.zeros((28, 28), np.uint8), "draw a digit first"),
        (np.ones((112, 112), np.float32), "no ink found in the image"),  # all white
        (np.full((50, 60), 255, np.uint8), "no ink found in the image"),
        (np.full((112, 112), 0.03, np.float32), "draw a digit first"),  # a faint smudge is no digit
    ],
    ids=["empty", "empty-uint8", "all-white", "all-white-uint8", "faint"],
)
def test_blank_images_get_a_clear_message_not_a_guess(image, message):
    with pytest.raises(BlankImageError, match=message):
        to_mnist(image, MEAN, STD)
    assert issubclass(BlankImageError, ValueError)


def test_a_blank_page_photo_gets_a_clear_message():
    page = digits.synthetic_photo(np.zeros((112, 112), np.float32), seed=0)  # unevenly lit, noisy, no ink
    with pytest.raises(BlankImageError, match="no ink found in the image"):
        photo_to_ink(page)
    with pytest.raises(BlankImageError, match="no ink found in the image"):
        photo_to_ink(np.full((40, 40), 200, np.uint8))


def test_otsu_matches_a_brute_force_search():
    rng = np.random.default_rng(0)
    pixels = np.clip(np.concatenate([rng.normal(0.2, 0.05, 300), rng.normal(0.7, 0.1, 2000)]), 0, 1)
    counts, edges = np.histogram(pixels, bins=256, range=(0, 1))
    centres = (edges[:-1] + edges[1:]) / 2

    def spread_between(k):  # groups: bins below k and the rest
        low, high = counts[:k], counts[k:]
        if low.sum() == 0 or high.sum() == 0:
            return 0.0
        mean_low, mean_high = (low @ centres[:k]) / low.sum(), (high @ centres[k:]) / high.sum()
        return low.sum() * high.sum() * (mean_low - mean_high) ** 2

    best = max(range(1, 256), key=spread_between)
    assert otsu_threshold(pixels) == pytest.approx(edges[best])
    assert 0.3 < otsu_threshold(pixels) < 0.55  # between the two groups


def test_the_synthetic_photo_is_unevenly_lit():
    ink = synthetic_digits([3], seed=0)[0]
    photo = digits.synthetic_photo(ink, seed=0)
    assert photo.dtype == np.uint8 and photo.shape == (180, 240, 3)
    grey = digits.as_grey(photo)
    _, steps = photo_to_ink(photo, steps=True)
    ink_mask = steps["ink"] > 0
    assert grey[~ink_mask].min() < grey[ink_mask].max(), "some paper should be darker than some ink"
    naive = grey < otsu_threshold(grey)  # one threshold for the whole photo finds far too much "ink"
    assert naive.sum() > 1.5 * ink_mask.sum()


def test_photo_to_ink_finds_the_strokes_either_way_round():
    ink = synthetic_digits([4], seed=1)[0]
    photo = digits.synthetic_photo(ink, seed=1)
    found = photo_to_ink(photo)
    assert set(np.unique(found)) == {0.0, 1.0}
    assert ndimage.label(found)[1] == 1  # one stroke, no specks from the shadow or the noise
    inverted = photo_to_ink(255 - photo)  # chalk on a blackboard: light ink on dark
    assert (inverted != found).mean() < 0.01
    from_pil = photo_to_ink(Image.fromarray(photo))
    assert (from_pil != found).mean() < 0.01


def test_synthetic_digits_are_reproducible_images():
    a = synthetic_digits(range(10), seed=3)
    assert a.shape == (10, 112, 112) and a.dtype == np.float32
    assert 0 <= a.min() and a.max() <= 1 and (a.max(axis=(1, 2)) > 0.9).all()
    assert np.array_equal(a, synthetic_digits(range(10), seed=3))
    plain = synthetic_digits([8], distort=False)[0]
    assert abs(ndimage.center_of_mass(plain)[1] - 56) < 6  # undistorted: in the middle


@pytest.fixture(scope="module")
def quick_model(mnist_root):
    """A two-conv net trained for one epoch on 10,000 images: a few seconds, about 97% accurate."""
    from course_utils.data import load_data
    from course_utils.experiments import train_model

    data = load_data("mnist", train_size=10_000, seed=0, root=mnist_root, download=False)
    model, _ = train_model(data, epochs=1, seed=0, device="cpu", progress=False)
    return model.eval(), data


def test_an_unevenly_lit_photo_of_dark_ink_is_classified_like_the_digit_it_shows(quick_model, mnist_test):
    model, data = quick_model
    images, labels = mnist_test
    chosen = np.arange(40)
    photos = [digits.synthetic_photo(enlarge(images[i], 112), seed=int(i)) for i in chosen]
    x = torch.cat([to_mnist(photo_to_ink(photo), data.mean, data.std) for photo in photos])
    with torch.no_grad():
        from_photos = model(x).argmax(dim=1).numpy()
        from_mnist = model(data.test_x[chosen]).argmax(dim=1).numpy()
    assert (from_photos == labels[chosen]).mean() >= 0.85, (from_photos, labels[chosen])
    assert (from_photos == from_mnist).mean() >= 0.85  # the photo reads as the original does
