"""Exercises 8 (losses, optimizers and early stopping) are fair: classic bugs fail a visible check with
the hint that names them, other correct answers pass every check (hidden tests included), a renamed
answer is told which name the check looks for, and a broken Task 4 leaves Task 5 passing.

The cells run in this process, set up in quick mode (500 training images, 1,000 validation images).
"""

import re
from pathlib import Path

import pytest
from solution_cells import assert_bug_fails_with_hint, check_task, quick_exercise, run_cells, solution_answer

from course_utils.checks import CheckFailed

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "08_losses_optimizers_exercises.ipynb"


@pytest.fixture(scope="module")
def exercise():
    return quick_exercise(SOLUTION, "code-03")


LOG_PROBS = "    log_probs = logits - m - (logits - m).exp().sum(dim=1, keepdim=True).log()"
SMOOTHED = "(1 - smoothing) * true_class + smoothing * log_probs.mean(dim=1)"
FOCAL = "(-((1 - log_p_y.exp()) ** gamma) * log_p_y).mean()"
NO_GRAD = "    with torch.no_grad():\n        for"
SETUP = (
    "    optimizer = torch.optim.Adam(model.parameters(), lr=lr)\n    stopper = EarlyStopping(patience)\n"
    "    generator = torch.Generator().manual_seed(seed)\n    val_losses = []\n    for _ in range(max_epochs):\n"
)
OPTIMIZER, GENERATOR = (
    "    optimizer = torch.optim.Adam(model.parameters(), lr=lr)\n",
    "    generator = torch.Generator().manual_seed(seed)\n",
)
BUGS = [  # (task, text of the solution's answer, the bug put in its place, the hint that must name it)
    (1, f"return -({SMOOTHED})", f"return ({SMOOTHED})", "the loss is -sum_k q_k ln p_k: positive"),
    (1, ").mean()\n", ").sum()\n", "with .mean(), not .sum()"),
    (1, ").mean()\n", ").mean().item()\n", "do not call .item(): backward() must follow the loss through autograd"),
    (
        1,
        "smoothing * log_probs.mean(dim=1)",
        "smoothing * log_probs.sum(dim=1)",
        "the mean of -ln p_k over the classes",
    ),
    (
        1,
        "smoothing * log_probs.mean(dim=1)",
        "smoothing * (log_probs.sum(dim=1) - true_class) / 9",
        "spread over all K classes, the true one included",
    ),
    (1, SMOOTHED, "true_class", "mix in the smoothing"),
    (1, LOG_PROBS, "    log_probs = logits - logits.exp().sum(dim=1, keepdim=True).log()", "exp(1000) is inf"),
    (1, LOG_PROBS, "    log_probs = logits.softmax(dim=1).log()", "softmax rounds tiny probabilities to 0"),
    (1, LOG_PROBS, "    log_probs = logits.log_softmax(dim=1)", "got ['Tensor.log_softmax']"),
    (1, ".sum(dim=1, keepdim=True).log()", ".sum(dim=1, keepdim=True).log().detach()", "no .item(), .detach()"),
    (1, "    m = logits.max(dim=1, keepdim=True).values", "    m = logits.max(dim=1).values", "keepdim=True"),
    (1, ".sum(dim=1, keepdim=True).log()", ".sum(dim=1).log()", "keepdim=True, in max and sum"),
    (1, "logits - m - (logits - m)", "logits - m - (logits - m.detach())", "by autograd"),
    (2, FOCAL, FOCAL.replace("(-(", "(("), "positive, since ln p_y is negative"),
    (2, FOCAL, FOCAL.replace(".mean()", ".sum()"), "with .mean(), not .sum()"),
    (2, "(1 - log_p_y.exp()) ** gamma", "(1 - log_p_y.exp()) * gamma", "(1 - p_y) ** gamma"),
    (2, "(1 - log_p_y.exp()) ** gamma", "log_p_y.exp() ** gamma", "small for an easy image"),
    (2, "logits.log_softmax(dim=1)", "logits.softmax(dim=1).log()", "take ln p_y from logits.log_softmax(dim=1)"),
    (2, "(1 - log_p_y.exp()) ** gamma", "(1 - log_p_y.exp().detach()) ** gamma", "no .item(), .detach()"),
    (3, "m / (1 - beta1**step), s / (1 - beta2**step)", "m, s", "the bias correction"),
    (3, "(s_hat.sqrt() + eps)", "(s_hat + eps).sqrt()", "add eps after the square root"),
    (3, "p.sub_(", "p.add_(", "step against the gradient"),
    (3, NO_GRAD, "    if True:\n        for", "inside `with torch.no_grad():`"),
    (3, "m.mul_(beta1).add_((1 - beta1) * p.grad)", "m = beta1 * m + (1 - beta1) * p.grad", "in place"),
    (
        3,
        "(1 - beta1**step), s / (1 - beta2**step)",
        "(1 - beta1 ** (step - 1)), s / (1 - beta2 ** (step - 1))",
        "the step number starts at 1",
    ),
    (3, "(1 - beta1**step), s / (1 - beta2**step)", "(1 - beta1), s / (1 - beta2)", "use the step number"),
    (3, "(1 - beta2) * p.grad**2", "(1 - beta2) * p.grad", "the squared gradients, g**2"),
    (4, "if val_loss < self.best_loss", "if val_loss <= self.best_loss", "an equal loss is no improvement"),
    (4, "return self.waited >= self.patience", "return self.waited > self.patience", "reaches the patience (>=)"),
    (
        4,
        "self.best_epoch, self.waited = val_loss, self.epoch, 0",
        "self.best_epoch = val_loss, self.epoch",
        "set `waited` back to 0",
    ),
    (4, "copy.deepcopy(model.state_dict())", "model.state_dict()", "holds the live tensors"),
    (4, "copy.deepcopy(model.state_dict())", "model", "got 'a Linear'"),
    (
        4,
        "if val_loss < self.best_loss - self.min_delta:",
        "if val_loss < self.best_loss:",
        "below best_loss - min_delta",
    ),
    (4, "        self.epoch += 1\n", "", "count epochs from 1"),
    (
        5,
        "        if stopper.step(val_loss, model):\n            break\n",
        "        stopper.step(val_loss, model)\n",
        "stop (break) as soon as",
    ),
    (5, "    model.load_state_dict(stopper.best_state)\n", "", "model.load_state_dict(stopper.best_state)"),
    (5, "evaluate(model, data.val_x, data.val_y)", "evaluate(model, data.train_x, data.train_y)", "data.val_x"),
    (5, "shuffle=True", "shuffle=False", "shuffle=True, generator="),
    (5, "generator = torch.Generator().manual_seed(seed)", "generator = torch.Generator()", "manual_seed(seed)"),
    (5, "return val_losses, stopper.best_epoch", "return val_losses, len(val_losses)", "the stopper's best_epoch"),
    (5, "        val_losses.append(val_loss)\n", "", "append the loss evaluate returns"),
    # the optimizer, or the generator, created (again) at the start of every epoch
    (
        5,
        SETUP,
        SETUP.replace(OPTIMIZER, "") + "    " + OPTIMIZER,
        "a new Adam every epoch forgets its running averages",
    ),
    (
        5,
        SETUP,
        SETUP.replace(GENERATOR, "") + "    " + GENERATOR,
        "seeded again, it gives every epoch the same batches",
    ),
    (
        5,
        "optimizer = torch.optim.Adam(model.parameters(), lr=lr)",
        "optimizer = torch.optim.Adam(model.parameters())",
        "pass lr on",
    ),
    (5, "optimizer = torch.optim.Adam(", "optimizer = torch.optim.SGD(", "create one torch.optim.Adam"),
    (
        5,
        "            optimizer.step()\n",
        "",
        "create one torch.optim.Adam before the epoch loop, then call its step()",
    ),
    # quick mode's 0.5 accuracy bar lets accumulated gradients through: the small model counts them
    (5, "            optimizer.zero_grad()\n", "", "call optimizer.zero_grad() before each backward()"),
    (5, "val_loss, _ = evaluate(", "val_loss = evaluate(", "evaluate returns a pair (loss, accuracy): unpack it"),
    (
        5,
        "val_loss, _ = evaluate(model, data.val_x, data.val_y)",
        "val_loss = float(evaluate(model, data.val_x, data.val_y))",
        "unpack it",
    ),
]


@pytest.mark.parametrize("task, old, new, hint", BUGS, ids=[f"task{b[0]}-{b[3][:24]}" for b in BUGS])
def test_a_classic_bug_fails_a_visible_check_with_its_hint(exercise, task, old, new, hint):
    if task == 5:
        run_cells(exercise[0], "task4-answer", namespace=exercise[1])
    assert_bug_fails_with_hint(exercise, task, old, new, hidden=False, hint=hint, recheck=False)


OTHER_CORRECT_ANSWERS = {
    1: """def cross_entropy(logits, labels, smoothing=0.0):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_p = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    targets = torch.full_like(log_p, smoothing / logits.shape[1])
    targets[torch.arange(len(labels)), labels] += 1 - smoothing
    return -(targets * log_p).sum(dim=1).mean()""",
    2: """def focal_loss(logits, labels, gamma=2.0):
    log_p = torch.log_softmax(logits, dim=1)[torch.arange(len(labels)), labels]
    return torch.mean(-(1 - torch.exp(log_p)).pow(gamma) * log_p)""",
    3: """def adam_step(params, averages, squares, step, lr, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    for p, m, s in zip(params, averages, squares):
        g = p.grad
        m.lerp_(g, 1 - b1)
        s.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = s.sqrt() / (1 - b2**step) ** 0.5 + eps
        p.data.addcdiv_(m, denom, value=-lr / (1 - b1**step))""",
    4: """class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.epoch, self.waited = 0, 0
        self.best_loss, self.best_epoch, self.best_state = float("inf"), 0, None

    def step(self, val_loss, model):
        self.epoch += 1
        improved = self.best_loss - val_loss > self.min_delta
        if improved:
            self.best_loss, self.best_epoch = val_loss, self.epoch
            self.best_state = {name: value.detach().clone() for name, value in model.state_dict().items()}
        self.waited = 0 if improved else self.waited + 1
        return self.waited >= self.patience""",
    5: """def train_with_early_stopping(model, data, max_epochs, patience, lr, batch_size, seed=0):
    optimizer = torch.optim.Adam(model.parameters(), lr)
    stopper, losses = EarlyStopping(patience), []
    generator = torch.Generator()
    generator.manual_seed(seed)
    epoch = 0
    while epoch < max_epochs:
        epoch += 1
        for xb, yb in iterate_batches(data.train_x, data.train_y, batch_size, shuffle=True, generator=generator):
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
        losses.append(evaluate(model, data.val_x, data.val_y)[0])
        if stopper.step(losses[-1], model):
            break
    model.load_state_dict(stopper.best_state)
    return losses, stopper.best_epoch""",
}


@pytest.mark.parametrize("task", sorted(OTHER_CORRECT_ANSWERS))
def test_another_correct_answer_passes_every_check(exercise, task):
    """Runs after the bug tests above, in their namespace: the solution passing every check here also proves
    that no planted bug left anything behind that fails it (they run only its answer again, not its checks)."""
    check_task(exercise, task, OTHER_CORRECT_ANSWERS[task], hidden=True)
    check_task(exercise, task, solution_answer(exercise, task), hidden=True)


def test_a_renamed_answer_is_told_which_name_the_check_looks_for(exercise):
    notebook, namespace = exercise
    renamed = solution_answer(exercise, 3).replace("def adam_step(", "def adam(")
    namespace.pop("adam_step", None)
    with pytest.raises(CheckFailed, match=r"^Task 3 \(one step of Adam\): `adam_step` is not defined yet"):
        check_task(exercise, 3, renamed)
    with pytest.raises(CheckFailed, match=re.escape("give it back the name `adam_step`")):
        run_cells(notebook, "task3-check", namespace=namespace)
    check_task(exercise, 3, solution_answer(exercise, 3))


def test_a_broken_early_stopping_costs_task_4_only(exercise):
    """Task 5 runs with the course's EarlyStopping: a wrong Task 4 leaves it passing."""
    broken = solution_answer(exercise, 4).replace("copy.deepcopy(model.state_dict())", "model.state_dict()")
    with pytest.raises(CheckFailed, match="holds the live tensors"):
        check_task(exercise, 4, broken)
    check_task(exercise, 5, solution_answer(exercise, 5))
    check_task(exercise, 4, solution_answer(exercise, 4))


OWN_HELPER = """def log_softmax(z):
    m = z.max(dim=1, keepdim=True).values
    return z - m - (z - m).exp().sum(dim=1, keepdim=True).log()


def cross_entropy(logits, labels, smoothing=0.0):
    log_probs = log_softmax(logits)
    true_class = log_probs.gather(1, labels[:, None]).squeeze(1)
    return -((1 - smoothing) * true_class + smoothing * log_probs.mean(dim=1)).mean()"""


def test_task_1_looks_at_what_runs_not_at_names(exercise, capsys):
    """A helper of one's own named log_softmax passes; a helper of another name calling F.log_softmax fails;
    PyTorch's functions are back in place afterwards."""
    import torch
    import torch.nn.functional as F

    originals = F.log_softmax, torch.logsumexp, torch.log_softmax, "log_softmax" in torch.Tensor.__dict__
    check_task(exercise, 1, OWN_HELPER, hidden=True)
    assert "PyTorch functions that cross_entropy calls to do the log-sum-exp for it: passed" in capsys.readouterr().out
    renamed = OWN_HELPER.replace(
        "def log_softmax(z):", "def normalize(z):\n    return F.log_softmax(z, dim=1)\n\n\ndef unused(z):"
    )
    renamed = renamed.replace("log_probs = log_softmax(logits)", "log_probs = normalize(logits)")
    with pytest.raises(CheckFailed, match=re.escape("got ['F.log_softmax']: compute ln p_k")):
        check_task(exercise, 1, renamed)
    assert (F.log_softmax, torch.logsumexp, torch.log_softmax, "log_softmax" in torch.Tensor.__dict__) == originals
    check_task(exercise, 1, solution_answer(exercise, 1))


def test_an_error_in_task_1_names_the_line_and_only_the_right_hint(exercise):
    forgot = solution_answer(exercise, 1).replace("logits.max(dim=1, keepdim=True)", "logits.max(dim=1)")
    with pytest.raises(CheckFailed, match=r"your line `log_probs = logits - m - .*`; keep the reduced") as error:
        check_task(exercise, 1, forgot)
    assert "must match the size of tensor b" in str(error.value)
    other = solution_answer(exercise, 1).replace("labels[:, None]", "labels")
    with pytest.raises(CheckFailed, match=r"your line `true_class = ") as error:
        check_task(exercise, 1, other)
    assert "keepdim" not in str(error.value)
    check_task(exercise, 1, solution_answer(exercise, 1))


def test_an_unfinished_task_1_shows_only_its_not_done_line(exercise, capsys):
    from course_utils.checks import NotDoneYet

    stub = 'def cross_entropy(logits, labels, smoothing=0.0):\n    raise NotImplementedError("Task 1: write it")'
    with pytest.raises(NotDoneYet):
        check_task(exercise, 1, stub)
    assert "✅" not in capsys.readouterr().out
    check_task(exercise, 1, solution_answer(exercise, 1))


def test_the_accuracy_hint_does_not_blame_the_optimizer(exercise):
    """A loop whose optimizer and batches pass the small model's checks but climbs the loss fails on accuracy,
    and its message does not name the optimizer: that is not the mistake."""
    answer = solution_answer(exercise, 5)
    ascent = answer.replace("loss = F.cross_entropy(model(xb), yb)", "loss = -F.cross_entropy(model(xb), yb)")
    run_cells(exercise[0], "task4-answer", namespace=exercise[1])
    with pytest.raises(CheckFailed, match="validation accuracy of the kept weights") as error:
        check_task(exercise, 5, ascent)
    assert "Adam" not in str(error.value) and "optimizer" not in str(error.value)
    check_task(exercise, 5, answer)


@pytest.mark.parametrize("zero_grad", ["model.zero_grad()", "optimizer.zero_grad(set_to_none=False)"])
def test_gradients_cleared_another_way_pass(exercise, zero_grad):
    """The check counts gradients added to an earlier batch's, not calls of optimizer.zero_grad()."""
    answer = solution_answer(exercise, 5)
    run_cells(exercise[0], "task4-answer", namespace=exercise[1])
    check_task(exercise, 5, answer.replace("optimizer.zero_grad()", zero_grad), hidden=True)
