"""Lesson 11 (what the network sees): its hand-written saliency and occlusion.

The lesson's own functions are run here on an untrained network and compared with independent
computations (autograd's Jacobian, one forward pass per square, the receptive-field window).
Exercises 11 are tested in test_exercise_what_the_network_sees.py: their tasks (integrated
gradients, deletion curves, the cascading randomization check, an adversarial nudge) go past the
lesson, so the lesson's saliency and occlusion are no longer retyped there.
"""

from pathlib import Path

import nbformat
import pytest
import torch
from solution_cells import run_cells

import course_utils as cu

REPO = Path(__file__).resolve().parents[1]


# --- the lesson's own code ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def lesson():
    """The lesson's definitions, run with an untrained network on a small MNIST split."""
    notebook = nbformat.read(REPO / "notebooks" / "11_what_the_network_sees.ipynb", as_version=4)
    cu.set_seed(0)
    namespace = {
        "torch": torch,
        "device": torch.device("cpu"),
        "model": cu.ConvNet().eval(),
        "data": cu.load_data("mnist", train_size=1000, seed=0),
        "patch": 6,
        "stride": 2,
    }
    return notebook, run_cells(notebook, "ink", "saliency-def", "occlusion-def", namespace=namespace)


def test_the_lessons_saliency_is_the_jacobian_of_the_chosen_logit(lesson):
    _, ns = lesson
    model, images, targets = ns["model"], ns["data"].test_x[:4], torch.tensor([7, 0, 3, 3])
    got = ns["saliency"](model, images, targets)
    for image, target, saliency in zip(images, targets, got, strict=True):
        jacobian = torch.autograd.functional.jacobian(lambda x, t=target: model(x)[0, t], image[None])
        torch.testing.assert_close(saliency, jacobian[0, 0].abs(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("patch, stride", [(6, 2), (8, 4), (28, 1), (5, 3)])
def test_the_lessons_occlusion_map_is_one_forward_pass_per_square(lesson, patch, stride):
    _, ns = lesson
    model, image, fill = ns["model"], ns["data"].test_x[0], ns["grey"]
    got = ns["occlusion_map"](model, image, 3, patch, stride)
    n = (28 - patch) // stride + 1
    assert got.shape == (n, n)
    with torch.no_grad():
        before = model(image[None])[0, 3]
        for r in range(n):
            for c in range(n):
                copy = image.clone()
                copy[:, r * stride : r * stride + patch, c * stride : c * stride + patch] = fill
                torch.testing.assert_close(got[r, c], before - model(copy[None])[0, 3], rtol=1e-4, atol=1e-4)


def test_a_block2_pixel_sees_exactly_rows_4r_minus_3_to_4r_plus_12():
    """The window the lesson teaches: noise outside it changes nothing; just inside it, something."""
    torch.manual_seed(0)
    features = cu.ConvNet().features.eval()
    image = torch.randn(1, 1, 28, 28)
    for r in range(5):
        top, bottom = 4 * r - 3, 4 * r + 12
        noisy = torch.randn(1, 1, 28, 28) * 3
        rows = slice(max(top, 0), bottom + 1)
        noisy[..., rows, rows] = image[..., rows, rows]
        with torch.no_grad():
            torch.testing.assert_close(features(noisy)[0, :, r, r], features(image)[0, :, r, r])
    inputs = torch.zeros(1, 1, 28, 28, requires_grad=True)  # which pixels reach position (2, 2): rows 5 to 20
    features(inputs + image)[0, :, 2, 2].sum().backward()
    reach = inputs.grad[0, 0].abs().sum(dim=1).nonzero().flatten()
    assert (reach.min().item(), reach.max().item()) == (5, 20)
