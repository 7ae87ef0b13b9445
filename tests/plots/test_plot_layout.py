"""Figures fit the notebook column: width <= 950 px or autosize, facets wrap, legends below,
whole-decade log labels, one colour bar per map; tables rounded to 3 significant figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import zoo_lab as zl
from zoo_lab.plots._style import MAX_WIDTH, facet_grid, label, major_log_ticks


def _band_frame(n_facets: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [dict(dim=d, scheme=s, n=n, seed=k, discrepancy=float(rng.uniform(1e-4, 1e-1)))
            for d in range(2, 2 + n_facets) for s in ("lhs", "sobol") for n in (16, 64, 256, 1024)
            for k in range(3)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("n_facets", [1, 3, 5, 7])
def test_facets_wrap_to_rows_and_the_figure_fits(n_facets):
    fig = zl.plots.discrepancy_figure(_band_frame(n_facets))
    rows, cols = facet_grid(n_facets)
    assert cols <= 3 and rows * cols >= n_facets and (rows - 1) * cols < n_facets
    assert fig.layout.width is None or fig.layout.width <= MAX_WIDTH
    y_domains = {tuple(fig.layout[k].domain) for k in fig.layout if k.startswith("yaxis")}
    assert len(y_domains) == rows  # one band of y domains per row of facets
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.y < 0  # legend below
    x_titles = [fig.layout[k].title.text for k in fig.layout if k.startswith("xaxis")]
    assert x_titles.count("samples n") == min(cols, n_facets)  # readable, under each column
    assert fig.layout.yaxis.title.text == "centered L2 discrepancy"
    assert fig.layout.annotations[0].text == "d = 2"


def test_log_axes_get_whole_decade_labels_scaled_to_the_span():
    fig = zl.plots.discrepancy_figure(_band_frame(1))
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis.dtick == 1
    assert fig.layout.xaxis.exponentformat == "e" and not fig.layout.xaxis.tickformat
    import plotly.graph_objects as go

    wide = go.Figure(go.Scatter(x=[1e-12, 1.0], y=[1, 2]))
    wide.update_xaxes(type="log")
    major_log_ticks(wide)
    assert wide.layout.xaxis.dtick == 2  # 12 decades: every other one, about six labels


def test_landscape_has_one_colour_bar_per_map_beside_its_own_subplot():
    f = zl.functions.get("sphere", 2)
    fig = zl.plots.landscape_figure(f, f, resolution=8)
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 3 and all(t.showscale is not False for t in heat)
    domains = [fig.layout[k].domain for k in ("xaxis", "xaxis2", "xaxis3")]
    for k, t in enumerate(heat):
        assert domains[k][1] <= t.colorbar.x  # right of its own map
        if k < 2:
            assert t.colorbar.x < domains[k + 1][0]  # and left of the next one
    assert fig.layout.width is None  # autosizes to the column


@pytest.mark.parametrize("factory", ["sampling_explorer", "coupling_explorer", "estimator_explorer"])
def test_panel_figures_fit_the_column(factory):
    panel = getattr(zl.widgets, factory)()
    w = panel.figure.layout.width
    assert w is None or w <= MAX_WIDTH


def test_round_table_keeps_chosen_columns_at_three_significant_figures():
    df = pd.DataFrame({"n": [64, 256], "rmse": [0.0123456, 12345.678], "scheme": ["lhs", "sobol"],
                       "fit_time": [1.23456, np.nan]})
    table = zl.plots.round_table(df, ["scheme", "n", "rmse", "fit_time"])
    out = table.data
    assert list(out.columns) == ["sampling scheme", "samples n", "test RMSE", "fit time (s)"]
    assert out["test RMSE"].tolist() == [0.0123, 12300.0]
    assert out["samples n"].dtype.kind == "i" and np.isnan(out["fit time (s)"].iloc[1])
    # shown with three figures each, not padded to the column's widest (12300.0000)
    html = table.to_html()
    for shown in (">0.0123<", ">12300<", ">1.23<", ">64<"):
        assert shown in html
    assert "12300.0" not in html and "0.012300" not in html
    with pytest.raises(ValueError, match="columns: \\['nope'\\] not in the frame"):
        zl.plots.round_table(df, ["nope"])
    with pytest.raises(ValueError, match="digits: expected an int >= 1, got 0"):
        zl.plots.round_table(df, digits=0)
    with pytest.raises(ValueError, match="same readable name twice"):
        zl.plots.round_table(df.assign(samples_n=1).rename(columns={"samples_n": "n_samples", "n": "dim",
                                                                    "scheme": "d"}), ["dim", "d"])
    assert label("some_col") == "some col"


def test_round_table_labels_the_index_and_rounds_a_float_index():
    df = pd.DataFrame({"mu": [1e-4, 0.0123456], "rel_mse": [3.14159, 2.0]}).set_index("mu")
    table = zl.plots.round_table(df)
    assert table.data.index.name == "step μ" and list(table.data.columns) == ["relative MSE"]
    html = table.to_html()
    assert ">1.00e-04<" in html and ">0.0123<" in html and ">3.14<" in html and ">2.00<" in html


@pytest.mark.parametrize(("value", "shown"), [(0.0123456, "0.0123"), (12345.678, "12300"), (1.5, "1.50"),
                                             (1e-7, "1.00e-07"), (-0.00099996, "-0.00100"), (9996, "10000"),
                                             (123456789, "1.23e+08"), (0.0, "0"), (float("nan"), "")])
def test_sig_figs_writes_three_significant_figures(value, shown):
    assert zl.plots.sig_figs(value) == shown


def test_paths_figure_has_a_colour_bar_beside_each_landscape():
    t = np.zeros((2, 3, 2))
    fig = zl.plots.paths_figure(lambda X: X[:, 0], lambda X: X[:, 1], t, t, [[0, 1], [0, 1]], n_grid=5)
    contours = [tr for tr in fig.data if tr.type == "contour"]
    assert len(contours) == 2 and all(c.showscale is not False for c in contours)
    d1, d2 = fig.layout.xaxis.domain, fig.layout.xaxis2.domain
    assert d1[1] <= contours[0].colorbar.x < d2[0] and d2[1] <= contours[1].colorbar.x
    assert fig.layout.width is None
