"""zoo_lab.optimize.coco: our optimizers on a 2-function, 2-dimension bbob slice; cocopp reads the data."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

import zoo_lab as zl
from zoo_lab.optimize import coco

OK, WHY = coco.coco_available()
pytestmark = pytest.mark.skipif(not OK, reason=WHY)

SLICE = "function_indices:1,2 dimensions:2,3 instance_indices:1,2"


def test_coco_objective_evaluates_each_row_on_the_problem():
    import cocoex

    suite = cocoex.Suite("bbob", "", "function_indices:2 dimensions:3 instance_indices:1")
    problem = next(iter(suite))
    X = np.random.default_rng(0).uniform(-4, 4, (5, 3))
    y = coco.coco_objective(problem)(X)
    assert y.shape == (5,) and problem.evaluations == 5
    assert np.array_equal(y, [problem(x) for x in X])
    problem.free()


@pytest.mark.parametrize("name", ["pso", "ga", "ipop_cmaes"])
def test_run_coco_spends_the_budget_and_cocopp_reads_it(tmp_path, monkeypatch, name):
    cocopp = pytest.importorskip("cocopp", reason="cocopp is not installed (dev extra)")
    if name == "ipop_cmaes":
        pytest.importorskip("cma", reason="cma is not installed (dev extra)")
    monkeypatch.chdir(tmp_path)
    opt = getattr(zl.optimize, name) if name != "ipop_cmaes" else functools.partial(
        zl.optimize.run_peer, name)
    run = coco.run_coco(opt, "bbob", SLICE, budget_multiplier=50, result_folder=f"zoo_{name}",
                         stop_at_target=False, seed=3)
    t = run.table
    assert len(t) == 8 and set(t["dim"]) == {2, 3} and set(t["function"]) == {1, 2}
    assert (t["evaluations"] == 50 * t["dim"]).all()  # max_evals spent exactly, no target stop
    assert run.folder == tmp_path / "exdata" / f"zoo_{name}"
    assert sorted(p.name for p in run.folder.glob("*.info")) == ["bbobexp_f1.info", "bbobexp_f2.info"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = cocopp.pproc.DataSetList(str(run.folder))
    assert sorted((ds.funcId, ds.dim) for ds in data) == [(1, 2), (1, 3), (2, 2), (2, 3)]
    for ds in data:
        assert ds.nbRuns() == 2  # two instances
        assert list(ds.maxevals) == [50 * ds.dim] * 2
        # cocopp's final f - f_opt per run matches our best f: bbob's f_opt is a multiple of 0.01
        rows = t[(t["function"] == ds.funcId) & (t["dim"] == ds.dim)].set_index("instance")
        f_opt = rows.loc[list(ds.instancenumbers), "best_f"].to_numpy() - ds.finalfunvals
        assert np.all(ds.finalfunvals > 0)
        np.testing.assert_allclose(f_opt * 100, np.round(f_opt * 100), atol=1e-6)


def test_stop_at_target_ends_runs_early(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = coco.run_coco(zl.optimize.pso, "bbob", "function_indices:1 dimensions:2 instance_indices:1",
                         budget_multiplier=5000, result_folder="target", seed=0)
    row = run.table.iloc[0]
    assert row["target_hit"] and row["stopped_by"] == "target"
    assert row["evaluations"] < 5000 * 2


def test_bad_arguments(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError, match="optimizer"):
        coco.run_coco(None, "bbob", SLICE)
    with pytest.raises(ValueError, match="budget_multiplier"):
        coco.run_coco(zl.optimize.pso, "bbob", SLICE, budget_multiplier=0)
    with pytest.raises(ValueError, match="result_folder"):
        coco.run_coco(zl.optimize.pso, "bbob", SLICE, result_folder="a/b")
