"""Plot polish over every figure builder: whole-decade log ticks in 1e-4 style, readable titles
(no raw column names), one colour bar per map beside it, axes numbered x1 … xd."""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest
from _figures import CASES
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo_lab as zl
from zoo_lab.plots import _style
from zoo_lab.plots._style import label, major_log_ticks


def _builders() -> set[str]:
    """Public names of zoo_lab.plots that build a figure (they return a go.Figure)."""
    out = set()
    for name in zl.plots.__all__:
        obj = getattr(zl.plots, name)
        if callable(obj) and not inspect.isclass(obj):
            ret = inspect.signature(obj).return_annotation
            if "Figure" in str(ret):
                out.add(name)
    return out


def test_every_figure_builder_has_a_case():
    assert _builders() == set(CASES)


def _axes(fig: go.Figure):
    return [(k, fig.layout[k]) for k in fig.layout if re.fullmatch(r"[xy]axis\d*", k)]


def _visible_decades(fig: go.Figure, name: str, axis) -> tuple[float, float]:
    """log10 of the smallest range the axis shows: its fixed range, else the data's span."""
    if axis.autorange is False and axis.range is not None:
        return float(axis.range[0]), float(axis.range[1])
    lo, hi = _style._log_spans(fig)[name]
    return math.log10(lo), math.log10(hi)


def _labelled_powers(lo: float, hi: float, dtick: int) -> list[int]:
    return [k for k in range(math.floor(lo), math.ceil(hi) + 1) if lo - 1e-9 <= k <= hi + 1e-9
            and k % dtick == 0]


@pytest.mark.parametrize("builder", sorted(CASES))
def test_log_axes_have_major_ticks_at_powers_of_ten_in_e_format(builder):
    fig, _ = CASES[builder]()
    spans = _style._log_spans(fig)
    for name, axis in _axes(fig):
        if axis.type != "log":
            continue
        assert axis.exponentformat == "e" and axis.showexponent == "all", (builder, name)
        assert not axis.tickformat, (builder, name)  # a d3 format would override exponentformat
        assert isinstance(axis.dtick, int) and axis.dtick >= 1 and axis.tick0 == 0, (builder, name)
        if name in spans:
            powers = _labelled_powers(*_visible_decades(fig, name, axis), axis.dtick)
            assert 2 <= len(powers) <= 7, (builder, name, powers)


@settings(max_examples=60, deadline=None)
@given(lo=st.floats(-15, 8), width=st.floats(0.0, 20.0))
def test_log_ticks_show_two_to_seven_powers_of_ten_for_any_span(lo, width):
    fig = go.Figure(go.Scatter(x=[10**lo, 10 ** (lo + width)], y=[1, 2]))
    fig.update_xaxes(type="log")
    major_log_ticks(fig)
    ax = fig.layout.xaxis
    powers = _labelled_powers(*_visible_decades(fig, "xaxis", ax), ax.dtick)
    assert 2 <= len(powers) <= 7
    if ax.autorange is False:  # widened: whole decades that still hold every point
        assert ax.range[0] <= lo + 1e-9 and ax.range[1] >= lo + width - 1e-9


def test_a_widened_log_range_is_released_when_the_data_spans_decades_again():
    fig = go.Figure(go.Scatter(x=[0.3, 0.8], y=[1, 2]))
    fig.update_xaxes(type="log")
    major_log_ticks(fig)
    assert list(fig.layout.xaxis.range) == [-1, 0]
    fig.data[0].x = [1e-5, 1.0]
    major_log_ticks(fig)
    assert fig.layout.xaxis.range is None and fig.layout.xaxis.autorange is True
    assert fig.layout.xaxis.dtick == 1


def _raw_in(text: str, columns) -> list[str]:
    """Column names that ``text`` shows raw: the bare name where a readable label exists, a
    name with an underscore anywhere, or ``name=`` (a keyword, not maths notation)."""
    bad = []
    for c in columns:
        c = str(c)
        word = rf"(?<![\w]){re.escape(c)}(?![\w])"
        if (text.strip() == c and label(c) != c) or ("_" in c and re.search(word, text)) or (
                len(c) > 1 and re.search(word + r"\s*=", text)):
            bad.append(c)
    return bad


def _texts(fig: go.Figure) -> list[tuple[str, str]]:
    """(where, text) of every title, colour-bar title, subplot title and hover text of ``fig``."""
    out = [("title", fig.layout.title.text or ""), ("legend title", fig.layout.legend.title.text or "")]
    out += [(name, ax.title.text or "") for name, ax in _axes(fig)]
    out += [("annotation", a.text or "") for a in fig.layout.annotations]
    for k in fig.layout:
        if k.startswith("coloraxis"):
            out.append((k, fig.layout[k].colorbar.title.text or ""))
    for tr in fig.data:
        if "colorbar" in tr:
            out.append((f"{tr.type} colour bar", tr.colorbar.title.text or ""))
        for attr in ("hovertemplate", "hovertext"):
            v = getattr(tr, attr, None)
            vals = [] if v is None else [v] if isinstance(v, str) else list(v)
            out += [(f"{tr.type} {attr}", str(s)) for s in vals]
        if tr.type == "splom":
            out += [("splom label", d.label or "") for d in tr.dimensions]
    return out


@pytest.mark.parametrize("builder", sorted(CASES))
def test_titles_and_hover_labels_never_show_raw_column_names(builder):
    fig, columns = CASES[builder]()
    bad = [(where, text, _raw_in(text, columns)) for where, text in _texts(fig) if _raw_in(text, columns)]
    assert bad == [], bad
    # every axis that carries data has a title (a lone subplot without one shares its row's)
    assert any(ax.title.text for _, ax in _axes(fig)) or builder == "design_matrix"


def test_the_raw_name_check_catches_raw_names():
    assert _raw_in("test_rmse", ["test_rmse"]) == ["test_rmse"]
    assert _raw_in("q", ["q"]) == ["q"] and _raw_in("directions q", ["q"]) == []
    assert _raw_in("rastrigin d=2 seed=3", ["seed", "d"]) == ["seed"]
    assert _raw_in("median of n_samples", ["n_samples"]) == ["n_samples"]


def _colour_bars(fig: go.Figure):
    return [tr for tr in fig.data if tr.type in ("heatmap", "contour") and tr.showscale is not False
            and tr.coloraxis is None]


@pytest.mark.parametrize("builder", ["landscape_figure", "paths_figure"])
def test_each_map_has_one_colour_bar_beside_it_clear_of_the_next_map(builder):
    fig, _ = CASES[builder]()
    maps = [tr for tr in fig.data if tr.type in ("heatmap", "contour")]
    bars = _colour_bars(fig)
    assert len(bars) == len(maps) >= 2  # one bar per map, none shared by accident
    width_px = _style.MAX_WIDTH  # the widest the column lets the figure be
    ends = []
    for tr in bars:
        ref = "xaxis" + (tr.xaxis or "x")[1:]
        dom = fig.layout[ref].domain
        cb = tr.colorbar
        assert cb.x >= dom[1] and cb.xanchor == "left", (builder, ref)
        # bar, its padding and five-character tick labels (~7 px each at 12 px) in paper units
        reach = cb.x + ((cb.thickness or 30) + 2 * (cb.xpad or 10) + 5 * 7) / width_px
        ends.append((dom, cb.x, reach))
    for (_, _, reach), (dom_next, x_next, _) in zip(ends, ends[1:], strict=False):
        assert reach < dom_next[0] and reach < x_next  # clear of the next map and its bar
    # the last bar may pass x = 1: plotly widens the right margin for it (the rendered test checks)


@pytest.mark.parametrize("builder", sorted(CASES))
def test_axes_are_numbered_from_one(builder):
    fig, _ = CASES[builder]()
    texts = " ".join(t for _, t in _texts(fig))
    assert not re.search(r"\bx_?0\b", texts), texts
    assert not re.search(r"\baxis 0\b", texts)


def test_axis_titles_follow_the_chosen_coordinates():
    f = zl.functions.get("sphere", 5)
    fig = zl.plots.landscape_figure(f, f, resolution=6, axes=(3, 4))
    assert fig.layout.xaxis.title.text == "x4" and fig.layout.yaxis.title.text == "x5"
    X = np.random.default_rng(0).random((8, 5))
    fig = zl.plots.designs_grid({"a": X, "b": X}, [[0, 1]] * 5, axes=(4, 0))
    assert fig.layout.xaxis.title.text == "x5" and fig.layout.yaxis2.title.text == "x1"
    fig = zl.plots.design_matrix(X, [[0, 1]] * 5)
    assert [d.label for d in fig.data[0].dimensions] == ["x1", "x2", "x3", "x4", "x5"]


@pytest.mark.parametrize("dim", [2, 3, 7, 10])
def test_sampling_panel_axes_are_x1_to_xd_in_dropdowns_titles_and_text(dim):
    panel = zl.widgets.sampling_explorer(scheme="halton", dim=dim, n=16)
    for key in ("x_axis", "y_axis"):
        assert [lab for lab, _ in panel.controls[key].options] == [f"x{k}" for k in range(1, dim + 1)]
    panel.controls["x_axis"].value = dim - 1
    assert panel.figure.layout.xaxis.title.text == f"x{dim}"
    # in 2-D picking x2 for the x axis swaps the y axis to x1
    assert panel.figure.layout.yaxis.title.text == ("x1" if dim == 2 else "x2")
    with pytest.raises(ValueError, match=f"x1 … x{dim}"):
        zl.widgets.update_sampling_figure(panel.figure, "halton", dim, 16, 0, x_axis=0, y_axis=dim)
