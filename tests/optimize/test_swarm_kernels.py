"""PSO's fast kernels give the numbers of their plain definitions, and the loop's work buffers never leak.

The expanding neighbourhood's best (a sliding minimum over ranks) must pick what a
masked argmin over the ring window picks, ties included; the periodic wrap without
a division must equal ``lo + (x - lo) mod span`` bit for bit; a batch handed to
``fun`` must stay as it was evaluated even if ``fun`` keeps it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo_lab as zl
from zoo_lab.optimize import swarm
from zoo_lab.optimize._population import _Backend
from zoo_lab.optimize.swarm import _ring_windows, _window_best


def _masked_argmin(f: np.ndarray, radius: int) -> np.ndarray:
    """The definition: per particle, argmin of f over ring distance <= radius (first index on ties)."""
    n = len(f)
    gap = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
    return np.argmin(np.where(np.minimum(gap, n - gap) <= radius, f[None, :], math.inf), axis=1)


@pytest.mark.parametrize("mask_max", [swarm._MASK_MAX, 0], ids=["torch-mask", "torch-shifted-minima"])
@settings(max_examples=100, deadline=None)
@given(n=st.integers(4, 70), data=st.data())
def test_window_best_is_the_masked_argmin(mask_max, n, data):
    radius = data.draw(st.integers(1, n // 2 - 1))
    # few distinct values, so ties are common; -inf and +inf (a NaN turned +inf) included
    pool = st.sampled_from([0.0, -0.0, 1.0, 2.5, -3.0, math.inf, -math.inf, 1e-300])
    f = np.array(data.draw(st.lists(pool | st.floats(-5, 5), min_size=n, max_size=n)))
    want = _masked_argmin(f, radius)
    # a window all +inf: the masked argmin may leave the window; the rank minima stay in it
    in_window = np.array([(f[(np.arange(-radius, radius + 1) + i) % n] != math.inf).any() for i in range(n)])
    old, swarm._MASK_MAX = swarm._MASK_MAX, mask_max
    try:
        for name in ("numpy", "torch"):
            be = _Backend(name, None, None, 0)
            got = be.numpy(_window_best(be, be.asarray(f), _ring_windows(be, n, radius), be.arange(n)))
            if name == "torch" and mask_max:  # the definition itself, window quirk included
                np.testing.assert_array_equal(got, want)
                continue
            np.testing.assert_array_equal(got[in_window], want[in_window], err_msg=name)
            dist = np.minimum(np.abs(got - np.arange(n)), n - np.abs(got - np.arange(n)))
            assert (dist <= radius).all(), name
    finally:
        swarm._MASK_MAX = old


@settings(max_examples=100, deadline=None)
@given(lo=st.floats(-100, 100), width=st.floats(1e-3, 200), seed=st.integers(0, 2**32 - 1),
       v_frac=st.floats(0.0, 0.9))
def test_periodic_wrap_without_division_is_the_modulo_bitwise(lo, width, seed, v_frac):
    rng = np.random.default_rng(seed)
    span = (lo + width) - lo
    hi = lo + width
    x = lo + span * rng.random(200)
    x = np.minimum(x, hi)
    v = v_frac * span * (2 * rng.random(200) - 1)
    moved = x + v
    want = np.minimum(lo + (moved - lo) % span, hi)
    t = moved - lo
    t = np.where(t < 0, t + span, t)
    t = np.where(t >= span, t - span, t)
    got = np.minimum(t + lo, hi)
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))


@pytest.mark.parametrize("walls", ["periodic", "absorb", "reflect"])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_batches_kept_by_fun_stay_as_evaluated(walls, backend):
    kept, copies = [], []

    def fun(X):
        kept.append(X)  # no copy: the optimizer must not write into it later
        copies.append(X.clone() if isinstance(X, torch.Tensor) else X.copy())
        return (X * X).sum(1)

    zl.optimize.pso(fun, [[-1, 1]] * 3, n_particles=6, iters=15, walls=walls, seed=0, backend=backend)
    assert len(kept) == 15
    for a, b in zip(kept, copies, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("topology", ["global", "ring", "expanding"])
def test_torch_history_before_a_truncated_batch_is_the_best_so_far(topology):
    # the last batch is truncated and updates the personal bests in place; the history must
    # still hold the best value as it was after each earlier batch
    seen = []

    def fun(X):  # particle 0 improves at every call, so it is the best one in the truncated batch too
        y = (X * X).sum(1)
        y[0] = -float(len(seen))
        seen.append(y.min().item())
        return y

    r = zl.optimize.pso(fun, [[-2, 2]] * 4, n_particles=9, max_evals=9 * 30 + 4, seed=3,
                        topology=topology, backend="torch")
    assert r.history["best_fun"][-2] == -29.0
    np.testing.assert_array_equal(r.history["best_fun"], np.minimum.accumulate(seen))
