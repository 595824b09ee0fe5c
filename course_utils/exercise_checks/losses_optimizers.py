"""The checks of exercises 8 (losses, optimizers and early stopping by hand): ``check(task=N)``.

Each answer is compared with PyTorch's own: `F.cross_entropy` with `label_smoothing`, the focal loss
built on PyTorch's per-image cross-entropy, `torch.optim.Adam` step for step, and the early-stopping
rule on made-up validation losses whose best epoch is known. Task 5 runs your training loop with the
course's early stopping standing in for Task 4's, so that a mistake costs one task. What the checks
compare with is in `losses_optimizers_references.py`; the hints, the mistakes they name and the
checks shared by several tasks, in `losses_optimizers_mistakes.py`; how they watch your code run
(which PyTorch functions it calls, which optimizer takes each step), in `losses_optimizers_spies.py`.
"""

import torch
import torch.nn.functional as F
from torch.nn.utils import parameters_to_vector

from course_utils import ConvNet, evaluate, lesson_checks, set_seed
from course_utils.checks import check_between, check_close, check_equal
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.losses_optimizers_mistakes import (
    BROADCAST,
    GRADIENT,
    IN_PLACE,
    LOG_OF_ZERO,
    LOG_SUM_EXP,
    NO_GRAD,
    OVERFLOW,
    PAIR,
    SHUFFLE,
    STEPS,
    ZERO_GRAD,
    batch_order_in_words,
    check_huge_logits,
    check_loss,
    epochs_trained_hint,
    first_step_hint,
    focal_hint,
    kept_weights_hint,
    min_delta_hint,
    saved_state_hint,
    smoothing_hint,
    stopping_hint,
)
from course_utils.exercise_checks.losses_optimizers_references import (
    DELTA_RUN,
    DELTA_STOPS,
    RUN,
    STOPS,
    CountingModel,
    CourseEarlyStopping,
    ScriptedEvaluation,
    course_focal_loss,
    focal_push,
    label_smoothing_loss,
    push,
    run_stopper,
    softmax_mse,
    tiny_data,
    tiny_problem,
    with_gradient,
)
from course_utils.exercise_checks.losses_optimizers_spies import library_calls, optimizer_steps
from course_utils.exercise_checks.mistakes import explain, explain_line

tasks = Tasks("losses_optimizers")
check = tasks.check


@tasks(1, "cross-entropy with label smoothing", answers=["cross_entropy"])
def cross_entropy_with_label_smoothing(nb):
    # First the call that an unfinished answer stops, so that it shows only its "not done yet" line
    torch.manual_seed(nb.seed + 1)
    logits, labels = 3 * torch.randn(16, 10), torch.randint(0, 10, (16,))
    with explain_line("cross_entropy(logits, labels, smoothing=0.1), 16 images of 10 classes", **BROADCAST):
        _, calls = library_calls(nb.cross_entropy, logits, labels, smoothing=0.1)  # which ones really ran
    what = "PyTorch functions that cross_entropy calls to do the log-sum-exp for it"
    check_equal(calls, [], what, hint=LOG_SUM_EXP)
    for eps in (0.0, 0.1):
        check_loss(nb, "cross_entropy", "smoothing", eps, label_smoothing_loss, smoothing_hint, nb.seed + 1)
    check_huge_logits(nb, "cross_entropy", "smoothing", 0.1, label_smoothing_loss, OVERFLOW)


@tasks(2, "the focal loss", answers=["focal_loss"])
def the_focal_loss(nb):
    for gamma in (2.0, 0.0):
        check_loss(nb, "focal_loss", "gamma", gamma, course_focal_loss, focal_hint, nb.seed + 2)
    check_huge_logits(nb, "focal_loss", "gamma", 2.0, course_focal_loss, LOG_OF_ZERO)
    # As in lesson 8's figure: how hard each loss pushes the true class's logit up, on two images
    losses = {"cross-entropy": F.cross_entropy, "squared error": softmax_mse, "focal, gamma 2": nb.focal_loss}
    with explain("focal_loss on one image"):
        pushes = {name: [push(loss_fn, p) for p in (0.001, 0.9)] for name, loss_fn in losses.items()}
    print("how hard each loss pushes the true class's logit up:  p_y = 0.001    p_y = 0.9")
    for name, (mistake, easy) in pushes.items():
        print(f"{name:>51}: {mistake:11.4f} {easy:11.4f}")
    what = "the focal loss's pushes against (1 - p)^2 ((1 - p) - 2 p ln p), worked out by hand"
    formula = [focal_push(0.001), focal_push(0.9)]
    check_close(pushes["focal, gamma 2"], formula, what, rtol=1e-4, hint=GRADIENT)


@tasks(3, "one step of Adam", answers=["adam_step"])
def adam(nb):
    # One step from zero averages, with gradients from 1e-8 to 1000: Adam moves every weight by about lr
    # (by lr / 2 for the gradient of 1e-8, the size of eps), whatever the size of its gradient.
    grads, zeros = torch.tensor([1e-3, 1e3, -5.0, 1e-8], dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    ours, theirs = with_gradient(zeros, grads), with_gradient(zeros, grads)
    averages, squares = [zeros.clone()], [zeros.clone()]
    call = "adam_step([w], averages, squares, step=1, lr=0.001), gradients 1e-3, 1e3, -5 and 1e-8"
    with explain(call, **{"leaf Variable": NO_GRAD}):
        nb.adam_step([ours], averages, squares, step=1, lr=0.001)
    torch.optim.Adam([theirs], lr=0.001).step()
    hint = first_step_hint(ours.detach(), grads, lr=0.001)
    check_close(ours.detach(), theirs.detach(), call + ": w matches torch.optim.Adam's", rtol=1e-4, atol=0, hint=hint)
    what = "the caller's averages and squares after the first step: (1 - beta1) g and (1 - beta2) g**2"
    check_close(torch.cat(averages + squares), torch.cat([0.1 * grads, 0.001 * grads**2]), what, hint=IN_PLACE)

    # Ten steps on a small problem, next to torch.optim.Adam
    (model, loss), (reference, reference_loss) = tiny_problem(nb.seed), tiny_problem(nb.seed)
    averages, squares = [[torch.zeros_like(p) for p in model.parameters()] for _ in range(2)]
    optimizer = torch.optim.Adam(reference.parameters(), lr=0.05)
    for step in range(1, 11):
        model.zero_grad()
        loss().backward()
        with explain(f"adam_step at step {step}", **{"leaf Variable": NO_GRAD}):
            nb.adam_step(list(model.parameters()), averages, squares, step=step, lr=0.05)
        optimizer.zero_grad()
        reference_loss().backward()
        optimizer.step()
    ours, theirs = parameters_to_vector(model.parameters()), parameters_to_vector(reference.parameters())
    what = "weights after 10 steps, compared with torch.optim.Adam"
    check_close(ours.detach(), theirs.detach(), what, atol=1e-6, hint=STEPS)


@tasks(4, "early stopping", answers=["EarlyStopping"])
def early_stopping(nb):
    # A made-up run; the "model" is one weight, set to the epoch's number, so we can tell which epoch was kept.
    stopper = nb.EarlyStopping(patience=3)
    with explain("EarlyStopping.step"):
        decisions, model = run_stopper(stopper, RUN)
    print("validation losses:", RUN[: len(decisions)], "\nstop?", decisions)
    check_equal(decisions, STOPS, "the decisions, patience 3", hint=stopping_hint(decisions))
    check_equal(stopper.best_epoch, 5, "best epoch", hint="count epochs from 1; update best_epoch only on improvement")
    check_close(stopper.best_loss, 0.7, "best validation loss", hint="update best_loss only when the loss improves")
    hint = "count the epochs since the last improvement in self.waited (0 right after one)"
    check_equal(stopper.waited, 3, "waited, the epochs since the last improvement, when it stops", hint=hint)
    state, hint = stopper.best_state, saved_state_hint(stopper.best_state, len(decisions))
    kind = "a dict of tensors" if isinstance(state, dict) else f"a {type(state).__name__}"
    check_equal(kind, "a dict of tensors", "what best_state holds, a state_dict", hint=hint)
    check_close(
        state.get("weight"), torch.tensor([[5.0]]), "the saved state_dict holds the weights of epoch 5", hint=hint
    )
    stopper = nb.EarlyStopping(patience=2, min_delta=0.05)
    with explain("EarlyStopping.step with min_delta"):
        decisions, _ = run_stopper(stopper, DELTA_RUN)
    what = f"the decisions on losses {DELTA_RUN}, patience 2, min_delta 0.05"
    check_equal(decisions, DELTA_STOPS, what, hint=min_delta_hint(decisions))
    check_equal(stopper.best_epoch, 3, "best epoch, min_delta 0.05", hint=min_delta_hint(decisions))


def scripted_run(nb, tiny, seed):
    """Your loop on a small linear model, with stand-ins for evaluate and for Task 4's EarlyStopping."""
    model, scripted = CountingModel(), ScriptedEvaluation(tiny.val_x)
    with explain_line("train_with_early_stopping", **PAIR), optimizer_steps() as steps:
        with nb.lend(evaluate=scripted, EarlyStopping=CourseEarlyStopping):
            val_losses, best_epoch = nb.train_with_early_stopping(model, tiny, 12, 3, 0.01, 16, seed)
    return model, scripted, val_losses, best_epoch, steps


@tasks(5, "training loop with early stopping", answers=["train_with_early_stopping"])
def training_loop(nb):
    tiny = tiny_data(nb.data)
    model, scripted, val_losses, best_epoch, steps = scripted_run(nb, tiny, nb.seed)
    epochs = len(scripted.states)
    what = f"epochs trained, validation losses {RUN[:9]}..., patience 3"
    check_equal(epochs, 8, what, hint=epochs_trained_hint(epochs))
    hint = "evaluate(model, data.val_x, data.val_y): the stopper watches the validation loss"
    check_equal(all(scripted.on_validation), True, "the loss is measured on data.val_x", hint=hint)
    hint = "one optimizer step per mini-batch: 64 images in batches of 16 make 4 steps per epoch"
    check_equal(model.batches, 4 * 8, "training batches in 8 epochs of 64 images, batches of 16", hint=hint)
    check_equal(model.stale, 0, "backward() calls that added to the gradients of an earlier batch", hint=ZERO_GRAD)
    optimizers = steps.optimizers
    hint = "create one torch.optim.Adam before the epoch loop, then call its step() after every backward()"
    if len(optimizers) > 1:  # the running averages and the bias correction started from zero again
        hint = "create the optimizer once, before the epoch loop: a new Adam every epoch forgets its running averages"
    check_equal([type(o).__name__ for o in optimizers], ["Adam"], "the optimizers that took the steps", hint=hint)
    hint = "one optimizer.step() per mini-batch, inside the batch loop"
    check_equal(len(steps.steps), 4 * 8, "optimizer steps in 8 epochs of 4 batches", hint=hint)
    hint = "pass lr on: torch.optim.Adam(model.parameters(), lr=lr)"
    check_close(optimizers[0].param_groups[0]["lr"], 0.01, "the optimizer's learning rate, lr=0.01", hint=hint)
    hint = "append the loss evaluate returns (its first value) every epoch, and return the list"
    check_close(val_losses, RUN[:8], "the validation losses returned", hint=hint)
    check_equal(best_epoch, 5, "the best epoch returned", hint="return the stopper's best_epoch")
    kept, best = parameters_to_vector(model.parameters()).detach(), parameters_to_vector(scripted.states[4].values())
    hint = kept_weights_hint(kept, scripted.states)
    check_close(kept, best, "the model holds epoch 5's weights", hint=hint)
    again, other = (scripted_run(nb, tiny, seed)[0].first for seed in (nb.seed, nb.seed + 1))
    order = batch_order_in_words(model.first, again, other, tiny.train_x[:16])
    expected = "shuffled, the same for the same seed, another for another seed"
    check_equal(order, expected, "the order of the batches", hint=SHUFFLE)
    order = "the same order" if torch.equal(model.seen[0], model.seen[4]) else "another order"
    hint = "create the generator once, before the epoch loop: seeded again, it gives every epoch the same batches"
    check_equal(order, "another order", "epoch 2's batches, next to epoch 1's", hint=hint)

    # For real: lesson 4's network, trained with your loop (and the course's early stopping)
    set_seed(nb.seed)
    model, data, settings = ConvNet(), nb.data, (nb.max_epochs, nb.patience, nb.lr, nb.batch_size, nb.seed)
    with explain("train_with_early_stopping"), nb.lend(EarlyStopping=CourseEarlyStopping):
        val_losses, best_epoch = nb.train_with_early_stopping(model, data, *settings)
    print(f"{len(val_losses)} epochs, best epoch {best_epoch}:", ", ".join(f"{v:.3f}" for v in val_losses))
    kept_loss, kept_accuracy = evaluate(model, data.val_x, data.val_y)
    check_close(kept_loss, min(val_losses), "the model holds the best epoch's weights", rtol=1e-4)
    hint = "the checks on the small model passed: compare each batch's loss, zero_grad, backward and step with the task"
    check_between(kept_accuracy, 0.5 if nb.quick else 0.85, 1.0, "validation accuracy of the kept weights", hint=hint)
    with lesson_checks() as checks:
        checks.record("best_epoch", best_epoch)
        checks.record("val_accuracy", kept_accuracy)
    return val_losses, best_epoch
