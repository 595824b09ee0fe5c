"""What the checks of exercises 11 compare with (`what_the_network_sees.py` holds the checks themselves).

The course's answer to each task, written so that one keyword argument turns it into a classic
mistake: ``integrated_gradients_reference(..., alphas="left")`` is integrated gradients with the
left ends of the steps instead of their midpoints. A check shows a mistake's hint only when your
answer computes exactly what that mistake computes (`what_the_network_sees_mistakes.py` lists them);
otherwise it says what differs.
"""

import copy

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

from course_utils import ConvNet

TOP_DOWN = ["classifier.3", "classifier.1", "features.1.0", "features.0.0"]  # ConvNet's weight layers, output first


def saliency_reference(model, images, targets):
    """Lesson 11's saliency: |d logit[target] / d pixel| of each image, [N, 28, 28]."""
    images = images.clone().requires_grad_(True)
    score = model(images)[torch.arange(len(images)), torch.as_tensor(targets)].sum()
    (gradient,) = torch.autograd.grad(score, images)
    return gradient[:, 0].abs()


def signed_gradient(model, images, targets):
    """The same gradient with its sign: a second attribution method for the checks."""
    images = images.clone().requires_grad_(True)
    score = model(images)[torch.arange(len(images)), torch.as_tensor(targets)].sum()
    return torch.autograd.grad(score, images)[0][:, 0]


def rank_correlation_reference(maps_a, maps_b) -> float:
    """Lesson 11's Spearman rank correlation of two maps of each image, averaged over the images."""
    return float(np.mean([spearmanr(a.flatten(), b.flatten())[0] for a, b in zip(maps_a, maps_b, strict=True)]))


def integrated_gradients_reference(
    model,
    image,
    target,
    baseline,
    steps,
    alphas="midpoints",
    times="difference",
    probability=False,
    reduce="mean",
    size=False,
):
    """Task 1: (image - baseline) x the mean gradient of the target logit at `steps` points on the path."""
    k = torch.arange(steps, dtype=image.dtype)
    ends = {"midpoints": k + 0.5, "left": k, "right": k + 1}  # of the k-th of the steps: its middle, or an end
    alpha = torch.linspace(0, 1, steps, dtype=image.dtype) if alphas == "linspace" else ends[alphas] / steps
    path = (baseline + alpha[:, None, None, None] * (image - baseline)).requires_grad_(True)  # [steps, 1, 28, 28]
    scores = model(path).softmax(dim=1) if probability else model(path)
    (gradients,) = torch.autograd.grad(scores[:, target].sum(), path)
    average = {"mean": gradients.mean(dim=0), "sum": gradients.sum(dim=0), "none": gradients}[reduce]
    factor = {"difference": image - baseline, "image": image, "nothing": torch.ones_like(image)}[times]
    return (factor * average)[0].abs() if size else (factor * average)[0]  # "none": [0] is the first step's


def deletion_curve_reference(
    model, image, target, attribution, fill, step, descending=True, by_size=False, probability=False
):
    """Task 2: the target logit with the k highest-attributed pixels set to fill, k = 0, step, ... (<= 784)."""
    order = (attribution.abs() if by_size else attribution).flatten().argsort(descending=descending)
    copies = []
    for k in range(0, 28 * 28 + 1, step):
        deleted = image.clone().flatten()
        deleted[order[:k]] = fill
        copies.append(deleted.reshape(image.shape))
    with torch.no_grad():
        logits = model(torch.stack(copies))
    return (logits.softmax(dim=1) if probability else logits)[:, target]


def cascading_randomization_reference(
    model, random_model, images, targets, method, order=TOP_DOWN, cumulative=True, against="original"
):
    """Task 3: rank correlations of the maps of `model` and of copies whose top 1, 2, 3, 4 layers are random."""
    original = previous = method(model, images, targets)
    randomized, correlations = copy.deepcopy(model), []
    for name in order:
        if not cumulative:
            randomized = copy.deepcopy(model)
        randomized.get_submodule(name).load_state_dict(random_model.get_submodule(name).state_dict())
        maps = method(randomized, images, targets)
        correlations.append(rank_correlation_reference(original if against == "original" else previous, maps))
        previous = maps
    return correlations


def nudge_reference(
    model,
    image,
    label,
    eps,
    max_steps,
    low,
    high,
    *,
    loss=False,
    direction=-1,
    signs=True,
    accumulate=False,
    clamp="each",
    stop=True,
    counted="steps",
):
    """Task 4: steps of eps against the sign of the label logit's gradient, clamped, until the prediction flips."""
    model.eval()
    x, total, steps = image.clone(), torch.zeros_like(image), 0
    while steps < max_steps:
        steps += 1
        x.requires_grad_(True)
        logits = model(x[None])
        score = -nn.functional.cross_entropy(logits, torch.tensor([label])) if loss else logits[0, label]
        (gradient,) = torch.autograd.grad(score, x)
        total = total + gradient if accumulate else gradient
        x = x.detach() + direction * eps * (total.sign() if signs else total)
        x = x.clamp(low, high) if clamp == "each" else x
        with torch.no_grad():
            if stop and model(x[None]).argmax(dim=1).item() != label:
                break
    return x.clamp(low, high) if clamp == "end" else x, steps - (counted == "index")  # index: the loop's last k


# --- inputs for the checks ---------------------------------------------------------------------


def levels(data) -> list:
    """Blank paper, mid-grey and full ink, in the normalized units the network sees."""
    return [(level - data.mean) / data.std for level in (0.0, 0.5, 1.0)]


def logit(model, image, target) -> float:
    with torch.no_grad():
        return model(image[None])[0, target].item()


def predicted(model, image) -> int:
    with torch.no_grad():
        return model(image[None]).argmax(dim=1).item()


def random_network(seed: int) -> ConvNet:
    """A ConvNet with random weights, made without disturbing the notebook's random numbers."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return ConvNet().eval()


def hardest(model, data, eps, indices) -> list:
    """The test images of ``indices`` the network reads right and the nudge flips in under 20 steps, the
    slowest first: a mistake in the later steps changes their result."""
    paper, _, ink = levels(data)
    right = [i for i in indices if predicted(model, data.test_x[i]) == data.test_y[i]]
    steps = {i: nudge_reference(model, data.test_x[i], int(data.test_y[i]), eps, 20, paper, ink)[1] for i in right}
    return sorted((i for i in right if steps[i] < 20), key=lambda i: -steps[i])
