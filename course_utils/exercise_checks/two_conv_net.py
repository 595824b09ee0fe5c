"""The checks of exercises 4 (building and training the two-conv network): ``check(task=N)``.

Every piece is compared with the course's own (`ConvNet`, `train_epoch`, `evaluate`), and each
task is checked with the course's versions of the earlier tasks, so a mistake costs one task.
"""

import copy

import torch
from torch import nn

from course_utils import ConvNet, evaluate, lesson_checks, set_seed, train_epoch
from course_utils.checks import (
    check_between,
    check_close,
    check_decreasing,
    check_equal,
    check_own_work,
    check_parameter_count,
    check_shape,
    explain_errors,
    fail,
)
from course_utils.exercise_checks import Tasks

tasks = Tasks("two_conv_net")
check = tasks.check

CALL_THEM = "the task asks train to call train_step(model, optimizer, xb, yb) for each batch, and accuracy"
FLATTEN = "flatten with x.flatten(start_dim=1), one row per image (x.flatten() makes the whole batch one row)"
SIZES = "3x3 kernels with padding 1 keep 28 x 28, each pooling halves it: 28 -> 14 -> 7, so fc1 takes 32 * 7 * 7 inputs"


@tasks(1, "a variant with 3x3 kernels", answers=["SmallKernelNet"])
def variant_with_small_kernels(nb):
    set_seed(nb.seed)
    model = nb.SmallKernelNet()
    layers = ("conv1", "conv2", "fc1", "fc2")
    missing = [name for name in layers if not isinstance(getattr(model, name, None), nn.Module)]
    check_equal(missing, [], "the layers conv1, conv2, fc1 and fc2", hint="create them in __init__ as self.conv1 = ...")
    convs = [model.conv1, model.conv2]
    check_equal(
        [(tuple(conv.weight.shape), conv.padding) for conv in convs],
        [((16, 1, 3, 3), (1, 1)), ((32, 16, 3, 3), (1, 1))],
        "conv1's and conv2's kernels (out channels, in channels, height, width) and padding",
        hint="nn.Conv2d(1, 16, kernel_size=3, padding=1) and nn.Conv2d(16, 32, kernel_size=3, padding=1)",
    )
    check_equal(model.fc1.in_features, 32 * 7 * 7, "the inputs of fc1", hint=SIZES)
    check_parameter_count(model, 105_866, "SmallKernelNet", hint="fc1: nn.Linear(32 * 7 * 7, 64), fc2: (64, 10)")
    with explain_errors("SmallKernelNet's forward pass", hint="conv -> ReLU -> pool twice, then " + FLATTEN):
        out = model(torch.zeros(8, 1, 28, 28))
    check_shape(out, (8, 10), "output for a batch of 8", hint="one row of 10 logits per image: " + FLATTEN)
    # The course's ConvNet built as the variant, given the same weights, must compute the same logits.
    reference = ConvNet(first_channels=16, kernel_size=3, padding=1, hidden=64)
    pairs = [(model.conv1, reference.features[0][0]), (model.conv2, reference.features[1][0])]
    for ours, theirs in pairs + [(model.fc1, reference.classifier[1]), (model.fc2, reference.classifier[3])]:
        theirs.load_state_dict(ours.state_dict())
    with torch.no_grad():
        check_close(
            model(nb.data.val_x[:16]),
            reference(nb.data.val_x[:16]),
            "logits compared with the course's ConvNet built the same way",
            atol=1e-5,
            hint="apply ReLU after conv1, conv2 and fc1 but not after fc2, and pool after each conv's ReLU; "
            "return fc2's raw scores (no softmax)",
        )
    check_own_work(model, ConvNet, "SmallKernelNet is your own")


@tasks(2, "one training step", answers=["train_step"])
def training_step(nb):
    train_step, data = nb.train_step, nb.data
    set_seed(nb.seed)
    model = ConvNet()  # the course's network, so that this check does not depend on Task 1
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
    xb, yb = data.train_x[:64], data.train_y[:64]
    before = copy.deepcopy(model.state_dict())
    with explain_errors(
        "train_step", hint="the loss is nn.functional.cross_entropy(model(xb), yb): logits first, labels second"
    ):
        losses = [train_step(model, optimizer, xb, yb) for _ in range(15)]
    check_equal(type(losses[0]).__name__, "float", "the type train_step returns", hint="return loss.item()")
    check_equal(
        any((before[k] != v).any().item() for k, v in model.state_dict().items()),
        True,
        "the weights changed",
        hint="optimizer.step() updates the weights with the gradients backward() computed: "
        "call zero_grad() before backward(), not between backward() and step()",
    )
    check_decreasing(losses, "loss of one batch over 15 steps", min_drop=0.5)
    left_in_eval = ConvNet().eval()  # as Task 3's accuracy leaves a model, if it forgot model.train()
    with explain_errors("train_step"):
        train_step(left_in_eval, torch.optim.SGD(left_in_eval.parameters(), lr=0.01), xb, yb)
    check_equal(
        left_in_eval.training,
        True,
        "train_step puts a model left in evaluation mode back in training mode",
        hint="call model.train() first: layers such as those of lesson 9 behave differently in evaluation mode",
    )
    # Three plain SGD steps from the same weights: yours, and the course's (train_epoch on one batch).
    set_seed(nb.seed)
    ours, clean = ConvNet(), ConvNet()
    clean.load_state_dict(ours.state_dict())
    ours_optimizer = torch.optim.SGD(ours.parameters(), lr=0.1)
    clean_optimizer = torch.optim.SGD(clean.parameters(), lr=0.1)
    first_losses = []
    for _ in range(3):
        expected_loss = nn.functional.cross_entropy(clean(xb), yb).item()
        with explain_errors("train_step"):
            first_losses.append((train_step(ours, ours_optimizer, xb, yb), expected_loss))
        train_epoch(clean, [(xb, yb)], clean_optimizer, nn.functional.cross_entropy)
    check_close(
        torch.cat([p.detach().flatten() for p in ours.parameters()]),
        torch.cat([p.detach().flatten() for p in clean.parameters()]),
        "weights after three steps, compared with the course's training step",
        atol=1e-5,
        hint="call optimizer.zero_grad() before loss.backward() in every step: backward ADDS to the old gradients",
    )
    check_close(
        first_losses[0][0],
        first_losses[0][1],
        "the loss train_step returns is the batch's loss before the step",
        rtol=1e-5,
        hint="return loss.item() of nn.functional.cross_entropy(model(xb), yb)",
    )


class ModeDependent(nn.Module):
    """A layer that behaves differently while training (``self.training``, set by train() and eval())."""

    def forward(self, x):
        return x.roll(1, dims=1) if self.training else x


@tasks(3, "accuracy", answers=["accuracy"])
def accuracy_in_batches(nb):
    accuracy = nb.accuracy
    set_seed(nb.seed)
    model = ConvNet()
    x, y = nb.data.val_x[:2000], nb.data.val_y[:2000]
    with explain_errors("accuracy", hint="loop over x in slices of batch_size, count logits.argmax(dim=1) == y"):
        acc = accuracy(model, x, y, batch_size=300)  # 300 does not divide 2,000: the last batch is smaller
    kind = "return a Python float: add up the counts with .item() (or convert at the end with float())"
    check_equal(type(acc).__name__, "float", "the type accuracy returns", hint=kind)
    check_between(acc, 0.0, 1.0, "accuracy is a fraction", hint="divide the correct count by len(y), not by 100")
    check_close(
        acc,
        evaluate(model, x, y)[1],
        "accuracy of an untrained network, compared with course_utils.evaluate",
        hint="count the correct predictions of every batch, including the last, smaller one, and divide by len(y)",
    )
    # Fed the one-hot labels as input, ModeDependent returns them as logits: always right in
    # evaluation mode, always wrong in training mode. Inside a Sequential, eval() must reach it.
    mode_model, one_hot = nn.Sequential(ModeDependent()), nn.functional.one_hot(y, 10).float()
    with explain_errors("accuracy of a model that behaves differently in training mode"):
        acc = accuracy(mode_model, one_hot, y, batch_size=300)
    eval_hint = "call model.eval() before measuring: in training mode this model answers differently"
    check_close(acc, 1.0, "accuracy of a model that behaves differently in training mode", hint=eval_hint)
    check_equal(mode_model.training, True, "the model is back in training mode", hint="call model.train() at the end")


@tasks(4, "the training loop", answers=["train"])
def training_loop(nb):
    """Runs the student's ``train`` with the course's train_step and accuracy standing in for Tasks 2-3,
    spied on: how many optimizers, in what order the batches came, on what accuracy was measured."""
    data, epochs = nb.data, nb.epochs
    seen = {"optimizers": [], "first_labels": [], "measured_on": []}

    def course_train_step(model, optimizer, xb, yb):
        seen["optimizers"].append(optimizer)
        seen["first_labels"].append(yb[:16])
        return train_epoch(model, [(xb, yb)], optimizer, nn.functional.cross_entropy)[0]

    def course_accuracy(model, x, y, batch_size=1000):
        seen["measured_on"].append(len(y) == len(data.val_y) and torch.equal(y, data.val_y))
        return evaluate(model, x, y, batch_size)[1]

    set_seed(nb.seed)
    model = ConvNet()
    with explain_errors("train", hint="one train_step per batch, one accuracy per epoch"):
        with nb.lend(train_step=course_train_step, accuracy=course_accuracy):
            val_accuracies = nb.train(model, data, epochs, nb.batch_size, nb.lr, nb.seed)
    print("validation accuracy after each epoch:", ", ".join(f"{a:.2%}" for a in val_accuracies))
    check_equal(len(val_accuracies), epochs, "one validation accuracy per epoch", hint="append one per epoch")
    if not seen["optimizers"]:  # a loop written out inline cannot be run with the course's train_step
        fail("train uses Task 2's train_step for every batch", "it never called train_step", CALL_THEM)
    check_equal(
        len({id(optimizer) for optimizer in seen["optimizers"]}),
        1,
        "one Adam optimizer for the whole training",
        hint="create the optimizer once, before the loops: a new Adam forgets its running averages",
    )
    check_equal(
        "in the data's order" if torch.equal(seen["first_labels"][0], data.train_y[:16]) else "shuffled",
        "shuffled",
        "the order of the training batches",
        hint="iterate_batches(..., shuffle=True, generator=generator)",
    )
    check_equal(
        bool(seen["measured_on"]) and all(seen["measured_on"]),
        True,
        "the accuracy is measured on the validation set, with Task 3's accuracy",
        hint="accuracy(model, data.val_x, data.val_y): the training images say nothing about new ones",
    )
    check_between(
        val_accuracies[-1],
        0.5 if nb.quick else 0.9,
        1.0,
        "validation accuracy after training",
        hint="call train_step on every batch of every epoch, with an Adam optimizer created once, before the loop",
    )
    with lesson_checks() as checks:
        checks.record("val_accuracy", val_accuracies[-1])
    return model, val_accuracies
