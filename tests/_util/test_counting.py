"""CountingObjective: the one counter of evaluations (rows), calls, budget cap and best row."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from zoo_lab._util.counting import BudgetSpent, CountingObjective


def sphere(X):
    return (X**2).sum(1)


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(1, 9), min_size=1, max_size=8), cap=st.integers(1, 40))
def test_rows_calls_and_the_hard_cap(sizes, cap):
    rng = np.random.default_rng(0)
    seen = []
    c = CountingObjective(lambda X: seen.append(len(X)) or sphere(X), max_evals=cap, track=True)
    for n in sizes:
        X = rng.standard_normal((n, 2))
        if c.n_evals >= cap:
            with pytest.raises(BudgetSpent):
                c(X)
            continue
        y = c(X)
        m = min(n, cap - (c.n_evals - seen[-1]))  # rows that fitted in this call
        assert y.shape == (n,) and np.all(np.isinf(y[m:])) and np.allclose(y[:m], sphere(X[:m]))
    assert c.n_evals == sum(seen) == min(cap, sum(sizes)) and c.n_calls == len(seen)
    assert c.hist_evals == list(np.cumsum(seen))
    assert np.all(np.diff(c.hist_best) <= 0) and c.best_f == c.hist_best[-1]
    assert c.best_f == pytest.approx(float(sphere(c.best_x[None])[0]))


def test_untracked_calls_pass_values_through_and_keep_batches():
    y_torch = torch.arange(3.0)
    c = CountingObjective(lambda X: y_torch, keep_batches=True)
    X = torch.zeros((3, 2))
    assert c(X) is y_torch  # no conversion on the hot path (GPU populations stay on the GPU)
    assert c.rows == c.n_evals == 3 and c.calls == 1
    assert isinstance(c.batches[0], np.ndarray) and c.batches[0].shape == (3, 2)


def test_nan_never_becomes_the_best_and_the_hook_sees_each_improvement():
    seen = []

    class Hook(CountingObjective):
        def improved(self, x, f):
            seen.append(f)

    c = Hook(lambda X: np.array([np.nan, 3.0, 5.0])[: len(X)], track=True)
    c(np.zeros((3, 1)))
    c(np.zeros((2, 1)))
    assert c.best_f == 3.0 and seen == [3.0]


def test_bad_arguments():
    with pytest.raises(TypeError, match="fun"):
        CountingObjective(None)
    c = CountingObjective(lambda X: np.zeros(2), track=True)
    with pytest.raises(ValueError, match=r"fun: must map .* \(n,\)"):
        c(np.zeros((3, 1)))
