"""The per-estimate fast paths (issue 16.4) keep the behaviour of the full checks.

A non-finite point or value raises the ValueError naming it and nothing else (no numpy
"invalid value" RuntimeWarning first); CPU tensors, filled through numpy views, give the
numbers of the numpy path; the cheap small-step gate warns exactly where the full
|x|_inf rule does; the fast Query constructor builds the same frozen record.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import torch

from zoo_lab.optimize.zo import zo_adam
from zoo_lab.zo.estimators import Query, _new_query, make

CONV = {"numpy": np.asarray, "torch": torch.as_tensor}


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_raises_without_a_numpy_warning(backend, dtype, bad):
    conv, est = CONV[backend], make("gaussian", q=3, mu=1e-2, dtype=dtype)
    x = conv(np.array([0.5, bad, 1.0], dtype=dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        with pytest.raises(ValueError, match="x: every coordinate must be finite"):
            est.gradient(lambda X: X.sum(1), x, seed=0)

        def bad_row(X):
            y = X.sum(1)
            y[2] = bad
            return y

        with pytest.raises(ValueError, match="fun: returned a non-finite value .* at row 2 of 4"):
            est.gradient(bad_row, conv(np.ones(3, dtype=dtype)), seed=0)
        with pytest.raises(ValueError, match="fun: returned a non-finite value"):
            est.gradient(lambda X: X.sum(1) * bad, conv(np.ones(3, dtype=dtype)), seed=0)


def test_an_optimizer_on_non_finite_values_raises_without_a_numpy_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="fun: returned a non-finite value inf at row 0"):
            zo_adam(lambda X: np.full(len(X), np.inf), np.ones(2), max_evals=20, seed=0)
        with pytest.raises(ValueError, match="x: every coordinate must be finite"):
            zo_adam(lambda X: X.sum(1), np.array([np.inf, 0.0]), max_evals=20, seed=0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_huge_finite_inputs_pass_without_a_warning(dtype):
    # x·x overflows here, so the fast check falls back to the elementwise one, which accepts
    big = float(np.finfo(dtype).max) / 4
    x = np.array([big, -big], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g, n = make("gaussian", q=3, mu=big * 1e-3, dtype=dtype).gradient(
            lambda X: X[:, 0] * 0 + big, x, seed=0)
    assert n == 4 and g.dtype == np.dtype(dtype) and np.array_equal(g, np.zeros(2, dtype))


@pytest.mark.parametrize("name", ["gaussian", "sphere", "rademacher", "orthogonal"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cpu_tensors_give_the_numbers_of_the_numpy_path(name, dtype):
    A = np.linspace(-1.0, 2.0, 5)
    est = make(name, q=4, mu=1e-2, dtype=dtype)
    x = np.linspace(0.1, 0.9, 5)
    g_np, _ = est.gradient(lambda X: np.sin(X) @ A.astype(X.dtype), x, seed=7)
    xt = torch.tensor(x, requires_grad=True)  # a leaf with autograd: the estimate detaches it
    # the same values on both paths (torch's sin rounds differently), so the same estimate
    g_t, n = est.gradient(lambda X: torch.from_numpy(np.sin(X.numpy()) @ A.astype(X.numpy().dtype)),
                          xt, seed=7)
    assert isinstance(g_t, torch.Tensor) and g_t.dtype == getattr(torch, dtype) and n == 5
    np.testing.assert_array_equal(g_t.numpy(), g_np)
    q = est.query(xt, seed=7)
    assert isinstance(q.points, torch.Tensor) and isinstance(q.directions, torch.Tensor)
    P, U, xd = q.points.numpy(), q.directions.numpy(), x.astype(dtype)
    np.testing.assert_array_equal(P, est.query(x, seed=7).points)
    np.testing.assert_array_equal(P[0], xd)
    np.testing.assert_array_equal(P[1:], U * np.asarray(est.mu, dtype) + xd)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize(("x", "mu", "warns"), [
    (np.ones(10_000), 1e-6, False),  # |x|_2 = 100 fails the cheap gate, |x|_inf = 1 does not warn
    (np.array([1e3, 0.0, 0.0]), 1e-5, True),  # eps * 1e3 = 1.2e-4 > mu
    (np.array([1e3, 0.0, 0.0]), 2e-4, False),
    (np.zeros(3), 1e-7, True),  # below eps * 1 itself
])
def test_the_float32_step_gate_warns_exactly_by_the_inf_norm_rule(backend, x, mu, warns):
    est = make("gaussian", q=2, mu=mu, dtype="float32")
    xs = CONV[backend](x.astype(np.float32))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.query(xs, seed=0)
    hits = [w for w in caught if "below the float32 resolution" in str(w.message)]
    assert len(hits) == int(warns)


def test_the_fast_query_is_the_same_frozen_record():
    args = (np.zeros(2), np.ones((3, 2)), np.eye(2), None, 1e-3, 0.5, False)
    fast, slow = _new_query(*args), Query(*args)
    assert type(fast) is Query and repr(fast) == repr(slow)
    for f in dataclasses.fields(Query):
        assert getattr(fast, f.name) is getattr(slow, f.name)
    assert fast.n_evals == 3 and fast.k == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.mu = 1.0


@pytest.mark.parametrize("difference", ["forward", "central"])
def test_the_torch_dispatch_path_of_devices_gives_the_same_estimate(monkeypatch, difference):
    # no GPU here: pretend CPU tensors are off-host, so that _build and _combine take the
    # torch branches a CUDA tensor takes, and compare with the numpy-view branches
    import zoo_lab.zo.estimators as E

    A = np.linspace(-1.0, 2.0, 4)
    est = make("gaussian", q=6, mu=1e-3, difference=difference)
    x = torch.linspace(0.2, 0.8, 4, dtype=torch.float64)

    def f(X):
        return (X * X) @ torch.as_tensor(A)

    g_host, n_host = est.gradient(f, x, seed=2)
    monkeypatch.setattr(E, "_on_host", lambda t: False)
    q = est.query(x, seed=2)
    g_dev, n_dev = est.gradient(f, x, seed=2)
    assert n_dev == n_host and isinstance(g_dev, torch.Tensor)
    np.testing.assert_array_equal(q.points.numpy(), est.query(x.numpy(), seed=2).points)
    np.testing.assert_allclose(g_dev.numpy(), g_host.numpy(), rtol=1e-12)


def test_directions_of_another_dtype_are_cast_to_the_tensor_dtype():
    # a subclass's _draw may return float64 for a float32 estimator; the tensor path casts
    # them as to_backend did, so the Query and the estimate stay float32
    from zoo_lab.zo.estimators import Gaussian

    class Loose(Gaussian):
        def _draw(self, k, d, rng):
            return rng.standard_normal((k, d))  # always float64

    est = Loose(q=3, mu=1e-2, dtype="float32")
    q = est.query(torch.ones(4, dtype=torch.float32), seed=0)
    assert q.points.dtype == q.directions.dtype == torch.float32
    g, _ = est.gradient(lambda X: X.sum(1), torch.ones(4, dtype=torch.float32), seed=0)
    assert g.dtype == torch.float32
