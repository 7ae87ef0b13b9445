"""The low-data coupling study: both modes train, coupling uses the program, tables and panel."""

from __future__ import annotations

import ipywidgets as W
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
def test_live_panel_controls_update(control, value, tmp_path):
    panel = zl.widgets.low_data_explorer(steps=40, record_folder=tmp_path)  # no record there: live
    assert isinstance(panel.controls["n_labels"], W.IntSlider)
    before = [np.array(t.y, dtype=float).copy() for t in panel.figure.data]
    panel.controls[control].value = value
    after = [np.array(t.y, dtype=float) for t in panel.figure.data]
    assert any(a.shape != b.shape or not np.allclose(a, b) for a, b in zip(after, before, strict=True))
    assert "test RMSE data-only" in panel.status.value and "recorded" not in panel.status.value


def test_panel_caches_each_setting_and_remembers_labels(monkeypatch, tmp_path):
    from zoo_lab.widgets import low_data as wmod

    calls = []
    real = wmod.study.train_low_data
    monkeypatch.setattr(wmod.study, "train_low_data", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    panel = zl.widgets.low_data_explorer(steps=20, record_folder=tmp_path)
    first = [np.array(t.y, dtype=float).copy() for t in panel.figure.data]
    assert len(calls) == 2  # data-only and coupled
    panel.controls["n_labels"].value = 5
    panel.controls["n_labels"].value = 3  # back to a setting already drawn: no retraining
    assert len(calls) == 4
    again = [np.array(t.y, dtype=float) for t in panel.figure.data]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    label = wmod._memo_labels(lambda x: np.asarray(x) ** 2)
    np.testing.assert_array_equal(label(np.array([1.0, 2.0, 1.0])), [1.0, 4.0, 1.0])


def test_snapshot_at_step_k_is_a_k_step_run(flame):
    """Adam has no schedule and the coordinate estimator is deterministic: snapshots are short runs."""
    long = zl.studies.train_low_data(flame, 3, "coupled", seed=1, steps=40, lam=0.1, snapshot_every=20)
    assert [s["step"] for s in long["snapshots"]] == [20, 40]
    for snap in long["snapshots"]:
        short = zl.studies.train_low_data(flame, 3, "coupled", seed=1, steps=snap["step"], lam=0.1,
                                          curve=True)
        np.testing.assert_array_equal(snap["pred"], short["pred"])
        assert snap["test_rmse"] == short["test_rmse"]
        assert snap["program_queries"] == short["program_queries"] == snap["step"] * 8 * 2
    assert long["snapshots"][-1]["test_rmse"] == long["test_rmse"]
    with pytest.raises(ValueError, match="snapshot_every: expected an int >= 1, got 0"):
        zl.studies.train_low_data(flame, 3, "data", steps=5, snapshot_every=0)


def test_snapshot_rows_store_data_runs_at_lam_zero():
    rows = zl.studies.low_data_snapshots("data", 2, lam=10.0, seed=0, steps=40, snapshot_every=20)
    assert [r["step"] for r in rows] == [20, 40] and {r["lam"] for r in rows} == {0.0}
    assert sum(k.startswith("pred_") for k in rows[0]) == 17 and rows[0]["program_queries"] == 0
    run = zl.studies.train_low_data(zl.studies.combustion_problem(), 2, "data", seed=0, steps=40,
                                    curve=True)
    np.testing.assert_array_equal([rows[-1][f"pred_{i}"] for i in range(17)], run["pred"])


@pytest.fixture(scope="module")
def tiny_record(tmp_path_factory):
    """A small low_data_panel record (2 label counts, 2 weights, 1 seed, 40 steps) in a temp folder."""
    folder = tmp_path_factory.mktemp("rec")
    zl.studies.records.record("low_data_panel", folder, ns=[2, 4], lams=[0.1, 10.0], seeds=1, steps=40)
    return folder


def test_recorded_panel_draws_the_stored_runs(tiny_record):
    panel = zl.widgets.low_data_explorer(n_labels=4, lam=10.0, steps=40, record_folder=tiny_record)
    assert isinstance(panel.controls["n_labels"], W.SelectionSlider)
    assert list(panel.controls["n_labels"].options) == [("2", 2), ("4", 4)]
    assert [v for _, v in panel.controls["steps"].options] == [20, 40]
    assert "zoo-lab record low_data_panel" in panel.children[3].value
    flame = zl.studies.combustion_problem()
    for n, lam, steps in [(4, 10.0, 40), (2, 10.0, 40), (2, 0.1, 40), (2, 0.1, 20)]:
        panel.controls["n_labels"].value, panel.controls["lam"].value = n, lam
        panel.controls["steps"].value = steps
        assert "recorded" in panel.status.value
        for mode in ("data", "coupled"):
            live = zl.studies.train_low_data(flame, n, mode, seed=0, steps=steps, lam=lam, curve=True)
            tr = next(t for t in panel.figure.data if t.name == mode)
            np.testing.assert_allclose(np.array(tr.y, dtype=float), live["pred"], rtol=1e-6)
        labels = next(t for t in panel.figure.data if t.name == "labels")
        np.testing.assert_allclose(np.array(labels.x, dtype=float), live["x_labels"])
    with pytest.raises(ValueError, match="is not in the low_data_panel record"):
        zl.widgets.low_data.recorded_runs(tiny_record).get("coupled", 3, 0.1, 0, 20)
