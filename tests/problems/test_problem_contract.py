"""Contract: every problem, benchmark function or real program, follows the Problem protocol.

Bounds of shape (in_dim, 2) with lo < hi, a batched call (m, in_dim) -> m finite
results that equals m single-row calls, and a known optimum that lies in the box
and attains f*.
"""

from __future__ import annotations

import numpy as np
import pytest

import zoo_lab as zl
from zoo_lab.problems import Problem, check_problem, optimum


def _functions():
    out = []
    for name in zl.functions.names():
        for d in (2, 5):
            try:
                out.append(zl.functions.get(name, d))
            except ValueError:  # defined for other dimensions only
                pass
    return out


def _study_problems():
    from zoo_lab.studies.guided import guided_problem
    from zoo_lab.studies.optimizer_stability import _problem

    rod = zl.problems.HeatRod(n_cells=16, n_steps=24)
    return [zl.problems.inverse_problem(rod, seed=0), guided_problem("rosenbrock", 3),
            guided_problem("heat", 4), _problem("ackley", 3, None, 2.0)]


PROBLEMS = _functions() + [zl.problems.HeatRod(n_cells=16, n_steps=24), zl.problems.AlloyEMT(),
                           zl.problems.FlameTemperature()] + _study_problems()


@pytest.fixture(params=PROBLEMS, ids=lambda p: f"{p.name}-{p.in_dim}")
def problem(request):
    return request.param


def test_follows_the_protocol(problem):
    assert isinstance(problem, Problem)
    assert check_problem(problem) is problem
    b = np.asarray(problem.bounds)
    assert b.shape == (problem.in_dim, 2) and np.all(b[:, 0] < b[:, 1])


def test_batched_call_equals_row_by_row(problem):
    X = zl.sampling.sample("lhs", 3, problem.bounds, seed=1)
    Y = np.asarray(problem(X))
    assert Y.shape[0] == 3 and np.all(np.isfinite(Y))
    rows = np.array([np.asarray(problem(X[i:i + 1]))[0] for i in range(3)])
    np.testing.assert_allclose(Y, rows, rtol=1e-10, atol=1e-12)


def test_known_optimum_is_in_the_box_and_attained(problem):
    x_opt, f_opt = optimum(problem)
    if x_opt is None:
        pytest.skip(f"{problem.name}: no known optimum")
    b = np.asarray(problem.bounds)
    assert np.all(b[:, 0] <= x_opt) and np.all(x_opt <= b[:, 1])
    assert float(problem(x_opt[None, :])[0]) == pytest.approx(f_opt, abs=1e-6 * (1 + abs(f_opt)))


def test_not_a_problem_is_named():
    with pytest.raises(TypeError, match="missing name, bounds, in_dim, out_dim"):
        check_problem(lambda X: X)
