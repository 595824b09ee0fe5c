"""Exercises 1 (exploring MNIST by hand): the classic mistakes fail a visible check with the hint that
names them, other correct answers pass everything, and a missing answer or a broken one says so in one line.

Runs in this process, on the solution's cells (`solution_cells`): setup once, then one answer and its check.
"""

import re
from pathlib import Path

import nbformat
import pytest
from solution_cells import (
    assert_bug_fails_with_hint,
    cell,
    check_task,
    quick_exercise,
    run_cells,
    run_hidden,
    solution_answer,
)

from course_utils.checks import CheckFailed

REPO = Path(__file__).resolve().parents[1]
NAME = "01_data_exploration_exercises.ipynb"

STREAMING = """    n_pixels, total, total_of_squares = 0, 0.0, 0.0
    for batch in batches:
        pixels = batch.float() / 255
        n_pixels += pixels.numel()
        total += pixels.sum().item()
        total_of_squares += (pixels**2).sum().item()
    mean = total / n_pixels
    return mean, (total_of_squares / n_pixels - mean**2) ** 0.5
"""
MEAN_OF_MEANS = """    means, squares = [], []
    for batch in batches:
        pixels = batch.float() / 255
        means.append(pixels.mean().item())
        squares.append((pixels**2).mean().item())
    mean = sum(means) / len(means)
    return mean, (sum(squares) / len(squares) - mean**2) ** 0.5
"""
TWO_LOOPS = """    n_pixels, total, spread = 0, 0.0, 0.0
    for batch in batches:
        n_pixels += batch.numel()
        total += (batch.float() / 255).sum().item()
    mean = total / n_pixels
    for batch in batches:
        spread += ((batch.float() / 255 - mean) ** 2).sum().item()
    return mean, (spread / n_pixels) ** 0.5
"""
RANDPERM = "torch.randperm(len(positions), generator=generator)"
STD_FIRST = "the std first: mean first, then std: return mean, std"
VAR_MEAN = "mean, var = torch.var_mean(pixels)\n    return mean.item(), var.sqrt().item()"
STD_MEAN = "std, mean = torch.std_mean(pixels)\n    return std.item(), mean.item()"
PICK = f"positions[{RANDPERM}[:per_class]]"
SQRT_PER_IMAGE = STREAMING.replace("pixels.numel()", "len(batch)").replace(
    "(total_of_squares / n_pixels - mean**2) ** 0.5", "__import__('math').sqrt(total_of_squares / n_pixels - mean**2)"
)
EMPTY_CLASS = "a class with no images has a nan mean (the mean of nothing): loop over range(n_classes)"

BUGS = [  # (task, text in the solution's answer, the mistake, the hint the check must give)
    (1, "torch.bincount(labels, minlength=n_classes)", "torch.bincount(labels)", "minlength=n_classes"),
    (1, "minlength=n_classes)", "minlength=10)", "use n_classes, not 10"),
    (1, "minlength=n_classes)", "minlength=n_classes).float()", "count in an int64 tensor, or use .long()"),
    (1, PICK, "positions[:per_class]", "shuffle all of a class's positions, torch.randperm(len(positions)"),
    (1, PICK, "positions[torch.randperm(per_class, generator=generator)]", "shuffle all of a class's positions"),
    (1, "        positions =", "        generator.manual_seed(0)\n        positions =", "do not seed it again"),
    (1, RANDPERM, "torch.randperm(len(positions))", "torch.randperm(n, generator=generator)"),
    (1, "generator=generator)", "generator=torch.Generator().manual_seed(0))", "draw with the generator you are given"),
    (1, PICK, f"labels[{PICK}]", "return positions in labels"),
    (1, PICK, "positions[torch.randint(len(positions), (per_class,), generator=generator)]", "never repeats"),
    (1, "(labels == d).nonzero().flatten()", "torch.randperm(len(labels), generator=generator)", "of each class d"),
    (2, "mean().item(), pixels.std().item()", "mean(), pixels.std()", ".item()"),
    (2, "pixels = images.float() / 255", "pixels = images.float()", "divide by 255"),
    (2, "pixels.std().item()", "pixels.std(dim=(1, 2)).mean().item()", "not one per image"),
    (2, STREAMING, MEAN_OF_MEANS, "weight each batch by its number of pixels"),
    (2, "total += pixels.sum().item()", "total += pixels.sum()", "with .item() or float(...)"),
    (2, "(pixels**2).sum().item()", "(batch**2).sum().item() / 255**2", "uint8 squares wrap"),
    (
        2,
        "n_pixels += pixels.numel()",
        "n_pixels += len(pixels)",
        "N counts the pixels, 28 x 28 an image: add batch.numel()",
    ),
    (2, "** 0.5\n", "\n", "take its square root"),
    (2, "(total_of_squares / n_pixels - mean**2)", "(total_of_squares / n_pixels - mean)", "the mean squared"),
    (2, STREAMING, TWO_LOOPS, "can be read only once"),
    (2, STREAMING, "    return pixel_stats(torch.cat(list(batches)))\n", "keep running totals"),
    (3, "images.float() / 255", "images.float()", "divide by 255"),
    (3, "pixels[labels == d].mean(dim=0)", "pixels[labels == d].mean(dim=0).flatten()", "do not flatten"),
    (3, "for d in range(n_classes)", "for d in range(10)", "use n_classes, not 10"),
    (3, "pixels[labels == d].mean(dim=0)", "images[labels == d].mean(dim=0)", "could not infer output dtype"),
    (3, '    distances.fill_diagonal_(float("inf"))', "    pass", "t.fill_diagonal_(float('inf')) first"),
    (3, "distances.argmin()", "distances.argmax()", "the nearest pair is argmin"),
    (1, "(labels == d).nonzero().flatten()", "(labels == d).nonzero()", "a 1-D tensor"),
    (1, "return torch.cat(picked)", "return torch.stack(picked)", "torch.cat, not torch.stack"),
    (
        1,
        "for d in range(n_classes):\n        positions",
        "for d in range(n_classes - 1):\n        positions",
        "each of the n_classes",
    ),
    (
        2,
        "return pixels.mean().item(), pixels.std().item()",
        "return pixels.mean(dim=0), pixels.std(dim=0)",
        "not one per image",
    ),
    (3, "return (min(i, j), max(i, j))", "return (__import__('numpy').int64(min(i, j)), max(i, j))", "NumPy's number"),
    (3, "return (min(i, j), max(i, j))", "return (max(i, j), min(i, j))", "the smaller class first"),
    (3, "len(means))", "10)", "column k % n"),
    (3, "flat = means.flatten(start_dim=1)", "flat = means", "means.flatten(start_dim=1)"),
    (3, "return (min(i, j), max(i, j))", "return (distances.argmin() // 3, 2)", "int("),
    (
        3,
        "i, j = divmod(int(distances.argmin()), len(means))",
        "k = distances.argmin()\n    i, j = k // 4, k % 4",
        "int(",
    ),
    (3, "torch.cdist(flat, flat)", "-(flat @ flat.T) / flat.norm(dim=1) / flat.norm(dim=1)[:, None]", "same direction"),
    # (std, mean) for (mean, std); the variance, or no mean subtracted, for the std; 256 levels
    (
        2,
        "return pixels.mean().item(), pixels.std().item()",
        "return pixels.std().item(), pixels.mean().item()",
        STD_FIRST,
    ),
    (2, "return pixels.mean().item(), pixels.std().item()", STD_MEAN, "torch.std_mean gives them the other way round"),
    (
        2,
        "return mean, (total_of_squares / n_pixels - mean**2) ** 0.5",
        "return (total_of_squares / n_pixels - mean**2) ** 0.5, mean",
        STD_FIRST,
    ),
    (2, "pixels.std().item()", "pixels.var().item()", "that is the variance: take its square root, or use .std()"),
    (2, "pixels.std().item()", "((pixels - pixels.mean()) ** 2).mean().item()", "or use .std()"),
    (2, "pixels.std().item()", "(pixels**2).mean().sqrt().item()", "subtract the mean: the variance is mean(x**2)"),
    (2, "(total_of_squares / n_pixels - mean**2)", "(total_of_squares / n_pixels)", "not mean(x**2)"),
    (2, "pixels = images.float() / 255", "pixels = images.float() / 256", "not by 256"),
    # closest_pair's n taken from the images: the same means as 3 x 2 images give another pair
    (3, "len(means))", "means.shape[1])", "n = len(means), here 4, not a size of the images"),
    # n_classes ignored: a toy of 12 classes; Manhattan for Euclidean: toy means where the two pick other pairs
    (1, "for d in range(n_classes):\n        positions", "for d in range(10):\n        positions", "not 10"),
    (3, "torch.cdist(flat, flat)", "torch.cdist(flat, flat, p=1)", "the Euclidean distance: torch.cdist(a, b) (p=2)"),
    (3, "torch.cdist(flat, flat)", "(flat[:, None] - flat[None]).abs().sum(dim=2)", "the square root of the summed"),
    (1, "torch.bincount(labels, minlength=n_classes)", "labels.unique(return_counts=True)[1]", "still gets its 0"),
    (
        3,
        "torch.cdist(flat, flat)",
        "torch.cdist(flat, flat, p=float('inf'))",
        "1 x 2 pixels: expected (0, 1), got (1, 2)",
    ),
    (
        2,
        "return pixels.mean().item(), pixels.std().item()",
        VAR_MEAN,
        "that is the variance, not the mean: torch.var_mean returns the variance first",
    ),
    (3, "images.float() / 255", "images.float() / 256", "divide by 255, the largest pixel value, not by 256"),
]

# Mistakes that were told another mistake's hint: (task, text, the mistake, its hint, the other hint it must not get)
WRONG_CAUSES = [
    (3, "torch.stack(", "torch.cat(", "with torch.stack (a new first dimension), not torch.cat", "do not flatten"),
    (3, "len(means))", "flat.shape[1])", "column k % n, with n = len(means)", "paired with itself"),
    (3, "len(means))", "means.shape[-1])", "not a size of the images", "same direction"),
    (
        2,
        "return pixels.mean().item(), pixels.std().item()",
        "return pixels.numpy().mean(), pixels.numpy().std()",
        "turn a one-number tensor or NumPy number into a Python float",
        "turn a one-number tensor into",
    ),
    (3, "for d in range(n_classes)", "for d in range(1, n_classes + 1)", EMPTY_CLASS, "overflow"),
    (2, STREAMING, SQRT_PER_IMAGE, "the mean is 784 times too big: N counts the pixels", "uint8 squares wrap"),
    (1, "return torch.cat(picked)", "return torch.cat(picked).float()", ".long() converts to int64", ".float()"),
    (3, "images.float() / 255", "images.double() / 255", "convert with .float() (float32)", ".long()"),
]

# Mistakes the hidden tests catch too, on inputs of their own: (task, text, the mistake)
HIDDEN_CATCHES = [
    (1, "for d in range(n_classes):\n        positions", "for d in range(10):\n        positions"),
    (3, "torch.cdist(flat, flat)", "torch.cdist(flat, flat, p=1)"),
]

OTHER_CORRECT_ANSWERS = [
    (
        1,
        "def class_counts(labels, n_classes=10):\n"
        "    return torch.tensor([(labels == d).sum().item() for d in range(n_classes)])\n\n\n"
        "def balanced_subset(labels, per_class, generator, n_classes=10):\n"
        "    order = torch.randperm(len(labels), generator=generator)  # shuffle everything once\n"
        "    shuffled = labels[order]\n"
        "    return torch.cat([order[shuffled == d][:per_class] for d in range(n_classes)])\n",
    ),
    (
        2,
        "import math\n\n\n"
        "def pixel_stats(images):\n"
        "    x = images.double().div(255)\n"
        "    return float(x.mean()), float(x.std(unbiased=False))\n\n\n"
        "def streaming_stats(batches):\n"
        "    n = mean = m2 = 0.0  # merging each batch's mean and spread into the running ones (Chan et al.)\n"
        "    for batch in batches:\n"
        "        x = batch.double() / 255\n"
        "        k, batch_mean = x.numel(), x.mean().item()\n"
        "        delta = batch_mean - mean\n"
        "        m2 += ((x - batch_mean) ** 2).sum().item() + delta**2 * n * k / (n + k)\n"
        "        n += k\n"
        "        mean += delta * k / n\n"
        "    return mean, math.sqrt(m2 / n)\n",
    ),
    (
        3,
        "def class_means(images, labels, n_classes=10):\n"
        "    means = torch.zeros(n_classes, *images.shape[1:])\n"
        "    for d in range(n_classes):\n"
        "        means[d] = images[labels == d].float().mean(dim=0) / 255\n"
        "    return means\n\n\n"
        "def closest_pair(means):\n"
        "    flat, best = means.reshape(len(means), -1), None\n"
        "    for i in range(len(flat)):\n"
        "        for j in range(i + 1, len(flat)):\n"
        "            distance = (flat[i] - flat[j]).pow(2).sum().item()\n"
        "            if best is None or distance < best[0]:\n"
        "                best = (distance, i, j)\n"
        "    return best[1], best[2]\n",
    ),
]


@pytest.fixture(scope="module")
def exercise():
    return quick_exercise(REPO / "solutions" / NAME, "code-03")


@pytest.mark.parametrize("task, old, new, hint", BUGS, ids=[f"task{b[0]}-{b[3][:24]}" for b in BUGS])
def test_a_classic_mistake_fails_a_visible_check_with_its_hint(exercise, task, old, new, hint):
    assert_bug_fails_with_hint(exercise, task, old, new, hidden=False, hint=hint, recheck=False)


@pytest.mark.parametrize(
    "task, old, new, hint, wrong", WRONG_CAUSES, ids=[f"task{w[0]}-{w[3][:24]}" for w in WRONG_CAUSES]
)
def test_a_mistake_gets_its_own_hint_not_another_s(exercise, task, old, new, hint, wrong):
    assert_bug_fails_with_hint(exercise, task, old, new, hidden=False, hint=hint, not_hint=wrong, recheck=False)


@pytest.mark.parametrize("task, old, new", HIDDEN_CATCHES, ids=[f"task{h[0]}-{h[2][:24]}" for h in HIDDEN_CATCHES])
def test_the_hidden_tests_catch_the_mistake_on_their_own_inputs(exercise, task, old, new):
    notebook, namespace = exercise
    answer = solution_answer(exercise, task)
    assert answer.count(old) == 1, old
    run_cells(notebook, f"task{task}-answer", namespace=namespace, **{f"task{task}_answer": answer.replace(old, new)})
    with pytest.raises(CheckFailed):
        run_hidden(notebook, task, namespace)
    check_task(exercise, task, answer, hidden=True)


@pytest.mark.parametrize("task, answer", OTHER_CORRECT_ANSWERS, ids=[f"task{a[0]}" for a in OTHER_CORRECT_ANSWERS])
def test_another_correct_answer_passes_the_visible_and_hidden_checks(exercise, task, answer):
    """Runs after the bug tests above, in their namespace: the solution passing every check here also proves
    that no planted bug left anything behind that fails it (they run only its answer again, not its checks)."""
    check_task(exercise, task, answer, hidden=True)
    check_task(exercise, task, solution_answer(exercise, task), hidden=True)


@pytest.mark.parametrize("task, name", [(1, "balanced_subset"), (2, "streaming_stats"), (3, "closest_pair")])
def test_a_renamed_answer_gets_one_line_that_says_what_to_do(exercise, task, name):
    notebook, namespace = exercise
    answer = solution_answer(exercise, task)
    namespace.pop(name, None)
    with pytest.raises(CheckFailed, match=re.escape(f"`{name}` is not defined yet: run the cell where Task {task}")):
        check_task(exercise, task, answer.replace(f"def {name}(", f"def my_{name}("))
    check_task(exercise, task, answer, hidden=True)


@pytest.mark.parametrize("task, chart", [(1, "code-08"), (3, "code-17")])
def test_a_chart_after_a_broken_task_says_that_task_must_pass_first(exercise, task, chart):
    notebook, namespace = exercise
    answer = solution_answer(exercise, task)
    broken = answer.replace("return torch.cat(picked)", "return picked").replace(".mean(dim=0)", ".mean(dim=1)")
    run_cells(notebook, f"task{task}-answer", namespace=namespace, **{f"task{task}_answer": broken})
    with pytest.raises(CheckFailed, match=f"Task {task} must pass first"):
        run_cells(notebook, chart, namespace=namespace)
    run_cells(notebook, f"task{task}-answer", chart, namespace=namespace)


def test_the_exercise_s_stubs_stop_each_check_as_not_attempted(exercise):
    notebook, namespace = exercise
    stubs = nbformat.read(REPO / "exercises" / NAME, as_version=4)
    for task in (1, 2, 3):
        run_cells(stubs, f"task{task}-answer", namespace=namespace)
        with pytest.raises(NotImplementedError, match=f"^Task {task}: "):
            run_cells(notebook, f"task{task}-check", namespace=namespace)
        run_cells(notebook, f"task{task}-answer", namespace=namespace)
    assert [cell(notebook, f"task{task}-check").source for task in (1, 2, 3)] == [f"check(task={t})" for t in (1, 2, 3)]
