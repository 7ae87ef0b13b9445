"""BlackBox: ZO vector-Jacobian products, training through it, executors, cache, failures."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
import torch

import zoo_lab as zl
from zoo_lab.coupling.evaluation import EvaluationCache, ProgramError

B = np.array([[1.0, -2.0, 0.5], [0.3, 0.0, 2.0]])


def smooth_program(X):
    """(m, 3) -> (m, 2): a quadratic form and a sine of a linear map (numpy only)."""
    return np.column_stack([X[:, 0] ** 2 + X[:, 0] * X[:, 1] - X[:, 2] ** 3, np.sin(X @ B[1])])


def smooth_torch(Z):
    b1 = torch.tensor(B[1], dtype=Z.dtype)
    return torch.stack([Z[:, 0] ** 2 + Z[:, 0] * Z[:, 1] - Z[:, 2] ** 3, torch.sin(Z @ b1)], 1)


def sum_squares(X):
    return (X**2).sum(axis=1, keepdims=True)


def _vjp(box, z, v):
    z = z.clone().requires_grad_(True)
    (box(z) * v).sum().backward()
    return z.grad


def test_vjp_matches_analytic_jacobian_coordinate_central():
    est = zl.estimators.make("coordinate", mu=1e-5, difference="central")
    box = zl.BlackBox(smooth_program, 3, 2, estimator=est, name="smooth")
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(5, 3, dtype=torch.float64, generator=gen)
    v = torch.randn(5, 2, dtype=torch.float64, generator=gen)
    exact = torch.autograd.functional.vjp(smooth_torch, z, v)[1]
    torch.testing.assert_close(_vjp(box, z, v), exact, atol=1e-5, rtol=0)
    # central coordinate: 2d rows per input row in backward, plus the forward rows
    assert box.n_queries == 5 + 5 * 2 * 3


def test_forward_is_exact_and_keeps_dtype_device():
    box = zl.BlackBox(smooth_program, 3, 2)
    z = torch.randn(4, 3, dtype=torch.float32)
    y = box(z)
    assert y.dtype == torch.float32 and y.device == z.device
    np.testing.assert_allclose(y.numpy(), smooth_program(z.double().numpy()).astype(np.float32))


def test_forward_difference_reuses_forward_value():
    calls = []

    def prog(X):
        calls.append(len(X))
        return sum_squares(X)

    est = zl.estimators.make("gaussian", q=6, mu=1e-4)
    box = zl.BlackBox(prog, 4, 1, estimator=est, seed=0)
    z = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    box(z).sum().backward()
    assert calls == [3, 3 * 6]  # one batch forward, one batch for all perturbations
    assert box.n_queries == 3 + 18


def test_random_direction_vjp_is_unbiased_on_average():
    """Mean of many gaussian VJP estimates approaches the exact VJP (std error from the samples)."""
    est = zl.estimators.make("gaussian", q=20, mu=1e-6)
    box = zl.BlackBox(smooth_program, 3, 2, estimator=est, seed=1)
    z = torch.tensor([[0.2, -0.4, 0.7]], dtype=torch.float64)
    v = torch.tensor([[1.0, -0.5]], dtype=torch.float64)
    draws = torch.stack([_vjp(box, z, v)[0] for _ in range(400)])
    exact = torch.autograd.functional.vjp(smooth_torch, z, v)[1][0]
    sem = draws.std(0) / np.sqrt(len(draws))
    assert torch.all((draws.mean(0) - exact).abs() < 4 * sem + 1e-6)


def test_seed_reproduces_gradients():
    est = zl.estimators.make("sphere", q=4, mu=1e-4)
    z = torch.randn(3, 3, dtype=torch.float64)
    v = torch.ones(3, 2, dtype=torch.float64)
    g1 = _vjp(zl.BlackBox(smooth_program, 3, 2, estimator=est, seed=7), z, v)
    g2 = _vjp(zl.BlackBox(smooth_program, 3, 2, estimator=est, seed=7), z, v)
    g3 = _vjp(zl.BlackBox(smooth_program, 3, 2, estimator=est, seed=8), z, v)
    torch.testing.assert_close(g1, g2, rtol=0, atol=0)
    assert not torch.equal(g1, g3)


def test_training_through_blackbox_reduces_loss():
    """A linear layer learns to map inputs to targets of a program it cannot differentiate."""
    torch.manual_seed(0)
    target_w = torch.tensor([[0.5, -1.0, 0.25]], dtype=torch.float64)
    x = torch.linspace(-1, 1, 16, dtype=torch.float64)[:, None]
    target = sum_squares((x @ target_w).numpy())
    net = torch.nn.Linear(1, 3, dtype=torch.float64)
    box = zl.BlackBox(sum_squares, 3, 1, estimator=zl.estimators.make("gaussian", q=6, mu=1e-4), seed=0)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    t = torch.as_tensor(target)
    losses = []
    for _ in range(300):
        opt.zero_grad()
        loss = ((box(net(x)) - t) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 100


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_executor_results_equal_serial(kind):
    pool = ThreadPoolExecutor(2) if kind == "thread" else ProcessPoolExecutor(2)
    est = zl.estimators.make("gaussian", q=5, mu=1e-4)
    z = torch.randn(6, 3, dtype=torch.float64)
    v = torch.randn(6, 2, dtype=torch.float64)
    with pool:
        par = zl.BlackBox(smooth_program, 3, 2, estimator=est, executor=pool, seed=3, chunk_size=7)
        g_par, y_par = _vjp(par, z, v), par(z)
    ser = zl.BlackBox(smooth_program, 3, 2, estimator=est, seed=3)
    g_ser, y_ser = _vjp(ser, z, v), ser(z)
    torch.testing.assert_close(g_par, g_ser, rtol=0, atol=0)
    torch.testing.assert_close(y_par, y_ser, rtol=0, atol=0)
    assert par.stats.n_calls > ser.stats.n_calls  # it really was split


def test_dask_executor_equals_serial():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        ex = client.get_executor()
        box = zl.BlackBox(smooth_program, 3, 2, executor=ex, seed=0, chunk_size=4)
        z = torch.randn(5, 3, dtype=torch.float64)
        v = torch.ones(5, 2, dtype=torch.float64)
        g = _vjp(box, z, v)
    ref = _vjp(zl.BlackBox(smooth_program, 3, 2, seed=0), z, v)
    torch.testing.assert_close(g, ref, rtol=0, atol=0)


def test_cache_second_run_runs_program_zero_times(tmp_path):
    db = tmp_path / "evals.sqlite"
    z = torch.randn(4, 3, dtype=torch.float64)
    v = torch.ones(4, 2, dtype=torch.float64)
    first = zl.BlackBox(smooth_program, 3, 2, cache=db, seed=5, name="smooth")
    g1 = _vjp(first, z, v)
    assert first.n_queries > 0 and first.n_cache_hits == 0
    second = zl.BlackBox(smooth_program, 3, 2, cache=db, seed=5, name="smooth")
    g2 = _vjp(second, z, v)
    assert second.n_queries == 0 and second.n_cache_hits == first.n_queries
    torch.testing.assert_close(g1, g2, rtol=0, atol=0)
    # a different program name shares nothing
    other = zl.BlackBox(smooth_program, 3, 2, cache=db, seed=5, name="other")
    other(z)
    assert other.n_queries == 4


def test_cache_concurrent_readers(tmp_path):
    db = tmp_path / "evals.sqlite"
    X = np.random.default_rng(0).random((50, 3))
    ev = zl.evaluation.Evaluator(sum_squares, 3, 1, cache=db, name="sq")
    ev(X)
    cache = EvaluationCache(db)
    assert cache.programs() == {"sq": ev.fingerprint}

    def read(_):
        vals, hit = cache.get(ev.fingerprint, X, 1)
        return hit.all() and np.allclose(vals, sum_squares(X))

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(read, range(16)))


CRASHING = textwrap.dedent("""
    import os, sys
    import numpy as np
    from zoo_lab.coupling.evaluation import Evaluator
    log, db = sys.argv[1], sys.argv[2]
    def prog(X):
        with open(log, "a") as fh:
            fh.write(f"{X[0, 0]}\\n")
        if X[0, 0] == 5.0 and os.environ.get("CRASH"):
            os._exit(9)  # the process dies mid-batch, as a killed job would
        return X.sum(axis=1, keepdims=True)
    ev = Evaluator(prog, 2, 1, cache=db, name="crashy", chunk_size=1)
    Y = ev(np.column_stack([np.arange(10.0), np.ones(10)]))
    print(ev.stats.n_queries, ev.stats.n_cache_hits, Y.ravel().tolist())
""")


def test_crash_mid_batch_loses_nothing_and_reruns_nothing(tmp_path):
    script, log, db = tmp_path / "job.py", tmp_path / "calls.log", tmp_path / "c.sqlite"
    script.write_text(CRASHING)
    env = {**os.environ, "CRASH": "1"}
    r = subprocess.run([sys.executable, str(script), str(log), str(db)], env=env, capture_output=True)
    assert r.returncode == 9
    assert log.read_text().split() == [f"{i}.0" for i in range(6)]  # rows 0..4 done, 5 crashed
    env.pop("CRASH")
    r = subprocess.run([sys.executable, str(script), str(log), str(db)], env=env,
                       capture_output=True, text=True, check=True)
    n_queries, hits, *_ = r.stdout.split(" ", 2)
    assert (int(n_queries), int(hits)) == (5, 5)
    calls = log.read_text().split()
    assert calls[6:] == [f"{i}.0" for i in range(5, 10)]  # only the unfinished rows re-ran


def failing_program(X):
    if np.any(X[:, 0] > 0.5):
        raise RuntimeError("solver diverged")
    return sum_squares(X)


def nan_program(X):
    out = sum_squares(X)
    out[X[:, 1] < 0] = np.nan
    return out


def slow_program(X):
    time.sleep(2.0)
    return sum_squares(X)


def test_raise_names_row_program_and_cause():
    box = zl.BlackBox(failing_program, 2, 1, name="solver")
    z = torch.tensor([[0.1, 0.0], [0.2, 0.0], [0.9, 1.0]], dtype=torch.float64)
    with pytest.raises(ProgramError, match=r"program 'solver' raised RuntimeError: solver diverged "
                                           r"on input row 2: x = \[0.9, 1.0\]") as info:
        box(z)
    assert isinstance(info.value.__cause__, RuntimeError) and info.value.row == 2


def test_nan_output_raises_naming_input():
    box = zl.BlackBox(nan_program, 2, 1, name="nanny")
    with pytest.raises(ProgramError, match=r"'nanny' returned a non-finite value \[nan\] on input row 1"):
        box(torch.tensor([[0.1, 0.5], [0.2, -1.0]], dtype=torch.float64))


def test_wrong_shape_raises():
    box = zl.BlackBox(lambda X: np.zeros((len(X), 3)), 2, 1, name="wide")
    with pytest.raises(ProgramError, match=r"wrong shape \(2, 3\).*expected \(2, 1\)"):
        box(torch.zeros(2, 2, dtype=torch.float64))


def test_timeout_raises():
    box = zl.BlackBox(slow_program, 2, 1, name="slow", timeout=0.2)
    with pytest.raises(ProgramError, match="'slow' timed out after 0.2 s") as info:
        box(torch.zeros(1, 2, dtype=torch.float64))
    assert info.value.__cause__ is not None


def test_on_failure_nan_masks_rows_and_counts():
    box = zl.BlackBox(failing_program, 2, 1, on_failure="nan", seed=0,
                      estimator=zl.estimators.make("coordinate", mu=1e-6, difference="central"))
    z = torch.tensor([[0.1, 0.2], [0.9, 0.0], [0.3, -0.1]], dtype=torch.float64, requires_grad=True)
    y = box(z)
    assert torch.isnan(y[1]).all() and box.last_valid.tolist() == [True, False, True]
    assert box.n_failed == 1
    y[box.last_valid].sum().backward()
    torch.testing.assert_close(z.grad[[0, 2]], 2 * z.detach()[[0, 2]], atol=1e-6, rtol=0)
    assert torch.equal(z.grad[1], torch.zeros(2, dtype=torch.float64))


def test_argument_errors():
    with pytest.raises(TypeError, match="program: expected a callable"):
        zl.BlackBox(42, 2, 1)
    with pytest.raises(ValueError, match="in_dim: expected an int >= 1, got 0"):
        zl.BlackBox(sum_squares, 0, 1)
    with pytest.raises(ValueError, match="on_failure: got 'skip'; allowed: raise, nan"):
        zl.BlackBox(sum_squares, 2, 1, on_failure="skip")
    with pytest.raises(TypeError, match="estimator: expected"):
        zl.BlackBox(sum_squares, 2, 1, estimator="gaussian")
    with pytest.raises(TypeError, match="executor: expected a concurrent.futures.Executor"):
        zl.BlackBox(sum_squares, 2, 1, executor=object())
    box = zl.BlackBox(sum_squares, 2, 1)
    with pytest.raises(ValueError, match=r"z: expected shape \(batch, 2\)"):
        box(torch.zeros(3, 4))
    with pytest.raises(TypeError, match="z: expected a torch.Tensor"):
        box(np.zeros((3, 2)))


def test_grad_dims_holds_context_columns_fixed():
    est = zl.estimators.make("coordinate", mu=1e-5, difference="central")
    box = zl.BlackBox(smooth_program, 3, 2, estimator=est, grad_dims=[0, 2])
    z = torch.randn(4, 3, dtype=torch.float64)
    v = torch.randn(4, 2, dtype=torch.float64)
    exact = torch.autograd.functional.vjp(smooth_torch, z, v)[1]
    g = _vjp(box, z, v)
    torch.testing.assert_close(g[:, [0, 2]], exact[:, [0, 2]], atol=1e-5, rtol=0)
    assert torch.equal(g[:, 1], torch.zeros(4, dtype=torch.float64))
    assert box.n_queries == 4 + 4 * 2 * 2  # two perturbed columns, central
    with pytest.raises(ValueError, match=r"grad_dims: expected indices in \[0, 3\)"):
        zl.BlackBox(smooth_program, 3, 2, grad_dims=[3])


def test_vjp_method_returns_gradient_and_backward_cost():
    est = zl.estimators.make("coordinate", mu=1e-5, difference="central")
    box = zl.BlackBox(smooth_program, 3, 2, estimator=est)
    z = torch.randn(3, 3, dtype=torch.float64)
    v = torch.randn(3, 2, dtype=torch.float64)
    g, cost = box.vjp(z, v)
    torch.testing.assert_close(g, torch.autograd.functional.vjp(smooth_torch, z, v)[1], atol=1e-5, rtol=0)
    assert cost == 3 * 2 * 3 and box.n_queries == 3 + cost


# -- issue 15: default estimator, counters, bounds, set-up hook, whole batches ---------------
def test_auto_estimator_is_coordinate_for_few_inputs_and_repr_shows_rows():
    box = zl.BlackBox(smooth_program, 3, 2)
    assert isinstance(box.estimator, zl.estimators.Coordinate)
    assert "program rows per input row: 1 forward + 3 backward" in repr(box)
    z = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    v = torch.randn(4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    exact = torch.autograd.functional.vjp(smooth_torch, z, v)[1]
    g = _vjp(box, z, v)
    assert box.n_rows == 4 + 4 * 3  # forward + d rows per row
    torch.testing.assert_close(g, exact, atol=2e-2, rtol=0)  # forward difference, mu = 1e-3
    wide = zl.BlackBox(sum_squares, 12, 1)
    assert isinstance(wide.estimator, zl.estimators.Gaussian) and wide.estimator.q == 10
    assert "1 forward + 10 backward" in repr(wide)
    few = zl.BlackBox(sum_squares, 12, 1, grad_dims=[0, 5])
    assert isinstance(few.estimator, zl.estimators.Coordinate)
    assert "1 forward + 2 backward" in repr(few)


def test_counters_have_their_documented_names():
    calls = []

    def prog(X):
        calls.append(len(X))
        return sum_squares(X)

    box = zl.BlackBox(prog, 3, 1, name="counted", chunk_size=2)
    box.evaluate(np.ones((5, 3)))
    assert calls == [2, 2, 1]
    assert (box.n_calls, box.n_rows, box.n_queries) == (3, 5, 5)
    assert (box.stats.n_calls, box.stats.n_rows, box.stats.n_queries) == (3, 5, 5)


def test_bounds_clip_runs_inside_and_zeroes_clipped_gradients():
    seen = []

    def prog(X):
        seen.append(X.copy())
        return sum_squares(X)

    bounds = np.array([[0.0, 1.0], [0.0, 1.0]])
    box = zl.BlackBox(prog, 2, 1, bounds=bounds, name="boxed",
                      estimator=zl.estimators.make("coordinate", mu=1e-4, difference="central"))
    z = torch.tensor([[0.5, 1.5], [-0.2, 0.3]], dtype=torch.float64, requires_grad=True)
    y = box(z)
    torch.testing.assert_close(y[:, 0], torch.tensor([0.25 + 1.0, 0.09], dtype=torch.float64))
    y.sum().backward()
    every = np.concatenate(seen)
    assert every.min() >= 0.0 and every.max() <= 1.0  # perturbed points stayed inside too
    torch.testing.assert_close(z.grad, torch.tensor([[1.0, 0.0], [0.0, 0.6]], dtype=torch.float64),
                               atol=1e-6, rtol=0)
    strict = zl.BlackBox(prog, 2, 1, bounds=bounds, bounds_policy="raise", name="strict")
    with pytest.raises(ValueError, match=r"z: row 0, column 1 = 1.5 is outside bounds \[0.0, 1.0\]"):
        strict(z)
    with pytest.raises(ValueError, match="bounds_policy: got 'wrap'; allowed: clip, raise"):
        zl.BlackBox(prog, 2, 1, bounds=bounds, bounds_policy="wrap")
    with pytest.raises(ValueError, match=r"bounds: expected a finite array of shape \(2, 2\)"):
        zl.BlackBox(prog, 2, 1, bounds=[[1.0, 0.0], [0.0, 1.0]])


def record_setup():
    """Set-up hook for the tests: log this process's pid."""
    with open(os.environ["ZOO_SETUP_LOG"], "a") as fh:
        fh.write(f"{os.getpid()}\n")


def test_setup_hook_runs_once_per_worker(tmp_path, monkeypatch):
    log = tmp_path / "setup.log"
    monkeypatch.setenv("ZOO_SETUP_LOG", str(log))
    with ProcessPoolExecutor(2) as pool:
        box = zl.BlackBox(sum_squares, 3, 1, executor=pool, setup=record_setup, chunk_size=2)
        for _ in range(3):
            box.evaluate(np.random.default_rng(0).random((8, 3)))
    pids = log.read_text().split()
    assert 1 <= len(pids) <= 2 and len(set(pids)) == len(pids)  # once per worker process
    log.unlink()
    serial = zl.BlackBox(sum_squares, 3, 1, setup=record_setup, name="serial_setup")
    for _ in range(3):
        serial.evaluate(np.ones((2, 3)))
    assert log.read_text().split() == [str(os.getpid())]


def test_split_batches_false_sends_each_batch_whole():
    with ThreadPoolExecutor(2) as pool:
        box = zl.BlackBox(sum_squares, 3, 1, executor=pool, split_batches=False, seed=0)
        z = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
        box(z).sum().backward()
        split = zl.BlackBox(sum_squares, 3, 1, executor=pool, seed=0)
        z2 = z.detach().clone().requires_grad_(True)
        split(z2).sum().backward()
    assert box.n_calls == 2 and box.n_rows == 6 + 6 * 3  # one forward call, one backward call
    assert split.n_calls == 4
    torch.testing.assert_close(z.grad, z2.grad, rtol=0, atol=0)
    with pytest.raises(ValueError, match="chunk_size=3 with split_batches=False"):
        zl.BlackBox(sum_squares, 3, 1, split_batches=False, chunk_size=3)
