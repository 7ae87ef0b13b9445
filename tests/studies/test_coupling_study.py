"""The coupling study and panel: training through the heat solver, VJP cosine, panel controls."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import zoo_lab as zl
from zoo_lab.problems import heat

ROD = heat.HeatRod(n_cells=16, n_steps=20, t_final=0.5, n_snapshots=2)


def test_flat_params_round_trip():
    net = zl.studies.InverseNet(4, ROD.bounds, hidden=5, seed=0)
    theta = zl.studies.flat_params(net)
    zl.studies.set_flat_params(net, theta * 2)
    np.testing.assert_array_equal(zl.studies.flat_params(net), theta * 2)


def test_inverse_net_stays_in_bounds_and_is_seeded():
    a = zl.studies.InverseNet(8, ROD.bounds, seed=3)
    b = zl.studies.InverseNet(8, ROD.bounds, seed=3)
    s = torch.randn(50, 8, dtype=torch.float64) * 100
    k = a(s)
    assert torch.equal(k, b(s))
    assert torch.all(k >= ROD.k_bounds[0]) and torch.all(k <= ROD.k_bounds[1])


@pytest.mark.parametrize("method", zl.studies.METHODS)
def test_each_method_lowers_the_loss_and_counts_queries(method):
    run = zl.studies.train_inverse_heat(method, n_train=8, steps=30, q=4, rod=ROD, seed=0)
    h = run.history
    assert h.loss.iloc[-1] < 0.5 * h.loss.iloc[0]
    per_step = {"first_order": 8, "hybrid_zo": 8 * 5, "full_zo": 8 * 5}[method]
    assert h.queries.iloc[-1] == per_step * 31


def test_hybrid_matches_first_order_gradient_with_exact_estimator():
    """With coordinate-central ZO the hybrid gradient equals the twin's to O(mu^2)."""
    net = zl.studies.InverseNet(ROD.out_dim, ROD.bounds, hidden=6, seed=1)
    _, S = zl.studies.heat_data(5, ROD, seed=0)
    s = torch.as_tensor(S)
    box = zl.BlackBox(ROD, ROD.in_dim, ROD.out_dim,
                      estimator=zl.estimators.make("coordinate", mu=1e-5, difference="central"))
    grads = []
    for forward in (box, lambda k: heat.torch_twin(k, ROD)):
        net.zero_grad()
        ((forward(net(s)) - s) ** 2).mean().backward()
        grads.append(torch.cat([p.grad.reshape(-1) for p in net.parameters()]))
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-5, atol=1e-9)


def test_vjp_cosine_grows_with_q():
    K, S = zl.studies.heat_data(4, ROD, seed=0)
    V = np.random.default_rng(0).standard_normal(S.shape)
    df = zl.studies.vjp_cosine(ROD, lambda k: heat.torch_twin(k, ROD), K, V, qs=(1, 32), seeds=range(8))
    med = df.groupby("q").cosine.median()
    assert med[32] > 0.85 > med[1]
    assert set(df.queries) == {4 * 1, 4 * 32}


def test_unknown_method():
    with pytest.raises(ValueError, match="method: got 'sgd'; allowed: first_order, hybrid_zo, full_zo"):
        zl.studies.train_inverse_heat("sgd")


@pytest.mark.parametrize(("control", "value"), [("estimator", "sphere"), ("q", 30), ("mu", 1e-2),
                                                ("difference", "central"), ("rows", 3), ("seed", 4)])
def test_coupling_panel_every_control_updates(control, value):
    panel = zl.widgets.coupling_explorer(rows=4)
    before = np.array(panel.figure.data[1].y, dtype=float).copy()
    panel.controls[control].value = value
    after = np.array(panel.figure.data[1].y, dtype=float)
    assert after.shape != before.shape or not np.allclose(after, before)
    assert "cosine to the reference VJP" in panel.status.value


def test_coupling_panel_caps_q_for_coordinate():
    panel = zl.widgets.coupling_explorer(rows=2, q=20)
    panel.controls["estimator"].value = "coordinate"
    assert "capped at d = 4" in panel.status.value
    cos = float(panel.status.value.split("<b>")[1].split("</b>")[0])
    assert cos > 0.999


def test_panel_reference_matches_torch_twin():
    from zoo_lab.widgets import coupling as C

    rng = np.random.default_rng(0)
    Z = rng.uniform(0.3, 1.8, size=(3, 4))
    V = rng.standard_normal((3, C._ROD.out_dim))
    twin = torch.autograd.functional.vjp(lambda k: heat.torch_twin(k, C._ROD), torch.as_tensor(Z),
                                         torch.as_tensor(V))[1].numpy()
    np.testing.assert_allclose(C._reference_vjp(Z, V), twin, rtol=1e-6, atol=1e-9)
