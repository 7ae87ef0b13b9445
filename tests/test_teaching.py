"""Exercise self-checks: each passes on a right answer, fails (with a hint) on a wrong one, never raises."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import torch

import zoo_lab as zl
from zoo_lab import teaching as T


def _failed_with_hint(r: T.Result) -> None:
    assert not r and not r.passed, str(r)
    assert r.expected and r.got and r.hint, str(r)
    html = r._repr_html_()
    assert "not yet" in html and "hint" in html


def _passed(r: T.Result) -> None:
    assert r and r.passed, str(r)
    assert "passed" in r._repr_html_() and "PASSED" in str(r)


# ----------------------------------------------------------------------------- LHS


def test_lhs_strata_right_and_wrong():
    _passed(T.check_lhs_strata(zl.sampling.sample("lhs", 20, [[0, 1]] * 3, seed=0)))
    _passed(T.check_lhs_strata(zl.sampling.sample("lhs", 9, [[-2, 2], [0, 5]], seed=1),
                               bounds=[[-2, 2], [0, 5]]))
    _failed_with_hint(T.check_lhs_strata(np.random.default_rng(0).random((20, 3))))
    _failed_with_hint(T.check_lhs_strata(np.ones(5)))
    r = T.check_lhs_strata(zl.sampling.sample("lhs", 8, [[0, 1]] * 2, seed=0) + 1.0)
    assert not r and "outside" in r.got


def test_lhs_sampler_right_and_wrong():
    _passed(T.check_lhs_sampler(T.solution("lhs")))
    _failed_with_hint(T.check_lhs_sampler(lambda n, d, rng: rng.random((n, d))))
    _failed_with_hint(T.check_lhs_sampler(lambda n, d, rng: T.solution("lhs")(n, d, rng).T))
    r = T.check_lhs_sampler(lambda n, d, rng: T.solution("lhs")(n, d, np.random.default_rng(n)))
    assert not r and "same design" in r.got


def test_unfinished_and_crashing_code_gives_feedback_not_errors():
    def todo(n, d, rng):
        raise NotImplementedError

    r = T.check_lhs_sampler(todo)
    _failed_with_hint(r)
    assert r.got == "not implemented yet"
    r = T.check_central_difference(lambda f, x, mu: 1 / 0)
    _failed_with_hint(r)
    assert "ZeroDivisionError" in r.got


# ----------------------------------------------------------------------------- discrepancy, slopes


def test_discrepancy_ordering_right_and_wrong():
    truth = T.solution("discrepancy_ordering")
    assert truth[-1] == "uniform" and truth[0] in ("sobol", "halton")
    _passed(T.check_discrepancy_ordering(truth))
    _failed_with_hint(T.check_discrepancy_ordering(list(reversed(truth))))
    _failed_with_hint(T.check_discrepancy_ordering(["sobol", "lhs"]))
    _failed_with_hint(T.check_discrepancy_ordering(["sobol", "halton", "uniform", "lhs"]))


@pytest.mark.parametrize("scheme", ["uniform", "sobol"])
def test_mc_error_slope_right_and_wrong(scheme):
    _passed(T.check_mc_error_slope(T.solution("mc_error_slope")[scheme], scheme))
    _failed_with_hint(T.check_mc_error_slope(0.5, scheme))
    _failed_with_hint(T.check_mc_error_slope(-3.0, scheme))
    _failed_with_hint(T.check_mc_error_slope("fast", scheme))
    with pytest.raises(ValueError, match="scheme: unknown"):
        T.check_mc_error_slope(-0.5, "grid")


def test_mc_error_slope_solution_matches_a_measurement():
    """The reference slopes are what the integration study measures (smoke sizes, d = 4)."""
    df = zl.studies.integration_error(dim=4, ns=(16, 64, 256, 1024), seeds=range(5))
    slopes = zl.studies.loglog_slopes(df, "abs_error").set_index("scheme")["slope"]
    for scheme in ("uniform", "sobol"):
        assert T.check_mc_error_slope(slopes[scheme], scheme), (scheme, slopes[scheme])


# ----------------------------------------------------------------------------- estimators


def test_central_difference_right_and_wrong():
    _passed(T.check_central_difference(T.solution("central_difference")))

    def forward(f, x, mu):
        return np.array([(f(x + mu * e) - f(x)) / mu for e in np.eye(len(x))])

    def no_half(f, x, mu):
        return np.array([(f(x + mu * e) - f(x - mu * e)) / mu for e in np.eye(len(x))])

    def in_place(f, x, mu):
        g = np.empty_like(x)
        for i in range(len(x)):
            x[i] += mu
            up = f(x)
            x[i] -= mu
            g[i] = (up - f(x - mu * np.eye(len(x))[i])) / (2 * mu)
            x[i] += mu  # bug: forgets to restore x
        return g

    for wrong, word in ((forward, "forward"), (no_half, "2μ"), (in_place, None),
                        (lambda f, x, mu: np.zeros(len(x) + 1), None)):
        r = T.check_central_difference(wrong)
        _failed_with_hint(r)
        if word:
            assert word in r.hint


@pytest.mark.parametrize(("estimator", "d", "q"), [("gaussian", 50, 5), ("sphere", 50, 5),
                                                   ("coordinate", 10, 4)])
def test_variance_prediction_right_and_wrong(estimator, d, q):
    theory = T.solution("relative_mse")(estimator, d, q)
    _passed(T.check_variance_prediction(theory, d, q, estimator))
    _failed_with_hint(T.check_variance_prediction(1 / q, d, q, estimator))
    _failed_with_hint(T.check_variance_prediction(theory * 2, d, q, estimator))
    _failed_with_hint(T.check_variance_prediction(None, d, q, estimator))


def test_variance_prediction_theory_values_and_errors():
    assert T.relative_mse_theory("gaussian", 50, 5) == pytest.approx(51 / 5)
    assert T.relative_mse_theory("sphere", 50, 5) == pytest.approx(49 / 5)
    r = T.check_variance_prediction(49 / 5, 50, 5, "gaussian")
    assert not r and "sphere" in r.hint
    with pytest.raises(ValueError, match="estimator: unknown"):
        T.relative_mse_theory("magic", 3, 2)
    with pytest.raises(ValueError, match="q: coordinate uses at most"):
        T.relative_mse_theory("coordinate", 3, 5)
    with pytest.raises(ValueError, match="name: unknown exercise"):
        T.solution("nope")


def test_variance_measurement_right_and_wrong():
    d, q, n = 20, 5, 1000
    measured = T.solution("measure_relative_mse")("gaussian", d, q, n_trials=n, seed=3)
    _passed(T.check_variance_measurement(measured, d, q, "gaussian", n_trials=n))
    r = T.check_variance_measurement(np.sqrt(measured), d, q, "gaussian", n_trials=n)
    _failed_with_hint(r)
    assert "square" in r.hint
    _failed_with_hint(T.check_variance_measurement(measured / d, d, q, "gaussian", n_trials=n))
    _failed_with_hint(T.check_variance_measurement("x", d, q, "gaussian", n_trials=n))


# ----------------------------------------------------------------------------- generic


def test_check_value_right_and_wrong():
    _passed(T.check_value(10.1, 51 / 5, name="variance", rtol=0.02))
    _passed(T.check_value([1.0, 2.0], np.array([1.0, 2.0]), name="vector"))
    _failed_with_hint(T.check_value(5.0, 51 / 5, name="variance"))
    _failed_with_hint(T.check_value([1.0], np.array([1.0, 2.0]), name="vector"))
    _failed_with_hint(T.check_value("ten", 10.0, name="variance"))


def test_check_choice_right_and_wrong():
    opts = ("pso", "ga")
    _passed(T.check_choice("ga", "ga", name="which spreads more", options=opts))
    r = T.check_choice("pso", "ga", name="which spreads more", options=opts,
                       hints={"pso": "look at the box plot of the final values"})
    _failed_with_hint(r)
    assert "box plot" in r.hint
    _failed_with_hint(T.check_choice("cma", "ga", name="which spreads more", options=opts))


# ----------------------------------------------------------------------------- coupling (03)


def test_hybrid_rows_right_and_wrong():
    n, q = 16, 8
    _passed(T.check_hybrid_rows(T.solution("hybrid_step_rows")(n, q), n, q))
    _passed(T.check_hybrid_rows(n * (q + 1), n, q))
    for wrong, word in ((n * q, "forward pass"), (q + 1, "every rod"), (2 * n * q, "central"),
                        (3, "count"), ("many", "whole number")):
        r = T.check_hybrid_rows(wrong, n, q)
        _failed_with_hint(r)
        assert word in r.hint, (wrong, r.hint)
    with pytest.raises(ValueError, match="n, q: need positive integers"):
        T.hybrid_step_rows(0, 4)


def test_hybrid_rows_match_a_blackbox_count():
    """The answer is what BlackBox really runs: n forward rows + q per row in the backward pass."""
    torch = pytest.importorskip("torch")
    n, q, d = 5, 3, 4
    est = zl.estimators.make("gaussian", q=q, mu=1e-3, difference="forward")
    box = zl.BlackBox(lambda Z: np.sin(Z).sum(axis=1, keepdims=True), d, 1, estimator=est, seed=0)
    z = torch.rand(n, d, dtype=torch.float64, requires_grad=True)
    box(z).sum().backward()
    assert box.n_queries == T.hybrid_step_rows(n, q)


@pytest.mark.parametrize("quiz", sorted(T.QUIZZES))
def test_quizzes_right_and_wrong(quiz):
    qz = T.QUIZZES[quiz]
    _passed(T.check_quiz(quiz, T.solution(quiz)))
    assert "answer" not in qz  # answers are not readable from the public dict
    wrongs = [o for o in qz["options"] if o != T.solution(quiz)] if "options" in qz else [0.0, 2.0, "one"]
    for wrong in [*wrongs, None]:
        _failed_with_hint(T.check_quiz(quiz, wrong))
    with pytest.raises(ValueError, match="name: unknown quiz"):
        T.check_quiz("nope", 1)


def test_cv_prediction_right_and_wrong():
    d, q, rho = 20, 5, 0.3
    _passed(T.check_cv_prediction(T.solution("cv_relative_mse")(d, q, rho), d, q, rho))
    _passed(T.check_cv_prediction(21 / 5 * 0.09, d, q, rho))
    for wrong in [21 / 5, 21 / 5 * 0.3, 0.09, "big", None]:
        _failed_with_hint(T.check_cv_prediction(wrong, d, q, rho))
    with pytest.raises(ValueError, match="rho"):
        T.cv_relative_mse(d, q, -1.0)
    with pytest.raises(ValueError, match="q"):
        T.cv_relative_mse(d, 0, 0.3)


def test_cv_answers_in_numbers():
    """The theory matches a measured control-variate MSE; with p = f the estimate is exact."""
    cv = zl.studies.guided_cv_variance(dim=20, q=5, rhos=(0.3,), seeds=range(400))
    r = cv.iloc[0]
    assert abs(r.rel_mse - T.cv_relative_mse(20, 5, 0.3)) < 4 * r.se
    import zoo_lab.zo.guided  # noqa: F401  (registers the guided estimators)

    w = np.arange(1.0, 6.0)

    def f(X):
        return X @ torch.as_tensor(w, dtype=X.dtype) if torch.is_tensor(X) else X @ w

    g, _ = zl.estimators.make("control_variate", q=3, mu=1e-3, proxy=f).gradient(f, np.zeros(5), seed=0)
    assert np.allclose(g, w, rtol=1e-10, atol=1e-10)


def test_exact_vjp_answer_is_exact_in_numbers():
    """Coordinate central differences reproduce the exact VJP of the heat rod to O(μ²), at 2d rows."""
    torch = pytest.importorskip("torch")
    from zoo_lab.problems import heat

    assert T.solution("exact_vjp_estimator") == "coordinate central"
    rod = heat.HeatRod(n_cells=16, n_steps=20, t_final=0.5, n_snapshots=2)
    est = zl.estimators.make("coordinate", mu=1e-4, difference="central")
    box = zl.BlackBox(rod, rod.in_dim, rod.out_dim, estimator=est, seed=0)
    z = torch.full((1, rod.in_dim), 1.0, dtype=torch.float64, requires_grad=True)
    y = box(z)
    v = torch.ones_like(y)
    (y * v).sum().backward()
    exact = torch.autograd.functional.vjp(lambda k: heat.torch_twin(k, rod), z.detach(), v)[1]
    assert torch.allclose(z.grad, exact, rtol=1e-5, atol=1e-8)
    assert box.n_queries == 1 + 2 * rod.in_dim


# ----------------------------------------------------------------------------- low data (04)


def _low_data_df(data_medians, coupled=1.0):
    rows = []
    for n, d in data_medians.items():
        for s, jitter in enumerate((-0.01, 0.0, 0.01)):
            rows.append(dict(problem="p", n_labels=n, mode="data", seed=s, test_rmse=d + jitter))
            rows.append(dict(problem="p", n_labels=n, mode="coupled", seed=s, test_rmse=coupled + jitter))
    return pd.DataFrame(rows)


def test_catch_up_labels_from_the_table():
    df = _low_data_df({2: 3.0, 4: 2.0, 8: 1.05, 16: 0.9, 32: 1.0})
    assert T.catch_up_labels(df) == 8
    assert T.catch_up_labels(_low_data_df({2: 3.0, 4: 1.0, 8: 1.5})) == "never"  # must keep up
    assert T.catch_up_labels(_low_data_df({2: 0.5, 4: 0.5})) == 2
    _passed(T.check_catch_up(T.solution("catch_up_labels")(df), df))
    for wrong, word in ((4, "n = 4"), (16, "n = 8"), ("never", "n = 8"), (5, "pick one")):
        r = T.check_catch_up(wrong, df)
        _failed_with_hint(r)
        assert word in r.hint, (wrong, r.hint)
    never = _low_data_df({2: 3.0, 4: 1.0, 8: 1.5})
    _passed(T.check_catch_up("never", never))
    _failed_with_hint(T.check_catch_up(4, never))
    with pytest.raises(ValueError, match="df: needs rows of both modes"):
        T.catch_up_labels(df[df["mode"] == "data"])


# ----------------------------------------------------------------------------- proxies (05)


def _grid_df():
    rows = []
    for n, meds in ((16, {"uniform": 0.9, "lhs": 0.7, "sobol": 0.8}), (64, {"uniform": 0.1, "lhs": 0.3,
                                                                          "sobol": 0.2})):
        for scheme, m in meds.items():
            for s, jitter in enumerate((-0.05, 0.0, 0.05)):
                rows.append(dict(function="f", dim=2, scheme=scheme, n=n, seed=s, nrmse=m + jitter))
    return pd.DataFrame(rows)


def test_best_scheme_from_the_grid():
    df = _grid_df()
    assert T.best_scheme(df) == "lhs"  # at the smallest n only (uniform wins at n = 64)
    _passed(T.check_best_scheme(T.solution("best_scheme")(df), df))
    r = T.check_best_scheme("uniform", df)
    _failed_with_hint(r)
    assert "0.9" in r.hint and "0.7" in r.hint
    _failed_with_hint(T.check_best_scheme("halton", df))
    with pytest.raises(ValueError, match="df: needs columns"):
        T.best_scheme(df.drop(columns="nrmse"))


def test_best_scheme_on_a_real_grid():
    df = zl.studies.proxy_grid(functions=["sphere"], dims=[2], schemes=["uniform", "sobol"],
                               n_samples=[16, 32], seeds=[0], max_iter=20, n_test=256, n_starts=1)
    want = T.best_scheme(df)
    other = next(s for s in ("uniform", "sobol") if s != want)
    _passed(T.check_best_scheme(want, df))
    _failed_with_hint(T.check_best_scheme(other, df))


def test_mean_predictor_nrmse_is_one_in_numbers():
    f = zl.functions.get("rastrigin", 2)
    X = zl.sampling.sample("uniform", 4096, f.bounds, seed=0)
    y = f(X)
    assert np.sqrt(np.mean((y - y.mean()) ** 2)) / y.std() == pytest.approx(T.solution("mean_predictor_nrmse"))


# ----------------------------------------------------------------------------- stability (06)


def _stability_df(proxy_dist, true_dist, gaps=(-1.0, -2.0, 0.5)):
    rows = [dict(on="proxy", dist_to_opt=proxy_dist + i, proxy_gap=g) for i, g in enumerate(gaps)]
    rows += [dict(on="true", dist_to_opt=true_dist + i, proxy_gap=0.0) for i in range(3)]
    return pd.DataFrame(rows)


def test_closer_to_optimum_from_the_runs():
    far = _stability_df(proxy_dist=2.0, true_dist=0.1)
    near = _stability_df(proxy_dist=0.1, true_dist=2.0)
    assert T.closer_to_optimum(far) == "true" and T.closer_to_optimum(near) == "proxy"
    for df in (far, near):
        want = T.solution("closer_to_optimum")(df)
        _passed(T.check_closer_to_optimum(want, df))
        r = T.check_closer_to_optimum("proxy" if want == "true" else "true", df)
        _failed_with_hint(r)
        assert "median distance" in r.hint
    _failed_with_hint(T.check_closer_to_optimum("yes", far))
    with pytest.raises(ValueError, match="df: needs proxy and true runs"):
        T.closer_to_optimum(far[far["on"] == "proxy"])


def test_optimistic_share():
    df = _stability_df(1.0, 1.0)
    share = T.solution("optimistic_share")(df)
    assert share == pytest.approx(2 / 3)
    _passed(T.check_optimistic_share(share, df))
    for wrong, word in ((1 - share, "pessimistic"), (100 * share, "percentage"), (0.0, "mean of"),
                        ("most", "fraction")):
        r = T.check_optimistic_share(wrong, df)
        _failed_with_hint(r)
        assert word in r.hint, (wrong, r.hint)
    both = df.copy()
    both.loc[both["on"] == "true", "proxy_gap"] = -1.0  # true rows must not count
    r = T.check_optimistic_share(float((both["proxy_gap"] < 0).mean()), both)
    _failed_with_hint(r)
    assert "proxy runs only" in r.hint
    with pytest.raises(ValueError, match="df: needs proxy runs"):
        T.optimistic_share(df[df["on"] == "true"])


# ----------------------------------------------------------------------------- the notebooks' cells

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _namespace(key: str, solutions: bool) -> dict:
    """What the notebook's earlier cells define, small: the exercise cells run on it."""
    ns = dict(np=np, pd=pd, zl=zl, SMOKE=False, SOLUTIONS=solutions)
    ns.update({"02": dict(EX_TRIALS=200), "03": dict(N_TRAIN=16, Q=8),
               "04": dict(comb_df=_low_data_df({2: 3.0, 4: 2.0, 8: 1.05, 16: 0.9})),
               "05": dict(df=_grid_df()), "06": dict(df=_stability_df(2.0, 0.1))}.get(key, {}))
    return ns


def _run_cell(source: str, ns: dict) -> None:
    """Run a cell like IPython: its last expression is evaluated too."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), ns)
    if last is not None:
        eval(compile(ast.Expression(last.value), "<cell>", "eval"), ns)


@pytest.mark.parametrize("key", ["01", "02", "03", "04", "05", "06", "07"])
@pytest.mark.parametrize("solutions", [False, True], ids=["fresh", "solutions"])
def test_notebook_exercise_cells(key, solutions, monkeypatch, capsys):
    """As committed, every check of a notebook says "not yet" (and never raises); with
    SOLUTIONS = True every check passes. The cells run on small stand-in tables."""
    path = next(NOTEBOOKS.glob(f"{key}_*.ipynb"))
    cells = [c.source for c in nbformat.read(path, as_version=4).cells
             if c.cell_type == "code" and "zl.teaching.check" in c.source]
    assert len(cells) >= 2, f"{path.name}: needs 2-3 exercises, found {len(cells)}"
    results = []
    for name in T.__all__:
        if name.startswith("check_"):
            fn = getattr(T, name)
            monkeypatch.setattr(T, name, lambda *a, _fn=fn, **k: results.append(_fn(*a, **k)) or results[-1])
    ns = _namespace(key, solutions)
    for source in cells:
        before = len(results)
        _run_cell(source, ns)
        assert len(results) > before, f"{path.name}: a check cell ran no check:\n{source}"
    assert all(bool(r) == solutions for r in results), "\n".join(map(str, results))


def test_expected_answer_hidden_for_two_wrong_attempts_then_shown():
    from zoo_lab import teaching

    teaching.reset_attempts()
    blank = teaching.check_value(None, 576, name="rows")
    assert not blank and blank.attempt == 0 and "576" not in str(blank) and "576" not in blank._repr_html_()
    first = teaching.check_value(500, 576, name="rows", hint="count the forward rows")
    second = teaching.check_value(501, 576, name="rows", hint="count the forward rows")
    for r, n in ((first, 1), (second, 2)):
        assert not r and r.attempt == n and not r.revealed
        assert "576" not in str(r) and "576" not in r._repr_html_() and "forward rows" in str(r)
    third = teaching.check_value(502, 576, name="rows")
    assert third.attempt == 3 and third.revealed and "576" in str(third) and "576" in third._repr_html_()
    assert teaching.check_value(576, 576, name="rows").revealed  # a right answer shows it
    teaching.reset_attempts("rows")
    assert "576" not in str(teaching.check_value(500, 576, name="rows"))


def test_more_hint_comes_from_the_second_attempt():
    from zoo_lab import teaching

    teaching.reset_attempts()
    mk = lambda: teaching.Result("q", False, "42", "41", "first hint", "second hint")  # noqa: E731
    one, two = mk(), mk()
    assert "first hint" in str(one) and "second hint" not in str(one)
    assert "first hint" in str(two) and "second hint" in str(two) and "second hint" in two._repr_html_()


def test_no_public_dict_holds_quiz_answers():
    for key, qz in T.QUIZZES.items():
        assert "answer" not in qz, key
        assert T.check_quiz(key, T.solution(key))


def test_variance_prediction_rejects_the_wrong_law_d_over_q():
    """02 Ex2: d = 50, q = 5, Gaussian: (d + 1)/q = 10.2 passes, d/q = 10 and (d − 1)/q = 9.8 fail."""
    assert T.check_variance_prediction(10.2, d=50, q=5, estimator="gaussian")
    for wrong in (10.0, 9.8, 1 / 5):
        r = T.check_variance_prediction(wrong, d=50, q=5, estimator="gaussian")
        _failed_with_hint(r)
    assert "d/q" in T.check_variance_prediction(10.0, d=50, q=5).hint
    # at larger d the laws are closer than any fixed tolerance: the nearest law decides
    assert T.check_variance_prediction(201 / 5, d=200, q=5)
    assert not T.check_variance_prediction(200 / 5 + 0.01, d=200, q=5)


def test_sobol_slope_rejects_the_unscrambled_rate():
    """01 Ex3: a Sobol slope of -1 (plain QMC's n^-1) is the wrong law for scrambled Sobol."""
    _failed_with_hint(T.check_mc_error_slope(-1.0, "sobol"))
    _failed_with_hint(T.check_mc_error_slope(-0.5, "sobol"))
    _failed_with_hint(T.check_mc_error_slope(-1.0, "uniform"))
    assert T.check_mc_error_slope(-1.5, "sobol")


# ----------------------------------------------------------------------------- coding exercises

from zoo_lab.teaching import exercises as EX  # noqa: E402


@pytest.mark.parametrize("key", T.exercise_names())
def test_coding_exercise_reference_passes_and_mistakes_fail(key):
    """Each registered exercise: its reference passes, a fresh stub and every known wrong law fail."""
    T.reset_attempts()
    ex = EX._EXERCISES[key]
    _passed(T.check_code(key, T.solution(key)))

    def stub(*args):
        raise NotImplementedError

    r = T.check_code(key, stub)
    _failed_with_hint(r)
    assert r.got == "not implemented yet" and r.attempt == 0
    assert ex.mistakes, f"{key}: name at least one wrong law"
    for wrong, hint in ex.mistakes.items():
        r = T.check_code(key, wrong)
        _failed_with_hint(r)
        assert r.hint == hint, (key, wrong.__name__, r.hint)
    src = T.solution_source(key)
    assert src.startswith(f"def {ex.stub}(") and "coding_exercise" not in src
    assert not T.check_code(key, lambda *a: 0.0)
    assert not T.check_code(key, 42)


def test_check_code_reports_crashes_shapes_and_in_place_writes():
    T.reset_attempts()
    r = T.check_code("03.vjp_row", lambda program, z, v, U, mu: 1 / 0)
    _failed_with_hint(r)
    assert "ZeroDivisionError" in r.got

    def writes(program, z, v, U, mu):
        g = T.solution("03.vjp_row")(program, z, v, U, mu)
        z += 1.0
        return g

    r = T.check_code("03.vjp_row", writes)
    assert not r and "changed its input" in r.got
    r = T.check_code("03.weight_grad", lambda S, G: S.T @ G)
    assert not r and "shape" in r.hint
    with pytest.raises(ValueError, match="key: unknown coding exercise"):
        T.check_code("99.nope", print)


def test_expected_output_of_a_coding_exercise_shown_only_from_the_third_wrong_attempt():
    T.reset_attempts()
    ref = T.solution("04.data_loss")
    wrong = [T.check_code("04.data_loss", lambda p, y, dy, k=k: ref(p, y, dy) + k) for k in (1, 2, 3)]
    want = wrong[0].expected.split(" on ")[0]
    assert want not in str(wrong[0]) and want not in str(wrong[1]) and want in str(wrong[2])


def test_show_solution_prints_the_reference_source(capsys):
    T.show_solution("03.vjp_row")
    out = capsys.readouterr().out
    assert "def my_vjp_row(" in out and "program(" in out
    T.show_solution("lhs")
    assert "rng.permutation" in capsys.readouterr().out
    T.show_solution("exact_vjp_estimator")
    assert "coordinate central" in capsys.readouterr().out


def test_vjp_row_reference_is_exact_for_a_linear_program_with_scaled_axes():
    """With U = √d·I (q = d) the Gaussian formula gives vᵀA exactly for F(z) = Az."""
    rng = np.random.default_rng(0)
    A, v, z = rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal(4)
    got = T.solution("03.vjp_row")(lambda Z: Z @ A.T, z, v, 2.0 * np.eye(4), 1e-3)
    assert np.allclose(got, v @ A, rtol=1e-8)


def test_vjp_row_reference_matches_the_blackbox_on_average():
    """Averaged over many directions, one row's estimate is vᵀJ of the program (the twin's VJP)."""
    from zoo_lab.knowledge import heat

    rod = heat.HeatRod(n_cells=16, n_steps=20, t_final=0.5, n_snapshots=2)
    rng = np.random.default_rng(1)
    z = rng.uniform(rod.bounds[:, 0], rod.bounds[:, 1])
    v = rng.standard_normal(rod.out_dim)
    exact = torch.autograd.functional.vjp(lambda k: heat.torch_twin(k, rod), torch.as_tensor(z[None]),
                                          torch.as_tensor(v[None]))[1].numpy()[0]
    got = T.solution("03.vjp_row")(rod, z, v, rng.standard_normal((4000, rod.in_dim)), 1e-5)
    cos = got @ exact / np.linalg.norm(got) / np.linalg.norm(exact)
    assert cos > 0.99, cos


def test_weight_grad_reference_matches_autograd():
    rng = np.random.default_rng(2)
    S, G = rng.standard_normal((7, 5)), rng.standard_normal((7, 3))
    W = torch.zeros(3, 5, dtype=torch.float64, requires_grad=True)
    (torch.as_tensor(S) @ W.T * torch.as_tensor(G)).sum().backward()
    assert np.allclose(T.solution("03.weight_grad")(S, G), W.grad.numpy())


def test_gaussian_estimate_reference_is_unbiased_on_a_linear_function():
    rng = np.random.default_rng(3)
    a = rng.standard_normal(6)
    g = T.solution("02.gaussian_estimate")(lambda X: X @ a, np.zeros(6), rng.standard_normal((40000, 6)), 1.0)
    assert np.allclose(g, a, atol=0.1)


def test_knowledge_loss_reference_matches_the_study_problem():
    """The exercise's loss is the combustion problem's knowledge loss (same formula, scale 100 K)."""
    comb = pytest.importorskip("zoo_lab.studies").combustion_problem()
    phi, T_t = np.array([0.6, 0.8, 0.95]), np.array([1600.0, 1900.0, 2100.0])
    out = torch.as_tensor(comb.program(phi[:, None]))
    want = comb.knowledge_loss(out, torch.as_tensor(T_t)[:, None]).mean().item()
    assert T.solution("04.knowledge_loss")(comb.program, phi, T_t, 100.0) == pytest.approx(want)


def test_smoke_banner_only_under_smoke():
    assert T.smoke_banner(False) is None
    b = T.smoke_banner(True, "too few steps")
    assert "SMOKE: numbers are not results" in repr(b) and "too few steps" in b._repr_html_()
