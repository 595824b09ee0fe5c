"""course_utils.gradcheck: central differences agree with known gradients, and catch wrong ones."""

import doctest

import numpy as np
import pytest
import torch

from course_utils import gradcheck
from course_utils.gradcheck import numerical_gradient, relative_error


def test_docstring_example_runs():
    assert doctest.testmod(gradcheck).failed == 0


def test_gradient_of_a_scalar_function():
    x = np.random.default_rng(0).standard_normal((3, 4))
    numerical = numerical_gradient(lambda x: np.sum(np.sin(x) * x), x)
    assert numerical.shape == x.shape
    assert relative_error(numerical, np.cos(x) * x + np.sin(x)) < 1e-8


def test_upstream_gives_the_gradient_a_backward_pass_returns():
    rng = np.random.default_rng(1)
    x, w, upstream = rng.standard_normal((5, 3)), rng.standard_normal((2, 3)), rng.standard_normal((5, 2))
    assert relative_error(numerical_gradient(lambda x: x @ w.T, x, upstream), upstream @ w) < 1e-8
    # the weights, perturbed in place while f reads them through another name
    assert relative_error(numerical_gradient(lambda _: x @ w.T, w, upstream), upstream.T @ x) < 1e-8


def test_input_is_restored_and_a_wrong_gradient_is_caught():
    x = np.random.default_rng(2).standard_normal(6)
    before = x.copy()
    numerical = numerical_gradient(lambda x: np.sum(x**3), x)
    assert np.array_equal(x, before)
    assert relative_error(numerical, 3 * x**2) < 1e-8
    assert relative_error(numerical, 2 * x**2) > 1e-2  # a typical bug: a wrong factor


def test_input_is_restored_when_f_fails():
    x = np.ones(3)

    def f(x):
        if x[0] != 1.0:
            raise RuntimeError("boom")
        return x.sum()

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    assert np.array_equal(x, np.ones(3))


def test_helpful_errors():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda x: x.sum(), np.ones(3, dtype=np.float32))
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda x: x.sum(), [1.0, 2.0])
    with pytest.raises(ValueError, match="upstream"):
        numerical_gradient(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        numerical_gradient(lambda x: x * 2, np.ones(3), upstream=np.ones(4))


def test_relative_error():
    a = np.array([3.0, 4.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert relative_error(a, np.zeros(2)) == 1.0
    assert relative_error(1e6 * a, 1e6 * (a + [0.0, 5e-9])) == pytest.approx(1e-9)  # scale-free
    assert relative_error(torch.tensor(a), a) == 0.0  # tensors are accepted
    with pytest.raises(ValueError, match="shapes"):
        relative_error(np.ones(2), np.ones(3))
