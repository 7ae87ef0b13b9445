"""Panels update traces by name (``trace_named``), so the order traces sit in never matters,
and log axes keep whole-decade ticks after new data is drawn."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from zoo_lab.plots._style import trace_named
from zoo_lab.plots.estimators import explorer_figure
from zoo_lab.widgets import guided as wg
from zoo_lab.widgets import zo_optimizers as wz
from zoo_lab.widgets.estimators import estimator_explorer_data, update_estimator_figure


def _reversed(fig: go.Figure) -> go.Figure:
    """The same figure with its traces in reverse order."""
    return go.Figure(data=list(fig.data)[::-1], layout=fig.layout)


def test_estimator_panel_updates_each_trace_by_name_whatever_the_order():
    mse, fd = estimator_explorer_data("gaussian", 6, 4, 1e-4, "forward", reps=20)
    fig = _reversed(explorer_figure(mse, fd, 4, 1e-4))
    update_estimator_figure(fig, "gaussian", 6, 2, 1e-3, "forward", reps=20)
    np.testing.assert_array_equal(trace_named(fig, "current q").x, [2])
    np.testing.assert_array_equal(trace_named(fig, "current μ").x, [1e-3])
    law = trace_named(fig, "linear-f law")
    np.testing.assert_allclose(law.y, (6 + 1) / np.asarray(law.x, float))  # Gaussian law (d+1)/q
    assert fig.layout.yaxis.dtick >= 1 and fig.layout.yaxis.exponentformat == "e"


def test_guided_panel_finds_its_lines_by_role_after_renaming():
    fig = _reversed(wg._empty_figure())
    wg.update_guided_figure(fig, "prior_guided", 2, 16, 2, max_evals=60)
    guided = trace_named(fig, "guided")
    assert guided.name == "prior_guided" and guided.meta == "guided" and len(guided.x) > 0
    plain = trace_named(fig, "plain gaussian")
    assert plain.name == "plain gaussian" and len(plain.x) > 0
    assert fig.data[-1] is plain  # the order was reversed and stayed so
    wg.update_guided_figure(fig, "guided_es", 2, 16, 2, max_evals=60)
    assert trace_named(fig, "guided").name == "guided_es"
    assert [t.name for t in fig.data].count("prior_guided") == 0


def test_zo_optimizer_panel_finds_its_lines_by_role_after_renaming():
    fig = _reversed(wz._empty_figure())
    wz.update_zo_optimizer_figure(fig, "sphere", "zo_sgd", 3, 2, 0.0, max_evals=40)
    wz.update_zo_optimizer_figure(fig, "sphere", "zo_adam", 3, 2, 0.0, max_evals=40)
    zo = trace_named(fig, "zo method")
    assert zo.name == "zo_adam" and len(zo.x) > 0 and len(trace_named(fig, "cmaes").x) > 0
    assert fig.layout.yaxis.exponentformat == "e" and fig.layout.xaxis.dtick >= 1


def test_an_unknown_trace_name_is_a_clear_error():
    with pytest.raises(ValueError, match="name: no trace 'nope'"):
        trace_named(wg._empty_figure(), "nope")
