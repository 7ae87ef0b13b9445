"""The estimator explorer panel: its plain update function redraws the figure in place."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

import zoo_lab as zl
from zoo_lab.plots.estimators import explorer_figure
from zoo_lab.widgets.estimators import estimator_explorer_data, update_estimator_figure


def test_update_redraws_in_place_and_reports_the_law():
    mse, fd = estimator_explorer_data("sphere", 8, 4, 1e-4, "forward", reps=40)
    fig = go.Figure(explorer_figure(mse, fd, 4, 1e-4))
    text = update_estimator_figure(fig, "gaussian", 6, 2, 1e-3, "central", reps=40)
    assert "law <b>3.5</b>" in text and "4 queries" in text  # (d+1)/q = 7/2, 2q queries
    np.testing.assert_array_equal(fig.data[2].x, [2])
    assert "gaussian (central" in fig.layout.title.text


def test_q_above_d_is_a_clear_error():
    with pytest.raises(ValueError, match="q: orthogonal uses at most d=3"):
        estimator_explorer_data("orthogonal", 3, 4, 1e-4, "forward", reps=10)


def test_panel_builds_and_refreshes():
    panel = zl.widgets.estimator_explorer(dim=4, q=2)
    panel.controls["estimator"].value = "rademacher"
    assert "measured" in panel.status.value
    panel.controls["q"].value = 9
    panel.controls["estimator"].value = "coordinate"
    assert "at most d=4" in panel.status.value
