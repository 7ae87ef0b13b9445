"""Faults of the evaluation engine (issue 12): one section per numbered item.

1 cache fingerprints, 2 timeouts that stop the program, 3 executor faults,
4 crash safety, 5 errors that name the thing, 6 the coercions checked in the engine's
own files, 7 CLI errors. Programs are tiny; timeouts short; time is only bounded
generously, to show that a 30 s program was really stopped.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo_lab as zl
from zoo_lab import cli
from zoo_lab.coupling.evaluation import (
    CacheError,
    EvaluationCache,
    Evaluator,
    ExecutorError,
    FingerprintMismatch,
    ProgramError,
)
from zoo_lab.problems import Command, CommandError, FlameTemperature, HeatRod
from zoo_lab.studies import engine

PY = sys.executable


def total(X):
    return X.sum(axis=1, keepdims=True)


def _alive(pid: int) -> bool:
    """True if ``pid`` runs (zombies count as gone: they no longer compute anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        import psutil

        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except Exception:  # noqa: BLE001 - without psutil: kill(0) said it exists
        return True


def _wait_file(path: Path, seconds: float = 20.0) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise AssertionError(f"{path} was never written")


# -- 1. cache key = fingerprint of the program ---------------------------------------------
def test_1_two_lambdas_need_a_name_and_never_share(tmp_path):
    db = tmp_path / "c.sqlite"
    with pytest.raises(ValueError, match=r"name: program '.*<lambda>' has no stable identity"):
        Evaluator(lambda X: X[:, :1], 2, 1, cache=db)
    X = np.array([[1.0, 2.0]])
    a = Evaluator(lambda X: X[:, :1], 2, 1, cache=db, name="first")(X)
    b = Evaluator(lambda X: X[:, 1:], 2, 1, cache=db, name="second")(X)
    assert (a[0, 0], b[0, 0]) == (1.0, 2.0)


def test_1_heat_rod_configurations_do_not_mix(tmp_path):
    db = tmp_path / "c.sqlite"
    k = np.full((1, 4), 1.0)
    slow, fast = HeatRod(), HeatRod(t_final=0.05)
    Evaluator(slow, 4, slow.out_dim, cache=db)(k)
    with pytest.raises(FingerprintMismatch) as info:
        Evaluator(fast, 4, fast.out_dim, cache=db)
    msg = str(info.value)
    first = Evaluator(slow, 4, slow.out_dim).fingerprint
    second = Evaluator(fast, 4, fast.out_dim).fingerprint
    assert first != second and first in msg and second in msg and str(db) in msg
    assert "t_final" in msg
    # under its own name the other configuration gets its own values, not the cached ones
    ev = Evaluator(fast, 4, fast.out_dim, cache=db, name="heat_rod_short")
    np.testing.assert_array_equal(ev(k), fast(k))
    assert ev.stats.n_cache_hits == 0


def test_1_flame_and_version_change_the_fingerprint(tmp_path):
    prints = {Evaluator(p, 1, 1).fingerprint for p in (FlameTemperature(), FlameTemperature(T0=700))}
    assert len(prints) == 2
    assert Evaluator(total, 2, 1).fingerprint != Evaluator(total, 2, 1, version=2).fingerprint
    assert Evaluator(total, 2, 1).fingerprint == Evaluator(total, 2, 1).fingerprint


@settings(max_examples=30, deadline=None)
@given(a=st.floats(0.01, 1.0), b=st.floats(0.01, 1.0), cells=st.sampled_from([16, 32, 64]))
def test_1_fingerprint_changes_exactly_when_the_configuration_does(a, b, cells):
    def fp(t):
        rod = HeatRod(t_final=t, n_cells=cells)
        return Evaluator(rod, rod.in_dim, rod.out_dim).fingerprint

    assert (fp(a) == fp(b)) == (a == b)
    assert fp(a) == fp(a)


def test_1_commands_with_the_same_last_word_do_not_share(tmp_path):
    db = tmp_path / "c.sqlite"
    cmds = []
    for sub, value in (("a", 1.0), ("b", 2.0)):
        (tmp_path / sub).mkdir()
        script = tmp_path / sub / "prog.py"
        script.write_text(f"import sys\nfor _ in sys.stdin: print({value!r})\n")
        cmds.append(Command([PY, str(script)], in_dim=1))
    assert cmds[0].name != cmds[1].name
    X = np.array([[0.5]])
    values = [Evaluator(c, 1, 1, cache=db)(X)[0, 0] for c in cmds]
    assert values == [1.0, 2.0]


# -- 2. timeouts stop the program ---------------------------------------------------------
def sleeper(X):
    """Write this process's pid beside the log named by ZOO_FAULT_PID, then sleep 30 s."""
    Path(os.environ["ZOO_FAULT_PID"]).write_text(str(os.getpid()))
    time.sleep(30)
    return total(X)


def slow_first_row(X):
    if np.any(X[:, 0] < 0):
        time.sleep(30)
    return total(X)


def test_2_python_program_is_killed_on_timeout(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_FAULT_PID", str(tmp_path / "pid"))
    ev = Evaluator(sleeper, 2, 1, timeout=0.5, name="sleeper")
    t0 = time.monotonic()
    with pytest.raises(ProgramError, match="timed out after 0.5 s"):
        ev(np.zeros((1, 2)))
    assert time.monotonic() - t0 < 20  # not the 30 s of the program
    assert not _alive(int((tmp_path / "pid").read_text()))
    assert ev.stats.n_timeouts == 1


def test_2_command_timeout_kills_its_process_group(tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    script = f"sleep 30 & echo $! > {pidfile}; wait"
    cmd = Command(["sh", "-c", script], in_dim=1, timeout=0.5)
    t0 = time.monotonic()
    with pytest.raises(CommandError, match="timed out after 0.5 s"):
        cmd(np.zeros((1, 1)))
    assert time.monotonic() - t0 < 20
    time.sleep(0.2)
    assert not _alive(int(_wait_file(pidfile)))


@pytest.mark.parametrize("pool", [None, "thread", "process"])
def test_2_rows_queued_behind_a_stuck_one_still_run(pool):
    ex = {None: None, "thread": ThreadPoolExecutor, "process": ProcessPoolExecutor}[pool]
    ex = ex(1) if ex else None
    X = np.array([[-1.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    ev = Evaluator(slow_first_row, 2, 1, timeout=1.0, chunk_size=1, on_failure="nan",
                   executor=ex, name="stuck")
    t0 = time.monotonic()
    Y = ev(X)
    assert time.monotonic() - t0 < 20
    assert np.isnan(Y[0, 0]) and Y[1:, 0].tolist() == [2.0, 4.0]
    assert ev.stats.n_failed == 1
    if ex:
        ex.shutdown()


CTRL_C = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from pathlib import Path
    from zoo_lab.coupling.evaluation import Evaluator
    def prog(X):
        Path(sys.argv[1]).write_text(str(os.getpid()))
        time.sleep(30)
        return X
    Evaluator(prog, 1, 1, timeout=60, name="sleepy")(np.zeros((1, 1)))
""")


def test_2_ctrl_c_stops_the_program_and_the_process_exits(tmp_path):
    script, pidfile = tmp_path / "job.py", tmp_path / "pid"
    script.write_text(CTRL_C)
    env = {**os.environ, "PYTHONPATH": str(Path(zl.__file__).parent.parent)}
    proc = subprocess.Popen([PY, str(script), str(pidfile)], env=env, stderr=subprocess.PIPE)
    try:
        child = int(_wait_file(pidfile))
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)  # the 30 s program does not hold the process
        assert time.monotonic() - t0 < 20
        assert b"KeyboardInterrupt" in proc.stderr.read()
        assert not _alive(child)
    finally:
        if proc.poll() is None:
            proc.kill()


# -- 3. executor faults are not program faults ----------------------------------------------
def dies_in_workers(X):
    """Kills the process it runs in unless that is the test process: a fault of workers only."""
    if os.getpid() != int(os.environ["ZOO_FAULT_MAIN"]):
        os._exit(7)
    return total(X)


def dies_once(X):
    flag = Path(os.environ["ZOO_FAULT_FLAG"])
    if not flag.exists():
        flag.write_text("died")
        os._exit(7)
    return total(X)


def raises_on_negative(X):
    if np.any(X[:, 0] < 0):
        raise ValueError("negative input")
    return total(X)


def test_3_dead_workers_raise_executor_error_and_nothing_runs_in_the_client(monkeypatch):
    monkeypatch.setenv("ZOO_FAULT_MAIN", str(os.getpid()))
    with ProcessPoolExecutor(1) as pool:
        ev = Evaluator(dies_in_workers, 2, 1, executor=pool, name="doomed")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the old code warned and used client-side values
            with pytest.raises(ExecutorError, match="fault of the executor") as info:
                ev(np.ones((4, 2)))
    assert isinstance(info.value.__cause__, Exception)
    assert ev.stats.n_executor_retries == 1  # the broken pool was rebuilt once
    ev.executor.shutdown()


def test_3_broken_pool_is_rebuilt_once(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_FAULT_FLAG", str(tmp_path / "flag"))
    with ProcessPoolExecutor(1) as pool:
        ev = Evaluator(dies_once, 2, 1, executor=pool, name="dies_once")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            Y = ev(np.arange(6.0).reshape(3, 2))
    assert Y.ravel().tolist() == [1.0, 5.0, 9.0]
    assert ev.stats.n_executor_retries == 1 and ev.executor is not pool
    ev.executor.shutdown()


def test_3_program_errors_keep_the_policy_on_an_executor():
    with ThreadPoolExecutor(2) as pool:
        ev = Evaluator(raises_on_negative, 2, 1, executor=pool, name="neg")
        with pytest.raises(ProgramError, match="raised ValueError: negative input on input row 2"):
            ev(np.array([[1.0, 0], [2.0, 0], [-1.0, 0], [3.0, 0]]))
        ev = Evaluator(raises_on_negative, 2, 1, executor=pool, name="neg", on_failure="nan")
        Y = ev(np.array([[1.0, 0], [2.0, 0], [-1.0, 0], [3.0, 0]]))
    assert np.isnan(Y[2, 0]) and Y[[0, 1, 3], 0].tolist() == [1.0, 2.0, 3.0]


# -- 4. crash safety ------------------------------------------------------------------------
CRASHING = textwrap.dedent("""
    import os, sys
    import numpy as np
    from zoo_lab.coupling.evaluation import Evaluator
    log, db = sys.argv[1], sys.argv[2]
    def prog(X):
        with open(log, "a") as fh:
            fh.write(" ".join(str(v) for v in X[:, 0]) + "\\n")
        if 5.0 in X[:, 0] and os.environ.get("CRASH"):
            os._exit(9)  # killed mid-batch, as kill -9 would
        return X.sum(axis=1, keepdims=True)
    ev = Evaluator(prog, 2, 1, cache=db, name="crashy")  # default chunking
    Y = ev(np.column_stack([np.arange(10.0), np.ones(10)]))
    print(ev.stats.n_queries, ev.stats.n_cache_hits, Y.ravel().tolist())
""")


def test_4_default_chunking_keeps_finished_rows_after_a_kill(tmp_path):
    script, log, db = tmp_path / "job.py", tmp_path / "calls.log", tmp_path / "c.sqlite"
    script.write_text(CRASHING)
    env = {**os.environ, "CRASH": "1", "PYTHONPATH": str(Path(zl.__file__).parent.parent)}
    r = subprocess.run([PY, str(script), str(log), str(db)], env=env, capture_output=True)
    assert r.returncode == 9
    env.pop("CRASH")
    r = subprocess.run([PY, str(script), str(log), str(db)], env=env, capture_output=True,
                       text=True, check=True)
    n_rows, hits, values = r.stdout.split(" ", 2)
    assert int(hits) >= 3 and int(n_rows) + int(hits) == 10
    assert json.loads(values) == [i + 1.0 for i in range(10)]


def one_task(spec):
    return [{"seed": spec["seed"], "value": spec["seed"] * 2.0}]


def test_4_study_checkpoints_are_atomic_and_a_truncated_one_is_named(tmp_path, monkeypatch):
    folder = tmp_path / "ckpt"
    tasks = [(one_task, {"seed": s}) for s in range(3)]
    rows = engine.run_tasks(tasks, progress=False, checkpoint=folder)
    assert sorted(r["value"] for r in rows) == [0.0, 2.0, 4.0]
    files = sorted(folder.iterdir())
    assert len(files) == 3 and all(f.suffix == ".json" for f in files)  # no temporary left

    def no_rename(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(engine.os, "replace", no_rename)
    with pytest.raises(OSError, match="disk full"):
        engine.run_tasks([(one_task, {"seed": 9})], progress=False, checkpoint=folder)
    monkeypatch.undo()
    assert len(list(folder.iterdir())) == 3  # the interrupted write left no partial file
    files[0].write_text(files[0].read_text()[:7])  # truncated, as a kill mid-write would
    with pytest.raises(ValueError, match=f"checkpoint: {files[0]} is truncated"):
        engine.run_tasks(tasks, progress=False, checkpoint=folder)


# -- 5. errors that name the thing ------------------------------------------------------------
def test_5_garbage_cache_file_is_wrapped_with_path_and_hint(tmp_path):
    db = tmp_path / "c.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CacheError, match="delete it to rebuild") as info:
        Evaluator(total, 2, 1, cache=db)
    assert str(db) in str(info.value) and info.value.path == db


def test_5_foreign_sqlite_and_old_schema_are_refused_unmodified(tmp_path):
    db = tmp_path / "other.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE users (name TEXT)")
    con.commit()
    con.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(CacheError, match="not a zoo_lab evaluation cache .tables: users.; refusing"):
        EvaluationCache(db)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    old = tmp_path / "old.sqlite"
    con = sqlite3.connect(old)
    con.execute("CREATE TABLE evals (program TEXT, key BLOB, out_dim INTEGER, value BLOB)")
    con.commit()
    con.close()
    with pytest.raises(CacheError, match="older zoo_lab cache"):
        EvaluationCache(old)


def breaks_above(X):
    if np.any(X[:, 0] > 0.55):
        raise RuntimeError("diverged")
    return total(X)


def test_5_backward_failure_names_the_original_input_row():
    est = zl.estimators.make("coordinate", mu=0.1)
    box = zl.BlackBox(breaks_above, 2, 1, estimator=est, name="fragile")
    z = torch.tensor([[0.0, 0.0], [0.1, 0.0], [0.5, 0.3]], dtype=torch.float64,
                     requires_grad=True)
    y = box(z)  # forward is fine: every x0 <= 0.55
    with pytest.raises(ProgramError, match=r"during the backward pass.*input row 2: "
                                           r"z = \[0.5, 0.3\]") as info:
        y.sum().backward()
    assert info.value.row == 2


def test_5_one_failing_row_does_not_rerun_the_chunk_row_by_row():
    X = np.column_stack([np.linspace(0, 1, 100), np.zeros(100)])
    X[37, 0] = -1.0
    ev = Evaluator(raises_on_negative, 2, 1, on_failure="nan", name="neg")
    Y = ev(X)
    assert ev.stats.n_calls <= 1 + 2 * 7  # bisection: 2 log2(100) extra calls, not 100
    assert np.isnan(Y[37, 0]) and np.allclose(np.delete(Y[:, 0], 37), np.delete(X[:, 0], 37))


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 64), bad=st.sets(st.integers(0, 63), max_size=3),
       chunk=st.one_of(st.none(), st.integers(1, 64)))
def test_5_bisection_finds_exactly_the_failing_rows(m, bad, chunk):
    bad = {b for b in bad if b < m}
    X = np.column_stack([np.arange(m, dtype=float) + 1.0, np.zeros(m)])
    X[sorted(bad), 0] = -1.0
    ev = Evaluator(raises_on_negative, 2, 1, on_failure="nan", chunk_size=chunk, name="neg")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Y = ev(X)
    assert set(np.flatnonzero(np.isnan(Y[:, 0]))) == bad and ev.stats.n_failed == len(bad)
    good = np.setdiff1d(np.arange(m), sorted(bad))
    np.testing.assert_array_equal(Y[good, 0], X[good, 0])
    first = math.ceil(m / (chunk or m))
    depth = math.ceil(math.log2(min(chunk or m, m))) if m > 1 else 0
    assert ev.stats.n_calls <= first + 2 * depth * len(bad)


# -- 6. coercions the engine checks itself ------------------------------------------------------
def test_6_bool_and_fractional_arguments_are_refused():
    with pytest.raises(TypeError, match="timeout: expected a finite number > 0, got bool True"):
        Evaluator(total, 2, 1, timeout=True)
    with pytest.raises(TypeError, match="in_dim: expected an int >= 1, got bool True"):
        Evaluator(total, True, 1)
    with pytest.raises(TypeError, match=r"grad_dims: expected a non-empty sequence of int"):
        zl.BlackBox(total, 2, 1, grad_dims=[0.7])
    with pytest.raises(TypeError, match="in_dim: expected an int >= 1, got bool True"):
        Command([PY, "-c", "pass"], in_dim=True)
    with pytest.raises(TypeError, match="timeout: expected a finite number > 0, got bool True"):
        Command([PY, "-c", "pass"], in_dim=1, timeout=True)


# -- 7. CLI -------------------------------------------------------------------------------------
def test_7_cli_errors_are_one_line_and_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["list"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("zoo-lab list: no notebooks/ folder") and "\n" not in err
    assert cli.main(["run", "missing.ipynb"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "zoo-lab run: no such notebook: missing.ipynb"
    (tmp_path / "01_x.ipynb").write_text("{}")
    (tmp_path / "taken").write_text("a file")
    assert cli.main(["run", "01_x.ipynb", "--out", "taken"]) == 1
    assert "--out taken: exists and is not a folder" in capsys.readouterr().err
    for bad in ("0", "-5"):
        with pytest.raises(SystemExit) as info:
            cli.main(["run", "01_x.ipynb", "--timeout", bad])
        assert info.value.code == 2
        assert "expected whole seconds >= 1" in capsys.readouterr().err


def test_3_a_shut_down_executor_is_an_executor_error():
    pool = ThreadPoolExecutor(1)
    pool.shutdown()
    with pytest.raises(ExecutorError, match="ThreadPoolExecutor failed to run program 'total'"):
        Evaluator(total, 2, 1, executor=pool)(np.ones((2, 2)))
