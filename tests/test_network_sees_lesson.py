"""Lesson 11 (what the network sees): its hand-written saliency and occlusion, and fair exercises.

The lesson's own functions are run here on an untrained network and compared with independent
computations (autograd's Jacobian, one forward pass per square, the receptive-field window). The
exercise checks are run in this process with classic wrong answers, each of which must fail its
visible check with a hint that names the mistake, and with other correct answers, which must pass.
"""

import re
from pathlib import Path

import nbformat
import pytest
import torch
from solution_cells import cell, run_cells, without_hidden_tests

import course_utils as cu
from course_utils.checks import CheckFailed

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


# --- the exercises ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exercises():
    """Exercises 11 set up in quick mode, with the solution's own answers to every task."""
    notebook = nbformat.read(REPO / "solutions" / "11_what_the_network_sees_exercises.ipynb", as_version=4)
    params = cell(notebook, "code-01")
    params.source = params.source.replace("quick: bool = False", "quick: bool = True")
    answers = [c.id for c in notebook.cells if c.metadata.get("course", {}).get("role") == "answer"]
    return notebook, run_cells(notebook, "code-01", "code-03", *answers)


CHOSEN_LOGITS = "score = logits[torch.arange(len(images)), torch.as_tensor(targets)].sum()"
RAISE = '    if by not in ("max", "mean"):\n        raise ValueError(f"by must be \'max\' or \'mean\', got {by!r}")\n'
WRONG = {  # id: (task, the right code, a classic mistake, what the hint must say)
    "signed": ("task1", "return gradient.abs()[:, 0]", "return gradient[:, 0]", "signed gradients"),
    "softmax": ("task1", "logits = model(images)", "logits = model(images).softmax(dim=1)", "softmax probability"),
    "all-logits": ("task1", CHOSEN_LOGITS, "score = logits.sum()", "all ten logits"),
    "channel-kept": ("task1", "return gradient.abs()[:, 0]", "return gradient.abs()", "drop the channel dimension"),
    "sign-flipped": ("task2", "return (before - after)", "return (after - before)", "the sign is flipped"),
    "one-too-few": ("task2", "image.shape[-1] - patch + 1", "image.shape[-1] - patch", "positions per side"),
    "transposed": (
        "task2",
        "copy[:, top : top + patch, left : left + patch]",
        "copy[:, left : left + patch, top : top + patch]",
        "rows and columns are swapped",
    ),
    "sum-not-mean": ("task3", "maps.mean(dim=(2, 3))", "maps.sum(dim=(2, 3))", "the mean of each channel's 5x5 map"),
    "smallest": ("task3", ".topk(k).indices", ".topk(k, largest=False).indices", "INDICES of the largest"),
    "values": ("task3", ".topk(k).indices", ".topk(k).values", "INDICES of the largest"),
    "no-value-error": ("task3", RAISE, "", "raises ValueError"),
    "before-relu": ("task4", "model.classifier[:3](", "model.classifier[:2](", "before the ReLU"),
    "self-included": (
        "task4",
        '    distances[index] = float("inf")  # never the image itself\n',
        "",
        "its own neighbour",
    ),
}


@pytest.mark.parametrize("task, right, wrong, hint", WRONG.values(), ids=WRONG.keys())
def test_a_classic_mistake_fails_its_visible_check_with_a_hint_that_names_it(exercises, task, right, wrong, hint):
    notebook, namespace = exercises
    answer = cell(notebook, f"{task}-answer").source
    assert answer.count(right) == 1, right
    run_cells(notebook, f"{task}-answer", namespace=namespace, **{f"{task}_answer": answer.replace(right, wrong)})
    try:
        with pytest.raises(CheckFailed, match=re.escape(hint)):
            check = without_hidden_tests(cell(notebook, f"{task}-check").source)
            run_cells(notebook, f"{task}-check", namespace=namespace, **{f"{task}_check": check})
    finally:
        run_cells(notebook, f"{task}-answer", namespace=namespace)  # the right answer again


OTHER_RIGHT_ANSWERS = {
    "task1": """
def saliency(model, images, targets):
    maps = []
    for image, target in zip(images, targets):
        x = image[None].detach().clone()
        x.requires_grad = True
        model.zero_grad()
        model(x)[0, int(target)].backward()
        maps.append(x.grad[0, 0].abs())
    return torch.stack(maps)
""",
    "task2": """
def occlusion_map(model, image, target, patch, stride, fill):
    n = (28 - patch) // stride + 1
    result = torch.zeros(n, n)
    with torch.no_grad():
        before = model(image[None])[0, target]
        for r in range(n):
            for c in range(n):
                covered = image.clone()
                covered[0, r * stride : r * stride + patch, c * stride : c * stride + patch] = fill
                result[r, c] = before - model(covered[None])[0, target]
    return result
""",
    "task3": """
def channel_scores(model, images, by="max"):
    if by == "max":
        reduce = lambda m: m.flatten(2).max(dim=2).values
    elif by == "mean":
        reduce = lambda m: m.flatten(2).mean(dim=2)
    else:
        raise ValueError("by must be max or mean")
    with torch.no_grad():
        return reduce(model.features(images))


def top_images(scores, channel, k):
    return torch.argsort(scores[:, channel], descending=True)[:k]
""",
    "task4": """
def hidden_features(model, images):
    with torch.no_grad():
        x = model.features(images).flatten(1)
        return torch.relu(model.classifier[1](x))


def nearest_neighbours(features, index, k):
    distances = torch.cdist(features[index : index + 1], features)[0]
    order = distances.argsort()
    return order[order != index][:k]
""",
}


@pytest.mark.parametrize("task", sorted(OTHER_RIGHT_ANSWERS))
def test_other_correct_answers_pass_every_check_hidden_ones_included(exercises, task):
    notebook, namespace = exercises
    try:
        run_cells(notebook, f"{task}-answer", namespace=namespace, **{f"{task}_answer": OTHER_RIGHT_ANSWERS[task]})
        run_cells(notebook, f"{task}-check", namespace=namespace)
    finally:
        run_cells(notebook, f"{task}-answer", namespace=namespace)
