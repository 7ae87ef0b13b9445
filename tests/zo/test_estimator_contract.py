"""Contract: every registered estimator (plain and proxy-guided) passes the same checks.

One batched call per estimate with the advertised number of rows, the same numbers
for the same seed, numpy and torch inputs agreeing, a finite estimate of the right
shape, and, on a linear function, a mean over many estimates that matches the
gradient within the spread its own theory (or its sample variance) allows.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import zoo_lab as zl
from zoo_lab._util.counting import CountingObjective
from zoo_lab.zo.estimators import names

D = 6
A = np.linspace(-1.0, 1.5, D)


def _linear(X):
    return X @ (A if isinstance(X, np.ndarray) else torch.as_tensor(A, dtype=X.dtype))


def _proxy(X):  # an exact, torch-differentiable proxy of the linear function
    return X @ torch.as_tensor(A, dtype=X.dtype)


def _make(name: str):
    q = 4 if name in ("coordinate", "orthogonal") else 8
    if name in zl.estimators.NAMES:
        return zl.estimators.make(name, q=q, mu=1e-4)
    return zl.estimators.make(name, q=q, mu=1e-4, proxy=_proxy)


@pytest.fixture(params=names())
def est(request):
    return _make(request.param)


def test_every_estimator_is_covered():
    assert set(names()) >= set(zl.estimators.NAMES) and len(names()) > len(zl.estimators.NAMES)


def test_one_batched_call_with_the_advertised_rows(est):
    f, x = CountingObjective(_linear), np.full(D, 0.3)
    g, n = est.gradient(f, x, seed=0)
    assert f.n_calls == 1 and f.n_evals == n
    assert g.shape == (D,) and np.all(np.isfinite(g))


def test_same_seed_same_estimate_and_other_seed_differs(est):
    x = np.full(D, 0.3)
    g1, _ = est.gradient(_linear, x, seed=5)
    g2, _ = est.gradient(_linear, x, seed=5)
    np.testing.assert_array_equal(g1, g2)
    if est.name not in ("coordinate",) and est.name in zl.estimators.NAMES:
        g3, _ = est.gradient(_linear, x, seed=6)
        assert not np.array_equal(g1, g3)


def test_numpy_and_torch_agree(est):
    x = np.full(D, 0.3)
    g_np, n_np = est.gradient(_linear, x, seed=3)
    g_t, n_t = est.gradient(_linear, torch.as_tensor(x), seed=3)
    assert isinstance(g_t, torch.Tensor) and n_np == n_t
    np.testing.assert_allclose(g_t.numpy(), g_np, rtol=1e-9, atol=1e-9)


def test_mean_estimate_matches_gradient_of_linear_function(est):
    """Averaged over 400 seeds, the estimate lands within 5 standard errors of a (or exactly)."""
    x = np.full(D, 0.3)
    G = np.array([est.gradient(_linear, x, seed=s)[0] for s in range(400)])
    se = G.std(axis=0, ddof=1) / np.sqrt(len(G))
    if est.name == "guided_es":  # biased by design (E ĝ is a scaled mix of ∇f and the guide);
        m = G.mean(0)  # with an exact guide the mean points along ∇f, with another length
        assert m @ A / (np.linalg.norm(m) * np.linalg.norm(A)) > 0.99
        return
    assert np.all(np.abs(G.mean(0) - A) <= 5 * se + 1e-6 * np.abs(A).max())


@pytest.mark.parametrize("bad", [np.full(D + 1, 0.3)[None, :], np.array([np.nan] * D)])
def test_bad_points_are_refused(est, bad):
    with pytest.raises((ValueError, TypeError), match="x"):
        est.gradient(_linear, bad, seed=0)
