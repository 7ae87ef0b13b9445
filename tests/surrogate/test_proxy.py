"""zoo_lab.surrogate.proxy: learning a smooth function, determinism, metrics, save/load, every error path."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import zoo_lab as zl
from zoo_lab.surrogate import proxy as P


def _smooth(X):
    """A smooth 3-D function with curvature in every direction and an interaction term."""
    return np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 + X[:, 0] * X[:, 2]


BOUNDS3 = np.array([[-2.0, 2.0]] * 3)


@pytest.fixture(scope="module")
def smooth_fit():
    X = zl.sampling.sample("sobol", 256, BOUNDS3, seed=0)
    return X, P.fit(X, _smooth(X), bounds=BOUNDS3, optimizer="lbfgs", max_iter=300, seed=0)


def test_lbfgs_learns_smooth_3d_function(smooth_fit):
    _, p = smooth_fit
    Xt = zl.sampling.sample("uniform", 2000, BOUNDS3, seed=1)
    yt = _smooth(Xt)
    r2 = 1 - np.sum((p(Xt) - yt) ** 2) / np.sum((yt - yt.mean()) ** 2)
    assert r2 >= 0.99
    h = p.history.to_frame()
    assert list(h.columns[:5]) == ["phase", "step", "passes", "time", "loss"]
    assert h["loss"].iloc[-1] < h["loss"].iloc[0] and h["time"].is_monotonic_increasing


def test_numpy_and_torch_io_and_gradient(smooth_fit):
    X, p = smooth_fit
    out = p(X[:5])
    assert isinstance(out, np.ndarray) and out.shape == (5,)
    assert np.ndim(p(X[0])) == 0
    xt = torch.tensor(X[:5], dtype=torch.float64, requires_grad=True)
    yt = p(xt)
    assert isinstance(yt, torch.Tensor) and yt.dtype == torch.float64
    np.testing.assert_allclose(yt.detach().numpy(), out, rtol=1e-6)
    yt.sum().backward()
    # the gradient of the fitted proxy approximates the true gradient of the smooth function
    x = X[:5]
    true_grad = np.stack([np.cos(x[:, 0]) + x[:, 2], x[:, 1], x[:, 0]], axis=1)
    assert np.abs(xt.grad.numpy() - true_grad).mean() < 0.1


@pytest.mark.parametrize("optimizer", P.OPTIMIZERS)
def test_same_seed_bit_identical(optimizer):
    X = zl.sampling.sample("lhs", 40, BOUNDS3, seed=3)
    y = _smooth(X)
    kw = dict(bounds=BOUNDS3, optimizer=optimizer, max_iter=20, epochs=5, seed=7)
    state_before = torch.random.get_rng_state()
    a, b = P.fit(X, y, **kw), P.fit(X, y, **kw)
    assert torch.equal(state_before, torch.random.get_rng_state())  # no global RNG side effect
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)
    c = P.fit(X, y, **{**kw, "seed": 8})
    assert not torch.equal(a.net[0].weight, c.net[0].weight)


def test_metrics_match_hand_computation_on_toy():
    f = zl.functions.get("sphere", 2)

    def toy(X):  # the true function shifted by 1 on the right half: known errors
        X = np.asarray(X, dtype=float)
        return f(X) + (X[:, 0] > 0)

    m = P.evaluate(toy, f, n_test=500, seed=3, radius=0.1, n_starts=2)
    X = zl.sampling.sample("uniform", 500, f.bounds, seed=np.random.default_rng(3))
    y, err = f(X), (X[:, 0] > 0).astype(float)
    assert m["rmse"] == pytest.approx(math.sqrt(err.mean()))
    assert m["mae"] == pytest.approx(err.mean())
    assert m["max_error"] == pytest.approx(1.0)
    assert m["r2"] == pytest.approx(1 - err.sum() / np.sum((y - y.mean()) ** 2))
    assert m["nrmse"] == pytest.approx(math.sqrt(err.mean()) / y.std())
    # the minimiser of the toy is x* on the left half (x1 <= 0): distance and regret ~ 0
    assert m["argmin_dist"] < 1e-3 and m["regret"] < 1e-6
    exact = P.evaluate(f, f, n_test=100, seed=0, n_starts=1)
    assert exact["rmse"] == 0 and exact["r2"] == 1 and exact["spearman"] == pytest.approx(1.0)
    assert exact["spearman_pop"] == pytest.approx(1.0) and exact["rmse_near"] == 0


def test_save_load_round_trip(tmp_path, smooth_fit):
    X, p = smooth_fit
    P.save(p, tmp_path / "px")
    q = P.load(tmp_path / "px")
    assert np.array_equal(p(X), q(X))
    assert q.settings == p.settings
    assert q.history.to_frame().equals(p.history.to_frame())


def test_load_rejects_foreign_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="lacks"):
        P.load(tmp_path)
    (tmp_path / "settings.json").write_text('{"format": "other"}')
    (tmp_path / "weights.pt").write_bytes(b"")
    with pytest.raises(ValueError, match="not a zoo_lab proxy"):
        P.load(tmp_path)


X8 = np.random.default_rng(0).random((20, 2))


@pytest.mark.parametrize("kwargs, y, exc, match", [
    (dict(), np.zeros(19), ValueError, r"y: expected shape \(20,\)"),
    (dict(), np.zeros((20, 2)), ValueError, "y: expected shape"),
    (dict(), np.r_[np.nan, np.zeros(19)], ValueError, "y: 1 row.*NaN or inf.*row 0"),
    (dict(), np.r_[np.zeros(19), np.inf], ValueError, "NaN or inf, first at row 19"),
    (dict(optimizer="sgd"), np.zeros(20), ValueError, "optimizer: got 'sgd'; allowed: lbfgs"),
    (dict(activation="swish"), np.zeros(20), ValueError, "activation: got 'swish'; allowed"),
    (dict(optimizer="adam", val_fraction=0.05), np.zeros(20), ValueError, "too few.*need n >= 40"),
    (dict(val_fraction=1.0), np.zeros(20), ValueError, r"val_fraction: expected a finite number in \[0, 1\)"),
    (dict(max_iter=0), np.zeros(20), ValueError, "max_iter: expected an int >= 1, got 0"),
    (dict(hidden=()), np.zeros(20), ValueError, "hidden: expected one or more widths"),
    (dict(bounds=[[0, 1]]), np.zeros(20), ValueError, r"bounds: expected shape \(2, 2\)"),
    (dict(dtype="float16"), np.zeros(20), ValueError, "dtype: got 'float16'"),
    (dict(lr=-1.0), np.zeros(20), ValueError, "lr: expected a finite number > 0"),
    (dict(seed=-1), np.zeros(20), ValueError, "seed: expected an int >= 0"),
])
def test_fit_error_paths(kwargs, y, exc, match):
    with pytest.raises(exc, match=match):
        P.fit(X8, y, **kwargs)


def test_too_few_samples_and_bad_x():
    with pytest.raises(ValueError, match="n=3 samples are too few"):
        P.fit(X8[:3], np.zeros(3))
    with pytest.raises(ValueError, match=r"X: expected shape \(n, d\)"):
        P.fit(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="X: 1 row"):
        P.fit(np.r_[X8[:19], [[np.inf, 0]]], np.zeros(20))


def test_call_shape_error_and_evaluate_args(smooth_fit):
    _, p = smooth_fit
    with pytest.raises(ValueError, match=r"x: expected shape \(n, 3\)"):
        p(np.zeros((4, 2)))
    f = zl.functions.get("sphere", 3)
    with pytest.raises(ValueError, match="radius"):
        P.evaluate(p, f, radius=0)
    with pytest.raises(ValueError, match="n_test"):
        P.evaluate(p, f, n_test=1)


def test_default_bounds_from_data_and_adam_history():
    X = zl.sampling.sample("sobol", 64, BOUNDS3, seed=0) * 0.5
    p = P.fit(X, _smooth(X), optimizer="adam_then_lbfgs", epochs=20, max_iter=20, seed=0,
              monitor=(X[:10], _smooth(X[:10])))
    np.testing.assert_allclose(p.bounds, np.stack([X.min(0), X.max(0)], axis=1))
    h = p.history.to_frame()
    assert set(h["phase"]) == {"adam", "lbfgs"}
    assert h["passes"].is_monotonic_increasing and h["monitor_rmse"].notna().all()
    assert h["val_loss"].notna().all()  # val_fraction defaults to 0.2 with Adam
