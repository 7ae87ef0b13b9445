"""The low-data coupling study: both modes train, coupling uses the program, tables and panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import zoo_lab as zl


@pytest.fixture(scope="module")
def flame():
    return zl.studies.combustion_problem()


def test_combustion_labels_invert_the_program(flame):
    phi = np.array([0.55, 0.7, 0.95])
    T = flame.program(phi[:, None])[:, 0]
    np.testing.assert_allclose(flame.labels(T), phi, atol=2e-4)
    assert flame.x_bounds[0] < flame.x_bounds[1]


def test_coupled_beats_data_only_with_two_labels(flame):
    """Two labels cannot pin a curved map; the knowledge loss through Cantera can."""
    data = zl.studies.train_low_data(flame, 2, "data", seed=0, steps=200)
    coupled = zl.studies.train_low_data(flame, 2, "coupled", seed=0, steps=200)
    assert data["program_queries"] == 0
    # 200 steps x 8 unlabelled rows x (forward + one coordinate perturbation)
    assert coupled["program_queries"] == 200 * 8 * 2
    assert coupled["test_rmse"] < 0.5 * data["test_rmse"]


def test_study_table_and_gain(flame):
    df = zl.studies.low_data_study(flame, ns=(2, 8), seeds=(0, 1), steps=60, progress=False)
    assert len(df) == 2 * 2 * 2 and set(df["mode"]) == {"data", "coupled"}
    table = zl.studies.low_data_table(df)
    assert list(table.index) == [2, 8] and "coupled median" in table.columns
    gain = zl.studies.coupling_gain(df)
    assert set(gain.verdict) <= {"coupling helps", "data-only better", "overlapping"}
    assert (gain.ratio > 0).all()


def test_gain_verdicts_from_hand_made_frame():
    df = pd.DataFrame(dict(problem="p", n_labels=[2] * 4 + [8] * 4,
                           mode=["data", "data", "coupled", "coupled"] * 2,
                           test_rmse=[0.5, 0.6, 0.1, 0.2, 0.1, 0.3, 0.2, 0.25]))
    gain = zl.studies.coupling_gain(df).set_index("n_labels")
    assert gain.loc[2, "verdict"] == "coupling helps"
    assert gain.loc[2, "ratio"] == pytest.approx(0.55 / 0.15)
    assert gain.loc[8, "verdict"] == "overlapping"


def test_errors(flame):
    with pytest.raises(ValueError, match="mode: got 'both'; allowed: data, coupled"):
        zl.studies.train_low_data(flame, 2, "both")
    with pytest.raises(ValueError, match="n_labels: expected an int >= 1, got 0"):
        zl.studies.train_low_data(flame, 0, "data")


def test_materials_problem_label_is_emt_equilibrium():
    mat = zl.studies.materials_problem()
    a_cu = mat.labels(np.array([0.0]))[0]
    assert a_cu == pytest.approx(3.5898, abs=1e-3)
    energy = mat.program(np.array([[0.0, a_cu], [0.0, a_cu + 0.05], [0.0, a_cu - 0.05]]))[:, 0]
    assert energy[0] < energy[1] and energy[0] < energy[2]


@pytest.mark.parametrize(("control", "value"), [("n_labels", 6), ("lam", 0.1), ("seed", 2), ("steps", 60)])
def test_panel_controls_update(control, value):
    panel = zl.widgets.low_data_explorer(steps=40)
    before = [np.array(t.y, dtype=float).copy() for t in panel.figure.data]
    panel.controls[control].value = value
    after = [np.array(t.y, dtype=float) for t in panel.figure.data]
    assert any(a.shape != b.shape or not np.allclose(a, b) for a, b in zip(after, before, strict=True))
    assert "test RMSE data-only" in panel.status.value


def test_panel_caches_each_setting_and_remembers_labels(monkeypatch):
    from zoo_lab.widgets import low_data as wmod

    calls = []
    real = wmod.study.train_low_data
    monkeypatch.setattr(wmod.study, "train_low_data", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    panel = zl.widgets.low_data_explorer(steps=20)
    first = [np.array(t.y, dtype=float).copy() for t in panel.figure.data]
    assert len(calls) == 2  # data-only and coupled
    panel.controls["n_labels"].value = 5
    panel.controls["n_labels"].value = 3  # back to a setting already drawn: no retraining
    assert len(calls) == 4
    again = [np.array(t.y, dtype=float) for t in panel.figure.data]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    label = wmod._memo_labels(lambda x: np.asarray(x) ** 2)
    np.testing.assert_array_equal(label(np.array([1.0, 2.0, 1.0])), [1.0, 4.0, 1.0])
