"""zoo_lab.studies.proxy_grid: tidy rows, executor independence, errors; the proxy plots and panel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import plotly.graph_objects as go
import pytest

import zoo_lab as zl

GRID = dict(functions=["styblinski_tang"], dims=[2], schemes=["sobol", "uniform"],
            n_samples=[16, 32], seeds=[0, 1], max_iter=15, n_test=256, n_starts=1,
            progress=False)


@pytest.fixture(scope="module")
def serial():
    return zl.studies.proxy_grid(**GRID)


def test_one_row_per_fit_with_settings_and_metrics(serial):
    assert len(serial) == 8
    for col in ("function", "dim", "scheme", "n", "seed", "optimizer", "discrepancy", "rmse",
                "r2", "rmse_near", "spearman_pop", "argmin_dist", "regret", "fit_time"):
        assert col in serial.columns
    assert serial["fit_time"].gt(0).all()
    assert list(serial["n"]) == [16, 16, 32, 32, 16, 16, 32, 32]


def test_thread_pool_equals_serial(serial):
    with ThreadPoolExecutor(max_workers=2) as ex:
        par = zl.studies.proxy_grid(executor=ex, **GRID)
    cols = [c for c in serial.columns if c not in zl.studies.TIMING_COLUMNS]
    assert par[cols].equals(serial[cols])


def test_grid_errors():
    with pytest.raises(ValueError, match="schemes: got 'grid'"):
        zl.studies.proxy_grid(schemes=["grid"], progress=False)
    with pytest.raises(ValueError, match="optimizer: got 'sgd'"):
        zl.studies.proxy_grid(optimizer="sgd", progress=False)
    with pytest.raises(ValueError, match="name: unknown function"):
        zl.studies.proxy_grid(functions=["nope"], progress=False)
    with pytest.raises(ValueError, match="seeds: expected a non-empty list"):
        zl.studies.proxy_grid(seeds=[], progress=False)


def test_rank_correlation_and_figures(serial):
    rc = zl.studies.rank_correlation(serial, by=("function", "dim"))
    assert rc["rho"].between(-1, 1).all() and rc.iloc[-1]["function"] == "pooled"
    for fig in (zl.plots.error_vs_n_figure(serial), zl.plots.discrepancy_error_figure(serial),
                zl.plots.argmin_figure(serial)):
        assert isinstance(fig, go.Figure) and fig.data
    with pytest.raises(ValueError, match="missing columns"):
        zl.plots.error_vs_n_figure(serial.drop(columns="rmse"))


def test_landscape_and_curves():
    f = zl.functions.get("sphere", 3)
    X = zl.sampling.sample("sobol", 32, f.bounds, seed=0)
    p = zl.proxy.fit(X, f(X), bounds=f.bounds, max_iter=10, seed=0)
    fig = zl.plots.landscape_figure(f, p, X, resolution=10)
    assert fig.data[0].z.shape == (10, 10)
    x, y, zt, zp = zl.plots.landscape_grid(f, f, resolution=5)
    np.testing.assert_allclose(zt, zp)
    curves = zl.plots.optimizer_curves_figure({"lbfgs/0": p.history, "lbfgs/1": p.history}, y="loss")
    assert len(curves.data) == 4
    with pytest.raises(ValueError, match="axes"):
        zl.plots.landscape_grid(f, p, axes=(0, 0))


def test_update_function_redraws_in_place():
    fig = go.FigureWidget(zl.plots.landscape_figure(zl.functions.get("sphere", 2),
                                                    lambda P: P[:, 0] * 0.0, resolution=2))
    text = zl.widgets.update_proxy_figure(fig, "sphere", 3, 32, "lhs", "lbfgs", seed=0,
                                          resolution=12, fit_options=dict(max_iter=20))
    assert "R²" in text and "3D" in fig.layout.title.text
    assert np.asarray(fig.data[0].z).shape == (12, 12) and len(fig.data[3].x) == 32
    with pytest.raises(ValueError, match="function: got 'nope'"):
        zl.widgets.update_proxy_figure(fig, "nope", 2, 32, "lhs", "lbfgs")


def test_panel_controls():
    box = zl.widgets.proxy_explorer(function="sphere", n=32)
    assert set(box.controls) == {"function", "dim", "n", "scheme", "optimizer", "seed"}
    assert box.controls["dim"].continuous_update is False
    assert "RMSE" in box.status.value
