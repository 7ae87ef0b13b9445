"""Optimizer-stability study, its COCO-style figures and the stability panel."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import zoo_lab as zl
from zoo_lab.studies import optimizer_stability as st

FAST = dict(proxy_options=dict(hidden=(16, 16), max_iter=30), n_test=256)
NUMERIC = ["f_true_at_x", "f_proxy_at_x", "error", "dist_to_opt", "proxy_gap", "n_evals",
           "proxy_test_rmse"]


@pytest.fixture(scope="module")
def small():
    return zl.studies.stability("rastrigin", 2, "lhs", 32, ["pso", "ga"], range(3), max_evals=240, **FAST)


def test_rows_columns_and_pairing(small):
    df = small
    for col in ["seed", "x", "f_true_at_x", "f_proxy_at_x", "dist_to_opt", "n_evals", "settings",
                "function", "dim", "scheme", "n_samples", "optimizer", "on", "basin_hit",
                "proxy_gap", "plateau", "sampling_seed", "init_seed", "proxy_test_rmse"]:
        assert col in df.columns, col
    assert len(df) == 2 * 2 * 3  # optimizers x {proxy, true} x seeds
    # paired: every (optimizer, seed) has one proxy and one true run
    assert (df.groupby(["optimizer", "seed"])["on"].apply(sorted) == pd.Series(
        [["proxy", "true"]] * 6, index=df.groupby(["optimizer", "seed"]).size().index)).all()
    assert (df["n_evals"] == 240).all()
    f = zl.functions.get("rastrigin", 2)
    X = np.stack(df["x"].to_numpy())
    assert np.all((X >= f.lower) & (X <= f.upper))
    np.testing.assert_allclose(df["f_true_at_x"], f(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(df["dist_to_opt"], np.linalg.norm(X - f.x_opt, axis=1))
    prox = df[df["on"] == "proxy"]
    np.testing.assert_allclose(prox["proxy_gap"], prox["f_proxy_at_x"] - prox["f_true_at_x"])
    assert df[df["on"] == "true"]["proxy_test_rmse"].isna().all()
    assert np.isfinite(prox["proxy_test_rmse"]).all()
    s = json.loads(df["settings"].iloc[0])
    assert s["max_evals"] == 240 and s["proxy"]["max_iter"] == 30


def test_true_runs_are_the_plain_optimizer_runs(small):
    """The paired true run of seed s is exactly zl.optimize.<opt> with the optimizer stream of s."""
    f = zl.functions.get("rastrigin", 2)
    row = small[(small["on"] == "true") & (small["optimizer"] == "pso") & (small["seed"] == 1)].iloc[0]
    res = zl.optimize.pso(f, f.bounds, n_particles=40, iters=10**9, max_evals=240,
                          seed=st._seed(1, "optimizer"))
    assert np.array_equal(res.x, row["x"])
    # the recorded best-so-far true error ends at the returned point's error
    assert row["history_error"][-1] == pytest.approx(row["error"])
    assert row["history_evals"][-1] == 240


def test_reproducible_and_executor_gives_the_same(small):
    with ThreadPoolExecutor(2) as ex:
        again = zl.studies.stability("rastrigin", 2, "lhs", 32, ["pso", "ga"], range(3), max_evals=240,
                                     executor=ex, **FAST)
    pd.testing.assert_frame_equal(small[NUMERIC], again[NUMERIC])


def test_seed_sources_are_independent_streams():
    assert len({st._seed(0, s) for s in ("sampling", "init", "optimizer", "test")}) == 4
    assert st._seed(3, "init") == st._seed(3, "init")


def test_factorial_mode_and_checkpoint(tmp_path, monkeypatch):
    kw = dict(max_evals=120, factorial=True, sampling_seeds=[0, 1], init_seeds=[0, 1],
              checkpoint=tmp_path, **FAST)
    df = zl.studies.stability("sphere", 2, "sobol", 16, "pso", [0, 1], **kw)
    prox = df[df["on"] == "proxy"]
    assert len(prox) == 8 and len(df[df["on"] == "true"]) == 2
    assert set(map(tuple, prox[["sampling_seed", "init_seed", "seed"]].to_numpy())) == {
        (a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)}
    assert len(list(tmp_path.glob("*.json"))) == 5  # 4 proxies + the true runs
    split = zl.studies.variance_split(prox)
    assert split["balanced"].all()
    assert split["share"].sum() == pytest.approx(1.0)

    def boom(*a, **k):
        raise AssertionError("a checkpointed task ran again")

    monkeypatch.setattr(st, "_run_optimizer", boom)
    resumed = zl.studies.stability("sphere", 2, "sobol", 16, "pso", [0, 1], **kw)
    pd.testing.assert_frame_equal(df[NUMERIC], resumed[NUMERIC])


def test_variance_split_recovers_known_effects():
    rows = [dict(a=i, b=j, c=k, v=3.0 * i + 1.0 * j) for i in range(2) for j in range(2) for k in range(3)]
    split = zl.studies.variance_split(pd.DataFrame(rows), value="v", sources=("a", "b", "c"))
    share = dict(zip(split["source"], split["share"], strict=True))
    # additive effects of sizes 3 and 1 on two balanced levels: shares 9/10 and 1/10
    assert share["a"] == pytest.approx(0.9) and share["b"] == pytest.approx(0.1)
    assert share["c"] == pytest.approx(0.0, abs=1e-12)
    assert share["interactions"] == pytest.approx(0.0, abs=1e-12)


def test_summary_and_history(small):
    s = zl.studies.summarize_stability(small)
    assert set(s["on"]) == {"proxy", "true"} and (s["runs"] == 3).all()
    assert {"error_median", "error_iqr", "dist_median", "basin_hit_rate", "gap_median"} <= set(s.columns)
    h = zl.studies.history_long(small)
    assert {"optimizer", "on", "seed", "n_evals", "error"} <= set(h.columns)
    fig = zl.plots.ecdf_runtime_figure(h, targets=(10.0, 1.0, 0.1))
    assert isinstance(fig, go.Figure) and len(fig.data) == 4


def test_stability_errors():
    with pytest.raises(ValueError, match="scheme"):
        zl.studies.stability("sphere", 2, "grid", 32, "pso", [0])
    with pytest.raises(ValueError, match="optimizer.*pso, ga"):
        zl.studies.stability("sphere", 2, "lhs", 32, "cmaes", [0])
    with pytest.raises(ValueError, match="max_evals"):
        zl.studies.stability("sphere", 2, "lhs", 32, "ga", [0], max_evals=30)
    with pytest.raises(ValueError, match="only used with factorial"):
        zl.studies.stability("sphere", 2, "lhs", 32, "pso", [0], init_seeds=[1])
    with pytest.raises(ValueError, match="seeds"):
        zl.studies.stability("sphere", 2, "lhs", 32, "pso", [])
    # a fractional seed is refused (it used to be truncated: 2.7 -> 2), naming the entry
    with pytest.raises(TypeError, match=r"seeds\[1\].*2\.7"):
        zl.studies.stability("sphere", 2, "lhs", 32, "pso", [0, 2.7])
    with pytest.raises(ValueError, match=r"seeds\[0\].*-1"):
        zl.studies.stability("sphere", 2, "lhs", 32, "pso", [-1])
    with pytest.raises(TypeError, match="init_seeds"):
        zl.studies.stability("sphere", 2, "lhs", 32, "pso", [0], factorial=True, init_seeds=[0.5])
    with pytest.raises(ValueError, match="name"):
        zl.studies.stability("nope", 2, "lhs", 32, "pso", [0])


def test_replication_tiny():
    df = zl.studies.replicate_2301_07102(scale=0.0064, functions_=("rastrigin",), dims=(2,),
                                        datasets=("sparse", "gaussian"), runs=2)
    prox = df[df["on"] == "proxy"]
    assert len(prox) == 4 and set(prox["dataset"]) == {"sparse", "gaussian"}
    assert (prox["n_evals"] == 100 * 20).all()
    assert (prox["sampling_seed"] == 0).all() and (prox["init_seed"] == 0).all()
    tab = zl.studies.replication_table(df)
    assert set(tab["paper_dist_mean"]) == {1.413, 1.070}
    assert np.isfinite(tab["dist_mean"]).all()
    with pytest.raises(ValueError, match="scale"):
        zl.studies.replicate_2301_07102(scale=2)
    # corrected design: independent runs (own data, init and optimizer seed), GA at equal budget
    cor = zl.studies.replicate_2301_07102(scale=0.0064, functions_=("ackley",), dims=(2,),
                                         datasets=("lhs",), runs=2, optimizers=("pso", "ga"),
                                         independent=True)
    prox = cor[cor["on"] == "proxy"]
    assert (prox["sampling_seed"] == prox["seed"]).all() and (prox["init_seed"] == prox["seed"]).all()
    assert set(prox["optimizer"]) == {"pso", "ga"} and (prox["n_evals"] == 2000).all()
    tab = zl.studies.replication_table(cor)
    assert tab["paper_dist_mean"].isna().all()  # the paper has no LHS and no GA numbers


def test_stability_grid_matches_single_settings():
    grid = zl.studies.stability_grid(["sphere"], [2], ["lhs", "sobol"], 16, "pso", [0], max_evals=120, **FAST)
    one = zl.studies.stability("sphere", 2, "sobol", 16, "pso", [0], max_evals=120, **FAST)
    sub = grid[grid["scheme"] == "sobol"].reset_index(drop=True)
    pd.testing.assert_frame_equal(sub[NUMERIC], one[NUMERIC])
    assert set(grid["scheme"]) == {"lhs", "sobol"}


def test_paper_table():
    t = zl.studies.PAPER_2301_07102
    row = t[(t["function"] == "ackley") & (t["dim"] == 10)].iloc[0]
    assert (row["dense"], row["sparse"], row["gaussian"]) == (0.643, 1.188, 0.300)
    assert not ((t["function"] == "rastrigin") & (t["dim"] == 10)).any()


# ----------------------------------------------------------------------------- plots


def test_ecdf_error_figure():
    df = pd.DataFrame(dict(error=[1e-3, 1e-1, 1.0, 0.0], optimizer="pso", on=["true"] * 2 + ["proxy"] * 2))
    fig = zl.plots.ecdf_error_figure(df)
    assert len(fig.data) == 2
    for tr in fig.data:
        assert tr.y[0] == 0 and tr.y[-1] == 1 and np.all(np.diff(tr.x) >= 0)
    assert min(fig.data[0].x) == 1e-12  # the zero error drawn at the floor
    with pytest.raises(ValueError, match="missing columns"):
        zl.plots.ecdf_error_figure(df.drop(columns="on"))


def test_evals_to_targets_and_runtime_ecdf():
    out = zl.plots.evals_to_targets([10, 20, 30], [5.0, 0.5, 0.7], [1.0, 0.1])
    assert out[0] == 20 and np.isinf(out[1])
    h = pd.DataFrame(dict(n_evals=[10, 20, 10, 20], error=[0.5, 0.05, 2.0, 2.0], seed=[0, 0, 1, 1],
                          optimizer="pso", on="true"))
    fig = zl.plots.ecdf_runtime_figure(h, targets=(1.0, 0.1))
    tr = fig.data[0]
    # 4 (run, target) pairs; run 0 reaches 1.0 at 10 and 0.1 at 20; run 1 never
    assert list(tr.x) == [10, 10, 20, 20] and list(tr.y) == [0.0, 0.25, 0.5, 0.5]


def test_paths_and_variance_figures():
    f = zl.functions.get("rastrigin", 2)
    r = zl.optimize.pso(f, f.bounds, n_particles=6, iters=5, seed=0, record_trajectory=True)
    fig = zl.plots.paths_figure(f, f, r.trajectory, r.trajectory, f.bounds, x_opt=f.x_opt,
                                found=(r.x, r.x), n_grid=20)
    contours = [t for t in fig.data if isinstance(t, go.Contour)]
    assert len(contours) == 2
    with pytest.raises(ValueError, match="2-D"):
        g = zl.functions.get("sphere", 3)
        zl.plots.paths_figure(g, g, r.trajectory, r.trajectory, g.bounds)
    with pytest.raises(ValueError, match="traj_true"):
        zl.plots.paths_figure(f, f, r.trajectory[0], r.trajectory, f.bounds)
    split = pd.DataFrame(dict(source=["sampling_seed", "init_seed"], share=[0.7, 0.3]))
    assert len(zl.plots.variance_split_figure(split).data) == 2


# ----------------------------------------------------------------------------- panel

PANEL_FAST = dict(max_evals=200, n_grid=12, proxy_options=dict(hidden=(8,), max_iter=20))


def test_update_stability_figure_in_place():
    from zoo_lab.widgets.stability import _empty_figure

    fig = _empty_figure()
    ids = [id(t) for t in fig.data]
    text = zl.widgets.update_stability_figure(fig, "rastrigin", 2, 32, "lhs", "pso", seed=1, **PANEL_FAST)
    assert [id(t) for t in fig.data] == ids  # same traces, new data
    assert "proxy test NRMSE" in text and "true run" in text
    named = zl.plots._style.trace_named
    true_z, proxy_z = (np.asarray(named(fig, "landscape", ax).z, dtype=float) for ax in ("x", "x2"))
    assert true_z.shape == proxy_z.shape == (12, 12) and not np.allclose(true_z, proxy_z)
    f = zl.functions.get("rastrigin", 2)
    assert tuple(named(fig, "x* (true)", "x").x) == (0.0,) and tuple(fig.layout.xaxis.range) == tuple(f.bounds[0])
    left = named(fig, "landscape", "x")  # plotly's z[i, j] sits at (x[j], y[i])
    gx, gy = np.meshgrid(np.asarray(left.x, dtype=float), np.asarray(left.y, dtype=float))
    np.testing.assert_allclose(true_z, f(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape))
    # 4-D: a slice through x*, the title says so
    zl.widgets.update_stability_figure(fig, "styblinski_tang", 4, 32, "sobol", "ga", **PANEL_FAST)
    assert "slice through x*" in fig.layout.title.text
    with pytest.raises(ValueError, match="function"):
        zl.widgets.update_stability_figure(fig, "griewank", 2, 32, "lhs", "pso")


def test_stability_explorer_panel(monkeypatch):
    from zoo_lab.widgets import stability as wmod

    monkeypatch.setattr(wmod, "_PANEL_PROXY", dict(hidden=(8,), max_iter=20))
    panel = zl.widgets.stability_explorer(n_samples=32, max_evals=500)
    assert set(panel.controls) == {"function", "dim", "n_samples", "scheme", "optimizer", "seed", "max_evals"}
    for name in ("dim", "seed", "max_evals"):
        assert panel.controls[name].continuous_update is False
    assert "true run" in panel.status.value
    panel.controls["optimizer"].value = "ga"
    assert "GA on rastrigin" in panel.figure.layout.title.text
    # every optimizer the panel offers can be drawn (IPOP CMA-ES records no paths: not offered)
    for opt in panel.controls["optimizer"].options:
        panel.controls["optimizer"].value = opt
        assert "true run" in panel.status.value and "color:#b00" not in panel.status.value
        assert f"{opt.upper()} on rastrigin" in panel.figure.layout.title.text
    with pytest.raises(ValueError, match="optimizer"):
        zl.widgets.stability_explorer(optimizer="ipop_cmaes")
    with pytest.raises(ValueError, match="scheme"):
        zl.widgets.stability_explorer(scheme="gaussian")


def test_panel_refits_the_proxy_only_when_its_setting_changes(monkeypatch):
    from zoo_lab.surrogate import proxy as proxy_mod
    from zoo_lab.widgets import stability as wmod

    monkeypatch.setattr(wmod, "_PANEL_PROXY", dict(hidden=(8,), max_iter=20))
    fits = []
    real_fit = proxy_mod.fit
    monkeypatch.setattr(proxy_mod, "fit", lambda *a, **k: fits.append(1) or real_fit(*a, **k))
    panel = zl.widgets.stability_explorer(n_samples=32, max_evals=500)
    assert len(fits) == 1
    panel.controls["optimizer"].value = "ga"
    panel.controls["max_evals"].value = 1000
    assert len(fits) == 1 and "GA on rastrigin" in panel.figure.layout.title.text
    panel.controls["seed"].value = 3
    assert len(fits) == 2


def test_ipop_cmaes_baseline_runs_beside_pso_on_the_same_proxies():
    df = zl.studies.stability("rastrigin", 2, "lhs", 32, ["pso", "ipop_cmaes"], range(2), max_evals=240, **FAST)
    assert set(df["optimizer"]) == {"pso", "ipop_cmaes"} and (df["n_evals"] == 240).all()
    prox = df[df["on"] == "proxy"].sort_values(["optimizer", "seed"])
    # paired: for each seed both optimizers saw the same proxy (same held-out error)
    rm = prox.pivot(index="seed", columns="optimizer", values="proxy_test_rmse")
    np.testing.assert_array_equal(rm["pso"], rm["ipop_cmaes"])
    f = zl.functions.get("rastrigin", 2)
    X = np.stack(df[df["optimizer"] == "ipop_cmaes"]["x"].to_numpy())
    np.testing.assert_allclose(df[df["optimizer"] == "ipop_cmaes"]["f_true_at_x"], f(X), rtol=0, atol=1e-12)


def test_stability_case_refuses_ipop_cmaes():
    # the case view draws trajectories, which the pycma adapter does not record
    with pytest.raises(ValueError, match="optimizer.*ipop_cmaes.*pso, ga"):
        zl.studies.optimizer_stability.stability_case("sphere", 2, "lhs", optimizer="ipop_cmaes")
