"""Checking hand-written gradients against central differences (lesson 7 and its exercises).

A backward pass is easy to get subtly wrong, and a wrong gradient often still trains, just
worse. The cure is to compare it with a gradient computed from the forward pass alone: nudge
one input number ``x_i`` by a tiny ``eps`` up and down and see how the output moves,

    d f / d x_i  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)         (central differences)

The error of this estimate shrinks like ``eps**2``; rounding adds about ``1e-16 |f| / eps``, so
in float64 with ``eps = 1e-6`` a correct backward pass agrees to 1e-8 or less (typically about
1e-9), while a wrong one is off by 1e-2 or more. (In float32 the rounding term is about 1e-7 / eps
and the check is useless: always check in float64.)

A layer has an array output, not a number. Its backward pass receives the gradient of the loss
with respect to that output (``upstream``) and returns the gradient with respect to its input,
which is the gradient of the number ``sum(f(x) * upstream)``. Passing ``upstream=`` does that:

    >>> import numpy as np
    >>> x = np.array([[1.0, -2.0], [3.0, 0.5]])
    >>> upstream = np.array([[0.1, 0.2], [0.3, 0.4]])
    >>> numerical = numerical_gradient(lambda x: x ** 2, x, upstream=upstream)
    >>> relative_error(2 * x * upstream, numerical) < 1e-8     # the backward pass of x ** 2
    True

``f`` is evaluated 2 * ``x.size`` times, so check small inputs (a few hundred numbers).

`check_layer` runs both of lesson 7's checks on a layer object (``forward``, ``backward``,
``params``, ``grads``): central differences, and PyTorch's autograd on the same float64 numbers.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_layer", "numerical_gradient", "relative_error"]


def numerical_gradient(f, x: np.ndarray, upstream: np.ndarray | None = None, eps: float = 1e-6) -> np.ndarray:
    """The gradient of ``f`` at ``x`` by central differences, an array shaped like ``x``.

    ``f(x)`` returns a number, or an array when ``upstream`` (an array shaped like ``f(x)``, the
    gradient arriving from later layers) is given: then the gradient of ``sum(f(x) * upstream)``
    is returned, which is what a layer's backward pass must compute for that ``upstream``.

    ``x`` must be a float64 array. It is changed **in place** one entry at a time (and restored
    before returning), so ``f`` may also ignore its argument and read ``x`` through another name,
    for instance a layer's weight array: ``numerical_gradient(lambda _: layer.forward(inputs),
    layer.weight, upstream)`` is the gradient with respect to the weights.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        found = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(
            f"numerical_gradient needs a float64 NumPy array, got {found}: in lower "
            "precision rounding swamps the differences (use x.astype(np.float64))"
        )
    if upstream is not None:
        upstream = np.asarray(upstream, dtype=np.float64)

    def value() -> float:
        out = np.asarray(f(x), dtype=np.float64)
        if upstream is None:
            if out.size != 1:
                raise ValueError(
                    f"f returned an array of shape {out.shape}; pass upstream= "
                    "(shaped like f's output) or make f return one number"
                )
            return float(out.reshape(()))
        if out.shape != upstream.shape:
            raise ValueError(f"f returned shape {out.shape} but upstream has shape {upstream.shape}")
        return float(np.sum(out * upstream))

    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        try:
            x[i] = original + eps
            plus = value()
            x[i] = original - eps
            minus = value()
        finally:
            x[i] = original
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b) -> float:
    """``|a - b| / max(|a|, |b|)`` with Euclidean norms over all entries; 0.0 when both are zero.

    A single number that does not depend on the arrays' scale: about 1e-16 means equal up to
    float64 rounding, 1e-8 or less (typically about 1e-9) is a correct gradient against central
    differences, and 1e-2 or more means a bug. Accepts NumPy arrays, PyTorch tensors and plain numbers.
    """
    a = np.asarray(a.detach().cpu() if hasattr(a, "detach") else a, dtype=np.float64)
    b = np.asarray(b.detach().cpu() if hasattr(b, "detach") else b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {b.shape}")
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def check_layer(layer, x: np.ndarray, torch_forward, rng: np.random.Generator | None = None):
    """Check ``layer.forward`` and ``layer.backward`` at the float64 input ``x``: a table of relative errors.

    ``layer`` is a layer of lesson 7: ``forward(x)`` returns its output, ``backward(grad_out)``
    returns dL/dx and fills the dict ``layer.grads`` for the arrays in the dict ``layer.params``.
    ``torch_forward(x, *params)`` is PyTorch's version of ``layer.forward`` (e.g. ``F.linear``).
    A random gradient (from ``rng``) arrives from above; each gradient the backward pass returns
    is compared with central differences and with autograd, one row per array:

        >>> class Square:                          # y = x ** 2, elementwise, with no parameters
        ...     params, grads = {}, {}
        ...     def forward(self, x):
        ...         self.x = x
        ...         return x**2
        ...     def backward(self, grad_out):
        ...         return 2 * self.x * grad_out
        >>> errors = check_layer(Square(), np.array([[1.0, -2.0], [3.0, 0.5]]), lambda x: x**2)
        >>> list(errors.index), bool(errors.max().max() < 1e-8)
        (['forward: output', 'backward: dL/dx'], True)
    """
    import pandas as pd
    import torch

    rng = np.random.default_rng() if rng is None else rng
    out = layer.forward(x)
    upstream = rng.standard_normal(np.shape(out))  # a made-up dL/d(output), arriving from above
    ours = {"x": layer.backward(upstream), **layer.grads}
    arrays = {"x": x, **layer.params}
    tensors = {name: torch.tensor(array, requires_grad=True) for name, array in arrays.items()}
    out_torch = torch_forward(*tensors.values())
    (out_torch * torch.from_numpy(upstream)).sum().backward()  # autograd fills tensor.grad

    errors = {"forward: output": [np.nan, relative_error(out, out_torch)]}
    for name, array in arrays.items():
        # numerical_gradient nudges the array in place: the layer's own weights, or x itself
        numerical = numerical_gradient(lambda _: layer.forward(x), array, upstream)
        errors[f"backward: dL/d{name}"] = [
            relative_error(ours[name], numerical),
            relative_error(ours[name], tensors[name].grad),
        ]
    return pd.DataFrame.from_dict(errors, orient="index", columns=["vs central differences", "vs PyTorch autograd"])
