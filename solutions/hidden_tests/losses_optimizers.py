"""Hidden tests of exercises 8: what `course grade` runs after each task's visible checks.

The same requirements as the visible checks, on other inputs: other shapes, dtypes, smoothings, gammas,
betas and learning rates, other made-up validation losses, another seed and batch size.
"""

import torch
import torch.nn.functional as F

from course_utils.checks import check_close, check_equal
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.losses_optimizers_references import (
    CountingModel,
    CourseEarlyStopping,
    ScriptedEvaluation,
    course_focal_loss,
    run_stopper,
    tiny_data,
    tiny_problem,
)
from course_utils.exercise_checks.losses_optimizers_spies import optimizer_steps

hidden = Tasks("losses_optimizers")


@hidden(1, "cross-entropy with label smoothing", answers=["cross_entropy"])
def other_batches(nb):
    torch.manual_seed(nb.seed + 10)
    small, labels = torch.randn(1, 3, dtype=torch.float64), torch.tensor([2])
    expected = F.cross_entropy(small, labels, label_smoothing=0.3)
    check_close(nb.cross_entropy(small, labels, smoothing=0.3), expected, "one image, 3 classes, float64")
    wide, labels = 20 * torch.randn(5, 100), torch.randint(0, 100, (5,))
    check_close(nb.cross_entropy(wide, labels), F.cross_entropy(wide, labels), "100 classes", atol=1e-4)


@hidden(2, "the focal loss", answers=["focal_loss"])
def other_gammas(nb):
    torch.manual_seed(nb.seed + 20)
    logits, labels = torch.randn(7, 4, dtype=torch.float64), torch.randint(0, 4, (7,))
    for gamma in (0.5, 5.0):
        check_close(
            nb.focal_loss(logits, labels, gamma=gamma), course_focal_loss(logits, labels, gamma), f"gamma {gamma}"
        )


@hidden(3, "one step of Adam", answers=["adam_step"])
def other_betas(nb):
    (model, loss), (reference, reference_loss) = tiny_problem(nb.seed + 1), tiny_problem(nb.seed + 1)
    averages, squares = [[torch.zeros_like(p) for p in model.parameters()] for _ in range(2)]
    optimizer = torch.optim.Adam(reference.parameters(), lr=0.2, betas=(0.5, 0.9), eps=1e-3)
    for step in range(1, 4):
        model.zero_grad()
        loss().backward()
        nb.adam_step(list(model.parameters()), averages, squares, step=step, lr=0.2, betas=(0.5, 0.9), eps=1e-3)
        optimizer.zero_grad()
        reference_loss().backward()
        optimizer.step()
    check_close(model.weight.detach(), reference.weight.detach(), "3 steps with betas (0.5, 0.9), eps 1e-3", atol=1e-6)


@hidden(4, "early stopping", answers=["EarlyStopping"])
def other_runs(nb):
    impatient = nb.EarlyStopping(patience=1)
    check_equal(run_stopper(impatient, [0.5, 0.4, 0.4, 0.3])[0], [False, False, True], "patience 1")
    check_equal(impatient.best_epoch, 2, "patience 1: the best epoch")
    picky = nb.EarlyStopping(patience=3, min_delta=0.1)
    decisions, _ = run_stopper(picky, [2.0, 1.95, 1.85, 1.8, 1.5, 1.45, 1.43, 1.42])
    check_equal(decisions, [False] * 7 + [True], "patience 3, min_delta 0.1")
    check_equal((picky.best_epoch, picky.best_state["weight"].item()), (5, 5.0), "min_delta 0.1: the best epoch kept")


@hidden(5, "training loop with early stopping", answers=["train_with_early_stopping"])
def another_patience(nb):
    tiny = tiny_data(nb.data)
    model, scripted = CountingModel(), ScriptedEvaluation(tiny.val_x)
    with nb.lend(evaluate=scripted, EarlyStopping=CourseEarlyStopping), optimizer_steps() as steps:
        val_losses, best_epoch = nb.train_with_early_stopping(model, tiny, 12, 1, 0.03, 32, nb.seed + 5)
    check_equal((len(val_losses), best_epoch), (3, 2), "patience 1: the epochs trained and the best epoch")
    check_equal(model.batches, 2 * 3, "training batches in 3 epochs of 64 images, batches of 32")
    check_equal((len(steps.optimizers), len(steps.steps)), (1, 6), "one optimizer for the run, 6 steps")
    check_close(steps.optimizers[0].param_groups[0]["lr"], 0.03, "the optimizer's learning rate, lr=0.03")
    check_equal(torch.equal(model.seen[0], model.seen[2]), False, "epoch 2's batches differ from epoch 1's")
