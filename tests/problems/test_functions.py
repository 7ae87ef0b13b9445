"""Benchmark registry: optima, hand-computed values, numpy/torch agreement, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from zoo_lab.problems import functions as F

DIMS = (1, 2, 3, 5, 10, 20)


def _supported(name):
    return [d for d in DIMS if d >= F.REGISTRY[name].min_dim]


CASES = [(n, d) for n in F.names() for d in _supported(n)]


@pytest.mark.parametrize(("name", "dim"), CASES)
def test_value_at_optimum(name, dim):
    f = F.get(name, dim)
    assert f.bounds.shape == (dim, 2)
    if f.x_opt is None:
        assert math.isnan(f.f_opt)
        return
    assert np.all(f.x_opt >= f.lower) and np.all(f.x_opt <= f.upper)
    assert f(f.x_opt[None])[0] == pytest.approx(f.f_opt, abs=1e-9)


@pytest.mark.parametrize(("name", "dim"), CASES)
def test_optimum_is_a_local_minimum_and_not_beaten_by_sampling(name, dim):
    """x* is stationary (no descent from it) and no random point in the domain beats f*."""
    f = F.get(name, dim)
    if f.x_opt is None:
        pytest.skip(f"{name} has no known minimiser in {dim}D")
    rng = np.random.default_rng(0)
    X = rng.uniform(f.lower, f.upper, size=(20_000, dim))
    assert f(X).min() >= f.f_opt - 1e-9
    r = minimize(lambda x: f(x[None])[0], f.x_opt, method="L-BFGS-B", bounds=f.bounds)
    assert r.fun >= f.f_opt - 1e-7


@pytest.mark.parametrize(
    ("name", "x", "expected"),
    [
        ("sphere", [1.0, 2.0], 5.0),
        ("rastrigin", [1.0, 0.0], 1.0),  # 20 + (1 - 10) + (0 - 10)
        ("rastrigin", [0.5, 0.5], 20 + 2 * (0.25 + 10)),
        ("ackley", [1.0, 1.0], -20 * math.exp(-0.2) - math.e + 20 + math.e),
        ("rosenbrock", [0.0, 0.0], 1.0),
        ("rosenbrock", [1.0, 2.0], 100.0),
        ("rosenbrock", [0.0, 0.0, 0.0], 2.0),
        ("griewank", [math.pi, 0.0], math.pi**2 / 4000 - (-1.0) + 1),
        ("styblinski_tang", [0.0, 0.0], 0.0),
        ("styblinski_tang", [1.0, -1.0], 0.5 * ((1 - 16 + 5) + (1 - 16 - 5))),
        ("levy", [1.0, 1.0], 0.0),
        ("levy", [-3.0, 5.0], math.sin(0.0) ** 2 + (0 - 1) ** 2 * (1 + 10 * math.sin(1) ** 2)
         + (2 - 1) ** 2 * (1 + math.sin(4 * math.pi) ** 2)),
        ("schwefel", [0.0, 0.0], 2 * 418.98288727243374),
        ("michalewicz", [math.pi / 2, math.pi / 2], -(1.0 * math.sin(0.25 * math.pi) ** 20
                                                      + 1.0 * math.sin(0.5 * math.pi) ** 20)),
        ("zakharov", [1.0, 1.0], 2 + 1.5**2 + 1.5**4),
        ("dixon_price", [1.0, 1.0], 0 + 2 * (2 - 1) ** 2),
    ],
)
def test_hand_computed_values(name, x, expected):
    f = F.get(name, len(x))
    assert f(np.array([x]))[0] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_one_row_input_returns_scalar():
    f = F.get("sphere", 3)
    assert f(np.array([1.0, 2.0, 2.0])) == pytest.approx(9.0)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(F.names()), dim=st.integers(2, 12), seed=st.integers(0, 2**31 - 1))
def test_numpy_and_torch_agree(name, dim, seed):
    f = F.get(name, dim)
    X = np.random.default_rng(seed).uniform(f.lower, f.upper, size=(7, dim))
    y_np = f(X)
    y_t = f(torch.from_numpy(X))
    assert isinstance(y_np, np.ndarray) and isinstance(y_t, torch.Tensor)
    assert y_t.dtype == torch.float64 and y_np.shape == (7,)
    np.testing.assert_allclose(y_t.numpy(), y_np, rtol=1e-12, atol=1e-9)
    y32 = f(torch.from_numpy(X).float())
    assert y32.dtype == torch.float32


def test_torch_is_differentiable():
    f = F.get("rosenbrock", 2)
    x = torch.tensor([[0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    f(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-2.0, 0.0]])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available on this machine")
def test_cuda_matches_cpu():
    for name in F.names():
        f = F.get(name, 4)
        X = torch.rand(64, 4, dtype=torch.float64) * 2 - 1
        y = f(X.cuda())
        assert y.device.type == "cuda"
        torch.testing.assert_close(y.cpu(), f(X))


def test_unknown_name_lists_known():
    with pytest.raises(ValueError, match="unknown function 'rastrigan'.*rastrigin"):
        F.get("rastrigan", 2)


@pytest.mark.parametrize(("name", "dim"), [("rosenbrock", 1), ("sphere", 0), ("dixon_price", 1)])
def test_unsupported_dimension(name, dim):
    with pytest.raises(ValueError, match=f"dim: {name} is defined for"):
        F.get(name, dim)


@pytest.mark.parametrize("dim", [2.0, "2", True])
def test_dimension_type(dim):
    with pytest.raises(TypeError, match="dim: expected an int"):
        F.get("sphere", dim)


def test_wrong_input_shape_names_expected():
    f = F.get("ackley", 3)
    with pytest.raises(ValueError, match=r"expected shape \(n, 3\)"):
        f(np.zeros((4, 2)))


def test_michalewicz_optimum_only_where_known():
    for d in (2, 5, 10):
        assert F.get("michalewicz", d).x_opt is not None
    f = F.get("michalewicz", 3)
    assert f.x_opt is None and math.isnan(f.f_opt)
    assert "d = 2, 5, 10" in F.REGISTRY["michalewicz"].note


def test_standard_domains():
    """Surjanovic & Bingham's domains, not the shifted/rescaled ones some libraries use."""
    expected = {"rastrigin": 5.12, "ackley": 32.768, "griewank": 600.0, "schwefel": 500.0,
                "levy": 10.0, "styblinski_tang": 5.0}
    for name, half in expected.items():
        np.testing.assert_array_equal(F.get(name, 3).bounds, np.tile([-half, half], (3, 1)))
    np.testing.assert_array_equal(F.get("rosenbrock", 2).bounds, [[-5, 10], [-5, 10]])
    np.testing.assert_allclose(F.get("michalewicz", 2).bounds, [[0, math.pi]] * 2)
