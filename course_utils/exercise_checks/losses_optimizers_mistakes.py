"""The hints of exercises 8's checks (`losses_optimizers.py`), and the classic mistakes they name.

A hint that names a mistake is given only when the answer gives exactly what that mistake gives (a
loss of the wrong sign, a sum where a mean belongs, the weights of the last epoch instead of the
best...); any other wrong answer is told the rule it breaks. Each ``..._hint`` function returns the
hint for the answer it is given; the checks at the end (`check_loss`...) use them.
"""

import torch
import torch.nn.functional as F

from course_utils.checks import check_close, fail
from course_utils.exercise_checks.losses_optimizers_references import course_focal_loss
from course_utils.exercise_checks.mistakes import explain_line


def same(a, b) -> bool:
    """The same numbers (``a`` from an answer: any kind of value)."""
    try:
        a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
        return a.shape == b.shape and bool(torch.allclose(a, b, rtol=1e-5, atol=1e-7))
    except (TypeError, ValueError, RuntimeError):
        return False


LOG_SUM_EXP = ["cross_entropy", "log_softmax", "logsumexp", "nll_loss", "CrossEntropyLoss"]
KEEPDIM = (
    "keep the reduced dimension, keepdim=True, in max and sum: a (16, 1) column broadcasts against the "
    "(16, 10) logits row by row, a (16,) vector does not"
)
BROADCAST = {f"({a}) must match the size of tensor b ({b})": KEEPDIM for a, b in ((10, 16), (16, 10))}  # on 16 x 10
LOG_SUM_EXP = "compute ln p_k = z_k - m - ln sum_j exp(z_j - m) with torch operations (max, exp, sum, log, gather)"
GRADIENT = "build the loss from torch operations on the logits (no .item(), .detach() or NumPy), so autograd follows it"
OVERFLOW = (
    "some numbers overflowed or became ln 0: exp(1000) is inf in float32, and softmax rounds tiny "
    "probabilities to 0; compute ln p_k = z_k - m - ln sum_j exp(z_j - m), m the row's largest logit"
)
LOG_OF_ZERO = "take ln p_y from logits.log_softmax(dim=1): the log of softmax is ln 0 = -inf for tiny probabilities"
MEAN = "average the images' losses over the batch with .mean(), not .sum()"


def smoothing_hint(loss, logits, labels, eps: float) -> str:
    """The hint for a cross_entropy that differs from F.cross_entropy(..., label_smoothing=eps)."""
    neg_log_p = -F.log_softmax(logits.double(), dim=1)
    true_class, k = neg_log_p.gather(1, labels[:, None]).squeeze(1), logits.shape[1]
    others = (neg_log_p.sum(dim=1) - true_class) / (k - 1)
    expected = ((1 - eps) * true_class + eps * neg_log_p.mean(dim=1)).mean()
    if not torch.isfinite(torch.as_tensor(loss)).all():
        return OVERFLOW
    if same(loss, -expected):
        return "the loss is -sum_k q_k ln p_k: positive, since every ln p_k is negative"
    if same(loss, len(labels) * expected):
        return MEAN
    if eps and same(loss, true_class.mean()):
        return "mix in the smoothing: (1 - smoothing) * (-ln p_y) + smoothing * the mean of -ln p_k over the classes"
    if eps and same(loss, ((1 - eps) * true_class + eps * others).mean()):
        return "the smoothing is spread over all K classes, the true one included: q_y = 1 - eps + eps / K"
    if eps and same(loss, ((1 - eps) * true_class + eps * neg_log_p.sum(dim=1)).mean()):
        return "eps / K for each class: take the mean of -ln p_k over the classes, not the sum"
    return "(1 - eps) (-ln p_y) + eps * mean_k(-ln p_k) per image, ln p_k = z_k - m - ln sum_j exp(z_j - m)"


def focal_hint(loss, logits, labels, gamma: float) -> str:
    """The hint for a focal_loss that differs from the course's."""
    ce = F.cross_entropy(logits.double(), labels, reduction="none")
    p_y, expected = torch.exp(-ce), course_focal_loss(logits.double(), labels, gamma)
    if not torch.isfinite(torch.as_tensor(loss)).all():
        return LOG_OF_ZERO
    if same(loss, -expected):
        return "the loss is -(1 - p_y)**gamma * ln p_y: positive, since ln p_y is negative"
    if same(loss, len(labels) * expected):
        return MEAN
    if gamma and same(loss, ((1 - p_y) * gamma * ce).mean()):
        return "raise (1 - p_y) to the power gamma: (1 - p_y) ** gamma"
    if gamma and same(loss, (p_y**gamma * ce).mean()):
        return "the weight is (1 - p_y)**gamma: small for an easy image (p_y near 1), near 1 for a mistake"
    return "the loss of one image is -(1 - p_y)**gamma * ln p_y, ln p_y from logits.log_softmax(dim=1); then .mean()"


def first_step_hint(moved, grads, lr: float, eps: float = 1e-8) -> str:
    """The hint for a first Adam step (from zero averages) that moved the weights by ``moved``."""
    expected, broken = -lr * grads / (grads.abs() + eps), ~torch.isfinite(moved)
    if broken.all():
        return "the step number starts at 1: at step 0, 1 - beta ** step is 0 and the bias correction divides by it"
    if broken.any() and torch.equal(broken, grads < 0):
        return "s is the running average of the squared gradients, g**2: it is never negative, so its root exists"
    if not moved.any():
        return "the parameters did not change: change them in place inside `with torch.no_grad():`, e.g. p.sub_(...)"
    if same(moved, -expected):
        return "step against the gradient: subtract lr * m_hat / (sqrt(s_hat) + eps) from the parameter"
    if same(moved, -lr * 0.1 * grads / ((0.001 * grads**2).sqrt() + eps)):
        return "divide m by (1 - beta1 ** step) and s by (1 - beta2 ** step): the bias correction"
    if same(moved, -lr * grads / (grads**2 + eps).sqrt()):
        return "add eps after the square root, sqrt(s_hat) + eps: inside it, eps swamps a gradient of 1e-8"
    return "m = beta1 m + (1 - beta1) g and s = beta2 s + (1 - beta2) g**2, then p -= lr m_hat / (sqrt(s_hat) + eps)"


IN_PLACE = "change the caller's tensors in place, m.mul_(beta1).add_(...): m = beta1 * m + ... makes a new tensor"
NO_GRAD = "change the parameters inside `with torch.no_grad():`, so that autograd does not record the update"
STEPS = "use the step number you are given for the bias correction, and let the averages carry over from step to step"


def stopping_hint(decisions: list) -> str:
    """The hint for stop decisions that differ from STOPS on RUN with patience 3."""
    if decisions == [False] * 12:
        return "stop as soon as `waited` reaches the patience (>=), not one epoch later"
    if decisions == [False] * 11 + [True]:
        return "an equal loss is no improvement: 0.7 at epoch 7 does not beat 0.7 at epoch 5 (compare with <)"
    if decisions == [False] * 5 + [True]:
        return "set `waited` back to 0 when the loss improves"
    return "the best loss, 0.7, comes at epoch 5; 0.75, 0.7 and 0.72 make 3 epochs without improvement: stop after 8"


def min_delta_hint(decisions: list) -> str:
    """The hint for stop decisions that differ on DELTA_RUN (patience 2, min_delta 0.05)."""
    if len(decisions) == 6 and not any(decisions):
        return "a loss improves only when it is below best_loss - min_delta: 0.97 does not beat 1.0 by more than 0.05"
    return "0.97 is not below 1.0 - 0.05, 0.9 is; 0.88 and 0.87 are not below 0.9 - 0.05: stop after epoch 5"


def saved_state_hint(state, last_epoch: int) -> str:
    """The hint for a saved state whose weight is not epoch 5's."""
    if isinstance(state, dict) and torch.is_tensor(state.get("weight")) and state["weight"].item() == last_epoch:
        return "model.state_dict() holds the live tensors, which later steps change: store copy.deepcopy(...) of it"
    return "store the weights when the loss improves: copy.deepcopy(model.state_dict()), a dict of tensors"


def epochs_trained_hint(epochs: int) -> str:
    if epochs > 8:
        return "stop (break) as soon as stopper.step(val_loss, model) returns True: here after epoch 8"
    return "call evaluate(model, data.val_x, data.val_y) once per epoch, then stopper.step(val_loss, model)"


def kept_weights_hint(kept, states) -> str:
    last = torch.nn.utils.parameters_to_vector(states[-1].values()) if states else None
    if last is not None and same(kept, last):
        return "load the best weights back before returning: model.load_state_dict(stopper.best_state)"
    return "the model must end with the weights of the best epoch, stopper.best_state"


def batch_order_in_words(first, again, other, in_order) -> str:
    """How the first training batch compares with the data's first images, with the first batch of a second
    run with the same seed, and with that of a run with another seed, in words."""
    order = "in the data's order" if torch.equal(first, in_order) else "shuffled"
    order += ", the same for the same seed" if torch.equal(first, again) else ", another for the same seed"
    return order + (", the same for another seed" if torch.equal(first, other) else ", another for another seed")


SHUFFLE = "iterate_batches(..., shuffle=True, generator=torch.Generator().manual_seed(seed)), one generator per run"
ZERO_GRAD = "call optimizer.zero_grad() before each backward(): else backward() adds to the last batches' gradients"
PAIR = {"LossAndAccuracy": "evaluate returns a pair (loss, accuracy): unpack it, val_loss, _ = evaluate(...)"}


# --- checks that fail with these hints ------------------------------------------------------------


def check_loss_tensor(loss, what: str) -> None:
    """Fail unless ``loss`` is a 0-dimensional tensor (the ✅ comes with the check of its value)."""
    __tracebackhide__ = True
    if not isinstance(loss, torch.Tensor):
        item = "do not call .item(): backward() must follow the loss through autograd"
        hint = item if isinstance(loss, float) else None
        fail(what, f"expected a 0-dimensional tensor, got a {type(loss).__name__}", hint)
    if loss.shape != ():
        fail(what, f"expected a 0-dimensional tensor, got shape {tuple(loss.shape)}", "average the images with .mean()")


def check_loss(nb, name: str, argument: str, value: float, reference, hint_for, seed: int) -> None:
    """Your loss ``name`` on 16 images of 10 classes, its value and its gradient, against ``reference``."""
    torch.manual_seed(seed)
    logits, labels = 3 * torch.randn(16, 10), torch.randint(0, 10, (16,))
    z, call = logits.clone().requires_grad_(True), f"{name}(logits, labels, {argument}={value})"
    with explain_line(call):
        loss = getattr(nb, name)(z, labels, **{argument: value})
    check_loss_tensor(loss, call)
    hint = hint_for(loss, logits, labels, value)
    check_close(
        loss,
        reference(logits, labels, value),
        f"{call} matches {reference.__doc__.format(value)}",
        atol=1e-5,
        hint=hint,
    )
    with explain_line(f"the gradient of {call}", grad=GRADIENT):
        loss.backward()
    theirs = torch.autograd.grad(reference(z, labels, value), z)[0]
    check_close(z.grad, theirs, f"the gradient of {call}, by autograd", atol=1e-6, hint=GRADIENT)


def check_huge_logits(nb, name: str, argument: str, value: float, reference, hint: str) -> None:
    """Logits as large as 1000 must give PyTorch's finite loss."""
    huge, labels = torch.tensor([[1000.0, 0.0, -1000.0], [500.0, 510.0, 0.0]]), torch.tensor([2, 0])
    call = f"{name} of logits as large as 1000, {argument}={value}"
    with explain_line(call):
        loss = getattr(nb, name)(huge, labels, **{argument: value})
    check_loss_tensor(loss, call)
    hint = hint if not torch.isfinite(loss).item() else None
    check_close(loss, reference(huge, labels, value), call + " (no overflow)", atol=1e-4, hint=hint)
