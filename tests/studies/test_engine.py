"""The sweep engine: grid order, executor = serial, checkpoint/resume, atomic and named checkpoints."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from zoo_lab.studies.engine import CheckpointError, grid, run_tasks, sweep

CALLS: list[dict] = []


def _task(a: int, b: str, seed: int) -> dict:
    CALLS.append(dict(a=a, b=b, seed=seed))
    x = np.random.default_rng(seed).standard_normal(3)
    return dict(a=a, b=b, seed=seed, value=float(a * x.sum()), x=x)


def _two_rows(a: int) -> list[dict]:
    return [dict(a=a, k=0), dict(a=a, k=1)]


def test_grid_is_row_major_and_wraps_scalars():
    g = grid(a=[1, 2], b="u", seed=range(2))
    assert g == [dict(a=1, b="u", seed=0), dict(a=1, b="u", seed=1),
                 dict(a=2, b="u", seed=0), dict(a=2, b="u", seed=1)]
    with pytest.raises(ValueError, match="seed: expected at least one value"):
        grid(a=[1], seed=[])


def test_executor_run_equals_serial_and_keeps_order():
    settings = grid(a=[3, 1, 2], b=["x", "y"], seed=range(3))
    serial = sweep(_task, settings, progress=False)
    with ThreadPoolExecutor(2) as pool:
        parallel = sweep(_task, settings, executor=pool, progress=False)
    assert list(serial["a"]) == [s["a"] for s in settings]
    assert serial.drop(columns="x").equals(parallel.drop(columns="x"))
    assert all(np.array_equal(u, v) for u, v in zip(serial["x"], parallel["x"], strict=True))


def test_list_rows_are_flattened_in_order():
    rows = run_tasks([(_two_rows, dict(a=a)) for a in (2, 1)], progress=False, keyword=True)
    assert [(r["a"], r["k"]) for r in rows] == [(2, 0), (2, 1), (1, 0), (1, 1)]


def test_checkpoint_resumes_without_rerunning(tmp_path):
    settings = grid(a=[1, 2], b="u", seed=range(3))
    CALLS.clear()
    first = sweep(_task, settings[:4], progress=False, checkpoint=tmp_path)
    assert len(CALLS) == 4
    CALLS.clear()
    full = sweep(_task, settings, progress=False, checkpoint=tmp_path)
    assert CALLS == settings[4:]  # only the two settings not yet done ran
    assert full.iloc[:4].drop(columns="x").equals(first.drop(columns="x"))
    assert np.array_equal(full["x"][0], first["x"][0])  # arrays survive the round trip
    assert not list(tmp_path.glob(".*.tmp"))  # written by rename: no half files left


def test_truncated_checkpoint_is_named(tmp_path):
    settings = grid(a=1, b="u", seed=0)
    sweep(_task, settings, progress=False, checkpoint=tmp_path)
    (path,) = tmp_path.glob("*.json")
    path.write_text(path.read_text()[:10])
    with pytest.raises(CheckpointError, match=str(path.name)):
        sweep(_task, settings, progress=False, checkpoint=tmp_path)


def test_empty_settings_refused():
    with pytest.raises(ValueError, match="settings: expected at least one"):
        sweep(_task, [], progress=False)
