"""Watching an answer at work, for exercises 8's checks (`losses_optimizers.py`).

Reading an answer's code tells which names it mentions, not which functions it runs: a helper of
your own named ``log_softmax`` is fine, a helper of another name that calls ``F.log_softmax`` is not.
So the checks watch what runs: `library_calls` swaps PyTorch's log-sum-exp functions for stand-ins
that write down each call (and put them back afterwards), and `optimizer_steps` writes down which
optimizer took each step of a training loop. Nothing here fails a check (`mistakes.explain_line` turns an
error inside your code into one line that names your line of code).
"""

import torch
import torch.nn.functional as F
from torch.optim.optimizer import register_optimizer_step_pre_hook

# The functions that would do Task 1's log-sum-exp for it, by where they live and the name the message uses
WATCHED = [
    (F, "cross_entropy", "F.cross_entropy"),
    (F, "log_softmax", "F.log_softmax"),
    (F, "nll_loss", "F.nll_loss"),
    (torch, "log_softmax", "torch.log_softmax"),
    (torch, "logsumexp", "torch.logsumexp"),
    (torch.special, "log_softmax", "torch.special.log_softmax"),
    (torch.special, "logsumexp", "torch.special.logsumexp"),
    (torch.Tensor, "log_softmax", "Tensor.log_softmax"),
    (torch.Tensor, "logsumexp", "Tensor.logsumexp"),
]
MISSING = object()


def library_calls(function, *args, **kwargs) -> tuple:
    """``function(*args, **kwargs)`` with the WATCHED functions written down as they are called:
    (its result, the sorted names of those it called; a call made inside another is not counted)."""
    calls, depth, saved = set(), [0], [(owner, name, owner.__dict__.get(name, MISSING)) for owner, name, _ in WATCHED]

    def spy(original, shown):
        def watched(*args, **kwargs):
            if depth[0] == 0:
                calls.add(shown)
            depth[0] += 1
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1

        return watched

    for owner, name, shown in WATCHED:
        setattr(owner, name, spy(getattr(owner, name), shown))
    try:
        result = function(*args, **kwargs)
    finally:  # put PyTorch's own functions back, whatever happened
        for owner, name, original in saved:
            setattr(owner, name, original) if original is not MISSING else delattr(owner, name)
    return result, sorted(calls)


class optimizer_steps:
    """Within the block, writes down the optimizer of every step taken (any optimizer of PyTorch's):
    ``with optimizer_steps() as steps: train(...)``, then ``steps.optimizers``, ``steps.count``."""

    def __enter__(self):
        self.steps = []
        self.handle = register_optimizer_step_pre_hook(lambda optimizer, args, kwargs: self.steps.append(optimizer))
        return self

    def __exit__(self, *error):
        self.handle.remove()
        return False

    @property
    def optimizers(self) -> list:
        """The optimizers that took steps, each once, in the order of their first step."""
        return list({id(optimizer): optimizer for optimizer in self.steps}.values())
