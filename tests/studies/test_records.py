"""Recorded results (notebooks/results/*.csv): a small slice rerun now matches the stored rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from zoo_lab import cli
from zoo_lab.studies import records

STORED = [n for n in records.RECORDS if (records.results_dir() / f"{n}.csv").is_file()]
VALUES = ("error", "dist_to_opt", "f_true_at_x", "proxy_gap", "proxy_test_nrmse", "test_rmse", "max_error",
          "program_queries")


def _compare(live: pd.DataFrame, stored: pd.DataFrame) -> int:
    """Match live rows to stored rows on the identifying columns; assert equal values; return matches."""
    keys = [k for k in records.SLICE_KEYS if k in live.columns]
    merged = live.merge(stored, on=keys, suffixes=("_live", "_stored"), validate="one_to_one")
    assert len(merged) == len(live), f"{len(live) - len(merged)} live rows have no stored twin"
    preds = [c for c in live.columns if c.startswith("pred_")]  # low_data_panel's test predictions
    for col in (*VALUES, *preds):
        if f"{col}_live" in merged:
            a, b = merged[f"{col}_live"].to_numpy(float), merged[f"{col}_stored"].to_numpy(float)
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-9, equal_nan=True, err_msg=col)
    if "basin_hit_live" in merged:
        assert (merged["basin_hit_live"] == merged["basin_hit_stored"]).all()
    return len(merged)


def test_every_record_is_stored_with_its_sidecar():
    assert set(STORED) == set(records.RECORDS), "run `zoo-lab record NAME` for the missing ones"
    for name in STORED:
        info = records.record_info(name)
        df = records.load_record(name)
        assert info["rows"] == len(df) > 0
        assert set(info["settings"]) == set(records.RECORDS[name].settings)
        assert info["command"] == f"zoo-lab record {name}"
        assert not {"x", "history_evals", "settings"} & set(df.columns)  # scalars only: small files


@pytest.mark.parametrize("name", STORED)
def test_a_rerun_slice_matches_the_stored_rows(name):
    live = records.record_slice(name)
    assert len(live) >= 2
    assert _compare(live, records.load_record(name)) == len(live)


def test_record_command_writes_csv_and_sidecar(tmp_path):
    rc = cli.main(["record", "replication_2301_07102", "--out", str(tmp_path),
                   "--set", 'functions=["ackley"]', "--set", "dims=[2]",
                   "--set", 'datasets=["sparse"]', "--set", "runs=2"])
    assert rc == 0
    info = json.loads((tmp_path / "replication_2301_07102.json").read_text())
    assert info["settings"]["runs"] == 2 and info["settings"]["functions"] == ["ackley"]
    assert info["settings"]["scale"] == records.RECORDS["replication_2301_07102"].settings["scale"]
    live = pd.read_csv(tmp_path / "replication_2301_07102.csv")
    assert len(live) == info["rows"] == 4  # 2 runs on the proxy, 2 paired runs on f
    if "replication_2301_07102" in STORED:
        stored_scale = records.record_info("replication_2301_07102")["settings"]["scale"]
        if stored_scale == info["settings"]["scale"]:
            _compare(live, records.load_record("replication_2301_07102"))


def test_bad_names_and_settings_are_refused(tmp_path, capsys):
    with pytest.raises(ValueError, match="name: unknown record 'nope'"):
        records.record("nope", tmp_path)
    with pytest.raises(ValueError, match="overrides: unknown settings \\['colour'\\]"):
        records.record("stability_grid", tmp_path, colour=1)
    assert cli.main(["record", "stability_grid", "--set", "seeds"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert cli.main(["record", "stability_grid", "--out", str(tmp_path), "--set", "colour=1"]) == 2
    with pytest.raises(FileNotFoundError, match="zoo-lab record stability_grid"):
        records.load_record("stability_grid", tmp_path)
