"""The checks of exercises 7's Task 5 (training with SGD), and the mistakes their hints name.

`train_sgd` runs first on a stand-in for the network (`StandIn` in `numpy_cnn_references.py`) that
writes down every batch it receives, with its labels, and its two parameters, which the caller keeps, so
that the batches (also when batch_size divides the number of images), their labels, their order, the seed,
the caller's params, the learning rate of every step and the losses are each checked on their own, with a
hint for the mistake each one shows. Then it trains lesson 4's network with gradients from PyTorch's
autograd, so that Tasks 1-4 do not count here. `numpy_cnn.py` registers `training_with_sgd` as Task 5.
"""

from numbers import Real

import numpy as np

from course_utils import ConvNet, evaluate, set_seed
from course_utils.checks import check_between, check_close, check_equal, fail
from course_utils.exercise_checks.numpy_cnn_calls import explain_line
from course_utils.exercise_checks.numpy_cnn_mistakes import same
from course_utils.exercise_checks.numpy_cnn_references import (
    as_tensor,
    learning_rates,
    lesson4_loss_and_grads,
    train_stand_in,
)


def order_in_words(epochs: list) -> str:
    """How the images of two epochs were ordered, in words."""
    shuffled = "in the data's order" if epochs[0] == sorted(epochs[0]) else "shuffled"
    return shuffled + (", the same every epoch" if epochs[0] == epochs[1] else ", new every epoch")


def listed(numbers) -> str:
    """At most the first 10 of ``numbers``, and how many there are."""
    return ", ".join(map(str, numbers[:10])) + (f", ... ({len(numbers)} in all)" if len(numbers) > 10 else "")


EVERY_IMAGE = "each of the images 0 to 99 once in each epoch"


def coverage_in_words(epochs: list) -> str:
    """Which of the stand-in's 100 images each epoch left out or took more than once, in words."""
    if all(sorted(epoch) == list(range(100)) for epoch in epochs):
        return EVERY_IMAGE
    words = []
    for number, epoch in enumerate(epochs, 1):
        counts = np.bincount(epoch, minlength=100)
        missed, again = np.flatnonzero(counts == 0).tolist(), np.flatnonzero(counts > 1).tolist()
        words += [f"epoch {number} left out {listed(missed)}"] * bool(missed)
        words += [f"epoch {number} took {listed(again)} more than once"] * bool(again)
    return "; ".join(words)


NEW_ORDER = "draw a new order, generator.permutation(len(y)), at the start of every epoch from the one generator"


def seeding_in_words(batches: list, again: list, other: list) -> str:
    """How the batches of a second run with the same seed, and of a run with another seed, compare, in words."""
    return f"{'the same' if again == batches else 'another'} order for the same seed, " + (
        f"{'the same' if other == batches else 'another'} for another seed"
    )


SEEDED = "the same order for the same seed, another for another seed"
SEED = "draw the orders from generator = np.random.default_rng(seed), made once, before the first epoch"


def batch_sizes_hint(sizes: list, expected: list, epochs: int) -> str:
    epoch = expected[: len(expected) // epochs]  # the sizes of one epoch's batches
    if [size for size in sizes if size] == expected:  # len(y) // batch_size + 1 batches, the last one empty
        return "an empty batch: when batch_size divides the images, there is no smaller last batch; " + BATCHES
    if sizes and sizes == epoch * (len(sizes) // len(epoch)):  # whole epochs, too few or too many
        ran = len(sizes) // len(epoch)
        return f"got {ran} epoch{'s' * (ran != 1)} of batches, not {epochs}: loop over range(epochs)"
    if sizes == ([epoch[0]] + [0] * (len(epoch) - 1)) * epochs:  # order[first : batch_size]
        return "every batch but the first is empty: a batch's slice ends at its start + batch_size, " + (
            "order[first : first + batch_size]"
        )
    return "go through each epoch's order in slices of batch_size; the last, smaller batch counts too: " + BATCHES


BATCHES = "the batches start at range(0, len(y), batch_size)"


def labels_hint(labels: list, batches: list) -> str:
    if [len(batch) for batch in labels] != [len(batch) for batch in batches]:
        return "each batch gets the labels of its own images: y[batch], with the indices of x[batch]"
    return "the labels no longer match their images: index x and y with the same indices, x[batch] and y[batch]"


IN_PLACE = "change the arrays of the caller's dict in place: params[name] -= step_lr * grads[name]"
EVERY_NAME = "update every parameter: params[name] -= step_lr * grads[name] inside the loop over the names"


def learning_rate_hint(steps, lr: float, epochs: int, steps_per_epoch: int) -> str:
    expected = learning_rates(lr, epochs * steps_per_epoch)
    if same(steps, -expected):
        return "move against the gradient: subtract step_lr * grads[name]"
    if same(steps, np.tile(learning_rates(lr, steps_per_epoch), epochs)):
        return "count the steps of all epochs together: s goes on from one epoch to the next, S = all the steps"
    if same(steps, np.full(len(expected), lr)):
        return "the learning rate must fall: step s of S uses lr * (1 - s / S), s going up by 1 at every step"
    if same(steps, np.repeat(learning_rates(lr, epochs), steps_per_epoch)):
        return "the learning rate falls at every step, not once per epoch: step s of S uses lr * (1 - s / S)"
    if same(steps, lr * (1 - 2 * np.arange(len(expected)) / len(expected))):  # the stand-in has 2 parameters
        return "add 1 to s once per step, after the loop over the parameters, not once per parameter"
    if same(steps, expected - lr / len(expected)):
        return "count the steps from s = 0: the first step uses lr itself, the last lr / S"
    if same(steps, lr * (1 - np.arange(len(expected)) / (len(expected) - epochs))):  # S without the last batches
        return "S counts every step, the smaller last batch of each epoch too: S = epochs * ceil(len(y) / batch_size)"
    return "counting the steps of all epochs together as s = 0, 1, ..., S - 1, step s uses lr * (1 - s / S)"


# --- the checks ------------------------------------------------------------------------------------


def check_losses(losses) -> None:
    """Fail unless ``losses`` is a list of plain numbers (the ✅ comes with the check of their values)."""
    __tracebackhide__ = True
    what = "train_sgd returns the list of the losses"
    if losses is None:
        fail(what, "got None", "did train_sgd forget to `return losses`?")
    if not isinstance(losses, list):  # the task asks for a list
        fail(what, f"got a {type(losses).__name__}", "append the loss of every step to a list, and return it")
    for loss in losses:
        if not isinstance(loss, Real):  # an array or tensor of one number is not one
            fail(what, f"expected a list of numbers, got a {type(loss).__name__} among them", "append float(loss)")


def training_with_sgd(nb):
    # train_sgd on a stand-in for the network, with seed, another seed and seed again: 2 epochs of 100 images,
    # batches of 32, lr=0.1. Each run gives (the losses train_sgd returns, the batches, the size of each step).
    with explain_line("train_sgd with a stand-in network"):
        runs = [train_stand_in(nb.train_sgd, 100, 2, 32, 0.1, seed) for seed in (nb.seed, nb.seed + 1, nb.seed)]
        divisible = train_stand_in(nb.train_sgd, 48, 2, 16, 0.1, nb.seed)[1]  # 16 divides 48: 3 full batches
    (losses, batches, steps, labels), other, again = runs
    for run, expected, images in [(batches, [32, 32, 32, 4] * 2, 100), (divisible, [16, 16, 16] * 2, 48)]:
        sizes, what = (
            [len(batch) for batch in run],
            f"batch sizes, 2 epochs of {images} images in batches of {expected[0]}",
        )
        shown = sizes if len(sizes) <= 16 else f"{len(sizes)} batches of sizes {listed(sizes)}"  # one line
        check_equal(shown, expected, what, hint=batch_sizes_hint(sizes, expected, epochs=2))
    epochs = [sum(batches[:4], []), sum(batches[4:], [])]
    hint = "take each epoch's batches from one permutation of range(len(y))"
    check_equal(coverage_in_words(epochs), EVERY_IMAGE, "every image once per epoch", hint)
    matched = "their images' labels" if labels == batches else "other labels"
    check_equal(matched, "their images' labels", "the labels each batch gets", labels_hint(labels, batches))
    check_equal(order_in_words(epochs), "shuffled, new every epoch", "the order of the images", NEW_ORDER)
    seeded = seeding_in_words(batches, again[1], other[1])
    check_equal(seeded, SEEDED, "the orders and the seed", hint=SEED)
    moved = [name for name, column in zip("wb", steps.T, strict=True) if not np.isclose(column.sum(), 0)]
    moved = ["where they started", f"only {''.join(moved)} changed", "both changed"][len(moved)]  # steps add up
    what = "the caller's params w and b after train_sgd"
    check_equal(moved, "both changed", what, IN_PLACE if moved == "where they started" else EVERY_NAME)
    what = "w and b take the same step each time"
    check_close(steps[:, 1], steps[:, 0], what, hint="compute step_lr once per batch: count s per batch, not per name")
    way = "up, with the gradient, at every step" if (steps < 0).all() else "down, against the gradient"
    what, hint = "the way w and b move (every gradient of the stand-in is 1)", "subtract step_lr * grads[name]"
    check_equal(way, "down, against the gradient", what, hint="move against the gradient: " + hint)
    hint = learning_rate_hint(steps[:, 0], 0.1, epochs=2, steps_per_epoch=4)
    check_close(steps[:, 0], learning_rates(0.1, 8), "the learning rate of each of the 8 steps", hint=hint)
    check_losses(losses)
    hint = "append the loss of every step to a list, in order, and return it"
    check_close(losses, np.arange(1.0, 9.0), "train_sgd returns the loss of every step", hint=hint)

    # Lesson 4's network, its gradients from PyTorch's autograd (so that only Task 5 counts here)
    set_seed(nb.seed)
    network = ConvNet()
    params = {name: value.numpy().copy() for name, value in network.state_dict().items()}
    x, y = nb.data.train_x[:2000].numpy(), nb.data.train_y[:2000].numpy()
    with explain_line("train_sgd on lesson 4's network"):
        nb.train_sgd(lesson4_loss_and_grads(network), params, x, y, epochs=2, batch_size=32, lr=0.1, seed=nb.seed)
    network.load_state_dict({name: as_tensor(value) for name, value in params.items()})
    what = "validation accuracy of lesson 4's network after two epochs of your SGD on 2,000 images"
    hint = "move every parameter against its gradient: params[name] -= step_lr * grads[name]"
    check_between(evaluate(network, nb.data.val_x, nb.data.val_y)[1], 0.85, 1.0, what, hint=hint)
