"""The sampling panel and figures: every control changes the figure; errors reach the learner."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

import zoo_lab as zl


def test_design_figure_draws_points_and_projections():
    X = zl.sampling.sample("lhs", 10, [[0, 1], [0, 1], [0, 1]], seed=0)
    fig = zl.plots.design_figure(X, [[0, 1]] * 3, axes=(2, 0), grid=10)
    assert isinstance(fig, go.Figure)
    np.testing.assert_array_equal(fig.data[0].x, X[:, 2])
    np.testing.assert_array_equal(fig.data[0].y, X[:, 0])
    assert len(fig.layout.shapes) == 2 * 9
    with pytest.raises(ValueError, match="axes: need two distinct"):
        zl.plots.design_figure(X, [[0, 1]] * 3, axes=(1, 1))


def test_discrepancy_figure_needs_columns():
    with pytest.raises(ValueError, match="missing columns"):
        import pandas as pd

        zl.plots.discrepancy_figure(pd.DataFrame({"n": [1]}))


def _points(panel):
    return np.column_stack([panel.figure.data[0].x, panel.figure.data[0].y])


@pytest.mark.parametrize(
    ("control", "value"),
    [("scheme", "uniform"), ("dim", 6), ("n", 256), ("seed", 7), ("x_axis", 1), ("y_axis", 0)],
)
def test_every_control_changes_the_figure(control, value):
    panel = zl.widgets.sampling_explorer(scheme="lhs", dim=3, n=64)
    before = _points(panel).copy()
    panel.controls[control].value = value
    after = _points(panel)
    assert after.shape != before.shape or not np.array_equal(after, before)
    assert "discrepancy" in panel.status.value


def test_grid_toggle_and_in_place_update():
    panel = zl.widgets.sampling_explorer(scheme="lhs", dim=2, n=16)
    fig = panel.figure
    panel.controls["grid"].value = True
    strata = zl.plots._style.trace_named(fig, "strata")
    xs = [v for v in strata.x if v is not None]
    assert panel.figure is fig and len(xs) == 4 * 15  # 15 vertical + 15 horizontal segments
    assert sorted({round(v, 9) for v in xs if 0 < v < 1}) == [round(k / 16, 9) for k in range(1, 16)]
    panel.controls["n"].value = 1024  # too fine to show: no wash of lines, and the panel says so
    assert len(strata.x) == 0 and "strata drawn for n ≤ 128 only" in panel.status.value


def test_axis_controls_reuse_the_design_and_are_numbered_from_one():
    panel = zl.widgets.sampling_explorer(scheme="lhs", dim=4, n=64)
    assert [label for label, _ in panel.controls["x_axis"].options] == ["x1", "x2", "x3", "x4"]
    calls = []
    orig = zl.sampling.sample

    def counting(*a, **k):
        calls.append(a)
        return orig(*a, **k)

    zl.sampling.sample = counting
    try:
        panel.controls["x_axis"].value = 3
        panel.controls["grid"].value = True
    finally:
        zl.sampling.sample = orig
    assert calls == []  # display controls never resample
    assert panel.figure.layout.xaxis.title.text == "x4"


def test_dimension_drop_keeps_axes_valid():
    panel = zl.widgets.sampling_explorer(scheme="sobol", dim=6, n=64)
    panel.controls["x_axis"].value = 5
    panel.controls["dim"].value = 2
    assert panel.controls["x_axis"].value in (0, 1)
    assert "discrepancy" in panel.status.value


def test_sobol_rounding_is_reported():
    panel = zl.widgets.sampling_explorer(scheme="sobol", dim=2, n=100)
    assert len(panel.figure.data[0].x) == 128
    assert "rounded up from 100" in panel.status.value


def test_update_function_directly_and_errors():
    fig = go.FigureWidget(zl.plots.design_figure(np.random.default_rng(0).random((8, 2)), [[0, 1]] * 2))
    text = zl.widgets.update_sampling_figure(fig, "halton", 3, 32, 0, x_axis=0, y_axis=2)
    assert len(fig.data[0].x) == 32 and "discrepancy" in text
    with pytest.raises(ValueError, match="x_axis, y_axis"):
        zl.widgets.update_sampling_figure(fig, "halton", 3, 32, 0, x_axis=0, y_axis=3)
    with pytest.raises(ValueError, match="scheme: unknown"):
        zl.widgets.sampling_explorer(scheme="grid")
