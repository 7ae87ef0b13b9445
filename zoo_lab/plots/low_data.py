"""Figures for the low-data coupling study: test error against the number of labels, curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from zoo_lab.plots._style import base_layout
from zoo_lab.plots.sampling import median_band_figure

__all__ = ["low_data_figure", "curve_figure", "fit_figure"]


def low_data_figure(df: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Test RMSE against labelled examples, data-only vs coupled (median, min-max over seeds)."""
    fig = median_band_figure(df, x="n_labels", y="test_rmse", group="mode", title=title)
    fig.update_xaxes(title_text="labelled examples n")
    fig.update_yaxes(title_text="test RMSE")
    return fig


def curve_figure(x, y, x_title: str = "x", y_title: str = "y", title: str | None = None) -> go.Figure:
    """A single line with markers (e.g. a program's response curve)."""
    fig = go.Figure(go.Scatter(x=np.ravel(x), y=np.ravel(y), mode="lines+markers"))
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return base_layout(fig, title, height=380, width=620)


def fit_figure(x_true, y_true, fits: dict, x_lab=None, y_lab=None, x_title: str = "x",
               y_title: str = "y", title: str | None = None) -> go.Figure:
    """Truth curve, fitted curves (name -> (x, y)) and the labelled points."""
    fig = go.Figure(go.Scatter(x=np.ravel(x_true), y=np.ravel(y_true), mode="lines", name="truth",
                               line=dict(color="#444", dash="dash")))
    for name, (xf, yf) in fits.items():
        fig.add_trace(go.Scatter(x=np.ravel(xf), y=np.ravel(yf), mode="lines", name=name))
    fig.add_trace(go.Scatter(x=np.ravel([] if x_lab is None else x_lab),
                             y=np.ravel([] if y_lab is None else y_lab), mode="markers",
                             name="labels", marker=dict(size=10, color="black")))
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return base_layout(fig, title, height=420, width=640)
