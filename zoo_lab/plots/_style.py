"""Shared look of zoo_lab figures and the notebook renderer set-up."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

TEMPLATE = "plotly_white"
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


def base_layout(fig: go.Figure, title: str | None = None, **kw) -> go.Figure:
    """Apply the zoo_lab template, margins and an optional title to ``fig``; return it."""
    fig.update_layout(template=TEMPLATE, title=title, margin=dict(l=60, r=20, t=60, b=50), **kw)
    return fig


def init_notebook() -> None:
    """Render figures both for JupyterLab (mime type) and as HTML with plotly.js embedded once.

    The HTML part makes executed notebooks open offline as hand-outs: the
    ``notebook`` renderer writes plotly.js into the first output, not a CDN link.
    """
    pio.renderers.default = "plotly_mimetype+notebook"
