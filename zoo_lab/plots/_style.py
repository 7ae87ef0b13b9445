"""Shared look of zoo_lab figures and the notebook renderer set-up."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

TEMPLATE = "plotly_white"
# The notebook column is ~968 px with JupyterLab's file browser open at 1400 px: a figure
# asking for more is cut, so wider requests autosize to the column instead.
MAX_WIDTH = 950
FACETS_PER_ROW = 3
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0.0)
# Readable axis titles for the tidy frames' column names.
LABELS = {
    "n": "samples n", "n_samples": "training points n", "dim": "dimension d", "d": "dimension d",
    "q": "directions q", "mu": "step μ", "rmse": "test RMSE", "nrmse": "test RMSE / std(f)",
    "r2": "R²", "spearman": "Spearman ρ", "discrepancy": "centered L2 discrepancy",
    "min_distance": "min distance", "rel_mse": "relative MSE", "fit_time": "fit time (s)",
    "error": "error f(x) − f*", "regret": "regret f(x̂) − f*", "dist_to_opt": "‖x − x*‖",
    "n_evals": "function evaluations", "loss": "training loss (standardised MSE)",
    "val_loss": "validation loss (standardised MSE)", "monitor_rmse": "test RMSE",
    "time": "wall time (s)", "passes": "passes over the data", "seed": "seed",
    "scheme": "sampling scheme", "function": "function", "optimizer": "optimizer",
    "n_labels": "labelled examples n", "test_rmse": "test RMSE", "best_fun": "best f found",
    "abs_error": "|mean − integral|", "step": "optimizer step", "queries": "program queries",
    "gap": "best f − f* so far", "rel_bias": "relative bias", "rel_error": "‖ĝ − ∇f‖ / ‖∇f‖",
    "cosine": "cosine to ∇f", "share": "share of variance", "source": "seed source",
    "method": "method", "estimator": "estimator", "rel_f": "f(x_final) / f(x₀)", "h": "step h",
    "slope": "log-log slope", "median": "median", "std": "std", "q_over_d": "q / d",
    "iterations": "iterations to tolerance", "test_k_rmse": "test RMSE of k",
    "solver_rows": "solver rows", "seconds": "wall time (s)", "n_train": "training points n",
}
# One colour per sampling scheme / estimator, stable across every figure.
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
SCHEME_COLORS = {"uniform": COLORS[0], "lhs": COLORS[1], "sobol": COLORS[2], "halton": COLORS[3]}


def color_for(key: str, i: int = 0) -> str:
    """The colour of a scheme name, or the i-th palette colour for anything else."""
    return SCHEME_COLORS.get(key, COLORS[i % len(COLORS)])


def rgba(hex_color: str, a: float = 0.2) -> str:
    """``#rrggbb`` with opacity ``a`` as a plotly ``rgba(...)`` string (for filled bands)."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[k:k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{a})"


def add_median_band(fig: go.Figure, s, x: str, color: str, name: str, row: int, col: int,
                    show: bool) -> None:
    """Add a median line and a min-max band (columns median/min/max of ``s`` against ``s[x]``)."""
    hidden = dict(legendgroup=name, hoverinfo="skip", showlegend=False)
    fig.add_trace(go.Scatter(x=s[x], y=s["max"], mode="lines", line=dict(width=0), **hidden),
                  row=row, col=col)
    fig.add_trace(go.Scatter(x=s[x], y=s["min"], mode="lines", line=dict(width=0),
                             fill="tonexty", fillcolor=rgba(color), **hidden), row=row, col=col)
    fig.add_trace(go.Scatter(x=s[x], y=s["median"], mode="lines+markers", name=name,
                             line=dict(color=color), legendgroup=name, showlegend=show),
                  row=row, col=col)


def label(column: str) -> str:
    """A readable axis title for a frame column (the name itself when it has none)."""
    return LABELS.get(str(column), str(column).replace("_", " "))


def facet_grid(n: int, per_row: int = FACETS_PER_ROW) -> tuple[int, int]:
    """(rows, cols) for ``n`` facets wrapped at ``per_row`` per row."""
    cols = max(1, min(n, per_row))
    return math.ceil(n / cols), cols


def _log_spans(fig: go.Figure) -> dict[str, tuple[float, float]]:
    """Smallest and largest positive finite value drawn on each axis (``xaxis``, ``yaxis2``, ...)."""
    spans: dict[str, tuple[float, float]] = {}
    for tr in fig.data:
        for ax in ("x", "y"):
            vals = getattr(tr, ax, None)
            if vals is None:
                continue
            try:
                v = np.asarray([u for u in vals if u is not None], dtype=float)
            except (TypeError, ValueError):  # categories (box groups, labels) have no log span
                continue
            v = v[np.isfinite(v) & (v > 0)]
            if v.size:
                ref = getattr(tr, f"{ax}axis", None) or ax
                name = f"{ax}axis" + ref[1:]
                lo, hi = spans.get(name, (math.inf, -math.inf))
                spans[name] = (min(lo, float(v.min())), max(hi, float(v.max())))
    return spans


def major_log_ticks(fig: go.Figure) -> go.Figure:
    """Major ticks on every log axis of ``fig`` at powers of ten only, labelled 1e-4 style; return it.

    Plotly then writes 1e−5, 1e−4, 1e−3, 0.01, 0.1, 1, 10, 100, 1e+3 (plain numbers within two
    decades of 1). The step grows with the decades spanned by the data, so at most about six
    labels show; an axis whose data holds fewer than two powers of ten is widened to whole
    decades, so it still shows two labels. Call it again after new data is drawn.
    """
    spans = _log_spans(fig)
    names = [k for k in fig.layout if k.startswith(("xaxis", "yaxis"))]
    # matched (shared) axes show one range: give each the span of its whole group
    root = {}
    for k in names:
        m = fig.layout[k].matches  # "y2" names the axis yaxis2
        root[k] = m[0] + "axis" + m[1:] if m else k
    group: dict[str, tuple[float, float]] = {}
    for k, r in root.items():
        if k in spans:
            lo, hi = group.get(r, (math.inf, -math.inf))
            group[r] = (min(lo, spans[k][0]), max(hi, spans[k][1]))
    spans = {k: group[root[k]] for k in names if root[k] in group}
    for name in names:
        axis = fig.layout[name]
        if axis.type != "log":
            continue
        axis.update(dtick=1, tick0=0, exponentformat="e", showexponent="all", tickformat=None,
                    minor=dict(showgrid=False, ticks=""))
        if name not in spans:
            continue
        a, b = (math.log10(v) for v in spans[name])
        axis.update(dtick=max(1, math.ceil((math.ceil(b) - math.floor(a)) / 6)))
        if math.floor(b) - math.ceil(a) < 1:  # fewer than two powers of ten inside the data
            r0 = math.floor(a)
            axis.update(range=[r0, max(math.ceil(b), r0 + 1)], autorange=False)
        elif axis.autorange is False and axis.range is not None and all(
                float(r).is_integer() for r in axis.range):
            # a whole-decade range set here for earlier data: let the new data autorange again
            axis.update(range=None, autorange=True)
    return fig


def base_layout(fig: go.Figure, title: str | None = None, **kw) -> go.Figure:
    """Apply the zoo_lab template, margins, title and legend below the plot to ``fig``; return it.

    A ``width`` above :data:`MAX_WIDTH` is dropped, so the figure autosizes to the output
    column; log axes get whole-decade labels (:func:`major_log_ticks`).
    """
    width = kw.pop("width", None)
    if width is not None and width > MAX_WIDTH:
        width = None
    kw.setdefault("legend", LEGEND_BELOW)
    fig.update_layout(template=TEMPLATE, title=title, margin=dict(l=60, r=20, t=60, b=50),
                      width=width, autosize=width is None, **kw)
    return major_log_ticks(fig)


def init_notebook() -> None:
    """Render figures both for JupyterLab (mime type) and as HTML with plotly.js embedded once.

    The HTML part makes executed notebooks open offline as hand-outs: the
    ``notebook`` renderer writes plotly.js into the first output, not a CDN link.
    """
    pio.renderers.default = "plotly_mimetype+notebook"


def trace_named(fig: go.Figure, name: str, xaxis: str | None = None):
    """The trace called ``name`` in ``fig``, or whose ``meta`` is ``name`` (a role kept while the
    legend name changes); panels update traces by name, never by position.

    ``xaxis`` ("x", "x2", ...) picks the subplot when facets repeat the same names.
    """
    for tr in fig.data:
        if (tr.name == name or tr.meta == name) and (xaxis is None or (tr.xaxis or "x") == xaxis):
            return tr
    where = "" if xaxis is None else f" on xaxis {xaxis!r}"
    raise ValueError(f"name: no trace {name!r}{where} in the figure; it has {[t.name for t in fig.data]}")
