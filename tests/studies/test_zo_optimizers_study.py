"""ZO optimizers vs baselines (studies.zo_optimizers), the capstone task, and their panels."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

import zoo_lab as zl
from zoo_lab.studies import capstone as cp
from zoo_lab.studies import zo_optimizers as zs

LR = {"zo_sgd": 0.02, "zo_adam": 0.2, "zo_signsgd": 0.05}


def test_every_method_stays_within_the_budget_and_the_gap_never_rises():
    df = zs.zo_convergence("sphere", 4, max_evals=120, seeds=[0, 1], q=4, lr=LR)
    assert set(df["method"]) == set(zs.ZO_OPTIMIZERS + zs.ZO_BASELINES)
    for (_m, _s), g in df.groupby(["method", "seed"]):
        assert g["n_evals"].max() <= 120
        assert np.all(np.diff(g["gap"].to_numpy()) <= 0)
        assert g["gap"].min() >= 0
    # the sphere is easy: every method improves on its start
    start = zs.zo_problem("sphere", 4)
    f0 = float(start.fun(start.x0[None])[0])
    assert (df.groupby("method")["gap"].min() < f0).all()


def test_nelder_mead_and_zo_spend_the_budget_exactly():
    df = zs.zo_convergence("rosenbrock", 3, methods=("nelder_mead", "zo_adam"), max_evals=100, seeds=[0],
                           q=4, lr=LR)
    last = df.groupby("method")["n_evals"].max()
    assert last["nelder_mead"] == 100
    assert last["zo_adam"] == 1 + 5 * ((100 - 1) // 5)  # forward steps of q + 1 rows, one final row


def test_noise_reaches_the_optimizer_but_not_the_reported_gap():
    clean = zs.zo_convergence("sphere", 3, methods=("zo_adam",), max_evals=60, seeds=[0], q=2, lr=LR)
    noisy = zs.zo_convergence("sphere", 3, methods=("zo_adam",), max_evals=60, seeds=[0], q=2, lr=LR, noise=5.0)
    assert clean["gap"].iloc[0] == pytest.approx(noisy["gap"].iloc[0])  # same first batch, clean values
    assert not np.allclose(clean["gap"].to_numpy(), noisy["gap"].to_numpy())  # noise changed the path


def test_mu_schedule_changes_the_run_and_lr_schedule_too():
    kw = dict(methods=("zo_sgd",), max_evals=80, seeds=[0], q=3, lr=LR, mu=0.5)
    base = zs.zo_convergence("sphere", 3, **kw)["gap"].to_numpy()
    for name in ("mu_schedule", "lr_schedule"):
        other = zs.zo_convergence("sphere", 3, **kw, **{name: "inv_sqrt"})["gap"].to_numpy()
        assert not np.allclose(base, other), name


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="methods: got"):
        zs.zo_convergence("sphere", 2, methods=("bfgs",))
    with pytest.raises(ValueError, match="lr_schedule: got 'cosine'"):
        zs.zo_convergence("sphere", 2, lr_schedule="cosine")
    with pytest.raises(ValueError, match="max_evals: expected an int"):
        zs.zo_convergence("sphere", 2, max_evals=5)
    with pytest.raises(ValueError, match="noise: expected a finite number >= 0"):
        zs.zo_convergence("sphere", 2, noise=-1.0)
    with pytest.raises(ValueError, match="lr: expected a float > 0 for zo_sgd"):
        zs.zo_convergence("sphere", 2, methods=("zo_sgd",), lr={"zo_adam": 0.1})
    with pytest.raises(ValueError, match="name: got 'moon'"):
        zs.zo_problem("moon", 2)


def test_heat_problem_is_zero_at_the_true_conductivities():
    p = zs.zo_problem("heat", 3)
    assert p.fun(p.x_opt[None])[0] == pytest.approx(0.0, abs=1e-20)
    assert p.fun(p.x0[None])[0] > 1e-6


def test_summary_and_figure_from_a_run():
    df = zs.zo_convergence("sphere", 2, methods=("zo_adam", "cmaes"), max_evals=60, seeds=[0, 1], q=2, lr=LR)
    s = zs.zo_summary(df, at=[20, 60])
    assert set(s["max_evals"]) == {20, 60} and (s["seeds"] == 2).all()
    assert (s.set_index(["method", "max_evals"])["gap_median"].unstack().diff(axis=1)[60] <= 0).all()
    fig = zl.plots.zo_convergence_figure(df)
    assert isinstance(fig, go.Figure) and len(fig.data) == 6


def test_capstone_task_counts_runs_and_refuses_past_the_budget():
    t = cp.capstone_task(3, max_evals=10, noise=0.0, seed=1)
    y = t.run(t.bounds.mean(1)[None])
    assert y.shape == (1, t.observed.size) and t.runs_used == 1 and t.runs_left == 9
    with pytest.raises(cp.BudgetExhausted, match="budget: 10 more runs would exceed 10"):
        t.run(np.tile(t.bounds.mean(1), (10, 1)))
    with pytest.raises(ValueError, match="K: expected shape"):
        t.run(np.ones((2, 5)))
    np.testing.assert_allclose(t.run(t._k_true[None])[0], t.observed)  # noise 0: exact at the truth
    assert cp.capstone_score(t, t._k_true)["rel_error"] == 0.0


def test_capstone_baseline_spends_the_rest_and_beats_the_middle():
    t = cp.capstone_task(4, max_evals=64, noise=1e-3, seed=0)
    k = cp.capstone_baseline(t)
    assert t.runs_left == 0
    middle = cp.capstone_score(t, t.bounds.mean(1))["rel_error"]
    assert cp.capstone_score(t, k)["rel_error"] < middle
    with pytest.raises(ValueError, match="no runs left"):
        cp.capstone_baseline(t)


def test_capstone_reference_beats_the_baseline_on_most_fresh_rods():
    """Nelder-Mead from the middle: below 2 % on 9 of rods 0-9 (rod 6 stops at a wall of the box)."""
    ref = zl.teaching.solution("09.calibrate")
    good = beats = 0
    for seed in range(10):
        t1, t2 = cp.capstone_task(4, 200, 1e-3, seed), cp.capstone_task(4, 200, 1e-3, seed)
        mine, base = cp.capstone_score(t1, ref(t1)), cp.capstone_score(t2, cp.capstone_baseline(t2))
        assert mine["runs_used"] <= 200
        good += mine["rel_error"] < 0.02
        beats += mine["rel_error"] < base["rel_error"]
    assert good >= 9 and beats >= 9


def test_panels_update_their_figures():
    from zoo_lab.widgets import capstone as wc
    from zoo_lab.widgets import zo_optimizers as wz

    fig = go.Figure(wz._empty_figure())
    text = wz.update_zo_optimizer_figure(fig, "sphere", "zo_adam", 3, 2, 0.0, max_evals=40)
    assert "zo_adam" in text and len(fig.data[0].x) > 0
    fig = go.Figure(wc._empty_figure())
    text = wc.update_capstone_figure(fig, 2, 40, 1e-3)
    assert "noise floor" in text and all(len(tr.x) > 0 for tr in fig.data)
    with pytest.raises(ValueError, match="method: got"):
        wz.update_zo_optimizer_figure(fig, "sphere", "bfgs", 3, 2, 0.0)
