"""Running a black-box program on a batch: chunks, executors, an SQLite cache, failure policy.

This is the engine under :class:`zoo_lab.BlackBox`; use it directly to evaluate a
program on many inputs with the same guarantees (labels for a data set, a sweep):

* the batch is split into chunks; each chunk is one program call, run in order
  or spread over any :class:`concurrent.futures.Executor` (threads, processes, a
  Dask ``distributed`` client's ``get_executor()``); results are identical to serial.
  ``split_batches=False`` sends every batch whole (one call) for programs whose cost
  does not grow with the number of rows;
* the cache (:mod:`zoo_lab.coupling.cache`) is keyed on the program's fingerprint
  (:mod:`zoo_lab.coupling.fingerprint`), never on its name alone; every finished chunk is
  committed at once. With a cache, serial batches run in chunks that grow from one row
  until a call takes about :data:`COMMIT_SECONDS`, so a killed process loses at most
  about that much finished work, and a rerun evaluates only what is missing;
* ``timeout`` (seconds per row; a call on k rows may take k x timeout, counted from
  the moment it starts) runs the program where it can be killed (:mod:`zoo_lab.coupling.executors`);
* a chunk that raises or times out is split in halves until the failing rows are
  found (about 2 log2(m) extra calls for one bad row in m, not m); a row that raises,
  times out or returns NaN/inf gives :class:`ProgramError` naming the program and the
  input (``on_failure="raise"``), or is returned as NaN and counted (``"nan"``);
* a fault of the executor (a worker that died, a broken pool, a cancelled task) is
  not a program fault: the chunk is retried once on the executor (a broken process
  pool is rebuilt once), then :class:`ExecutorError` is raised. Nothing is re-run in
  the client behind the executor's back.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass, field

import numpy as np

from zoo_lab._util.validate import check_bool, check_choice, check_float, check_int
from zoo_lab.coupling import fingerprint as _fp
from zoo_lab.coupling.cache import CacheError, EvaluationCache, FingerprintMismatch
from zoo_lab.coupling.executors import ExecutorError, is_broken, rebuild, run_chunk

__all__ = ["ProgramError", "ExecutorError", "CacheError", "FingerprintMismatch",
           "EvaluationCache", "Evaluator", "EvalStats", "ON_FAILURE", "COMMIT_SECONDS"]

ON_FAILURE = ("raise", "nan")
COMMIT_SECONDS = 1.0  # serial chunks with a cache grow until one call takes about this long


class ProgramError(RuntimeError):
    """A black-box program failed on an input; ``row`` and ``x`` name it, ``__cause__`` says why."""

    def __init__(self, message: str, program: str, row: int | None = None, x=None):
        super().__init__(message)
        self.program, self.row, self.x = program, row, None if x is None else np.asarray(x)


@dataclass
class EvalStats:
    """Counters: program rows run (``n_rows``), program calls (``n_calls``), cache hits, failed rows."""

    n_rows: int = 0
    n_calls: int = 0
    n_cache_hits: int = 0
    n_failed: int = 0
    n_timeouts: int = 0
    n_executor_retries: int = 0
    failed_inputs: list = field(default_factory=list)

    @property
    def n_queries(self) -> int:
        """Same as ``n_rows`` (the older name, used in the notebooks)."""
        return self.n_rows


def _n_workers(executor) -> int:
    """Parallel slots of an executor: pool size, or the thread count of a Dask client's workers."""
    if executor is None:
        return 1
    n = getattr(executor, "_max_workers", None)
    client = getattr(executor, "_client", None)  # distributed.client.ClientExecutor
    if n is None and client is not None:
        try:
            n = sum(client.nthreads().values())
        except Exception:  # noqa: BLE001 - fall back to a fixed split
            n = None
    return int(n) if n else 8


class Evaluator:
    """Evaluate ``program`` ((m, in_dim) -> (m, out_dim)) on batches with chunks, executor, cache and policy."""

    def __init__(self, program, in_dim: int, out_dim: int, *, name: str | None = None,
                 executor: Executor | None = None, cache=None, on_failure: str = "raise",
                 chunk_size: int | None = None, timeout: float | None = None,
                 version=None, setup=None, split_batches: bool = True):
        if not callable(program):
            raise TypeError(f"program: expected a callable (m, in_dim) -> (m, out_dim), got {program!r}")
        for arg, v in (("in_dim", in_dim), ("out_dim", out_dim)):
            check_int(arg, v, 1)
        check_choice("on_failure", on_failure, ON_FAILURE)
        if executor is not None and not isinstance(executor, Executor):
            raise TypeError(f"executor: expected a concurrent.futures.Executor, got {executor!r}")
        if chunk_size is not None:
            check_int("chunk_size", chunk_size, 1)
        if timeout is not None:  # seconds per row
            check_float("timeout", timeout, 0.0, strict=True)
        check_bool("split_batches", split_batches)
        if not split_batches and chunk_size is not None:
            raise ValueError(f"chunk_size={chunk_size!r} with split_batches=False: a whole batch "
                             "is one call; pass one of them")
        if setup is not None and not callable(setup):
            raise TypeError(f"setup: expected a callable run once per worker, got {setup!r}")
        if version is not None and not isinstance(version, str | int):
            raise TypeError(f"version: expected a str or int (change it when the program's code "
                            f"changes), got {version!r}")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ValueError(f"name: expected a non-empty str, got {name!r}")
        self.program, self.in_dim, self.out_dim = program, int(in_dim), int(out_dim)
        self.name = name or getattr(program, "name", None) or getattr(
            program, "__qualname__", type(program).__name__)
        self.executor, self.on_failure = executor, on_failure
        self.chunk_size, self.timeout = chunk_size, None if timeout is None else float(timeout)
        self.setup, self.split_batches, self.version = setup, split_batches, version
        ident = _fp.identity(program)
        if ident is None and cache is not None and name is None:
            raise ValueError(
                f"name: program {self.name!r} has no stable identity (a lambda, a closure or an "
                "object with unserialisable state), so its cached values could be mixed up with "
                "another program's; pass name='...' (and version=... when you change its code)")
        self.identity = ident if ident is not None else {"named": self.name}
        self.fingerprint = _fp.fingerprint(self.identity, self.name, in_dim, out_dim, version)
        if cache is None or isinstance(cache, EvaluationCache):
            self.cache = cache
        else:
            self.cache = EvaluationCache(cache)
        if self.cache is not None:
            self.cache.register(self.name, self.fingerprint, self.identity, in_dim, out_dim)
        self.stats = EvalStats()
        self._chunk_hint, self._split_exc = 1, None

    # -- public --------------------------------------------------------------
    def __call__(self, X) -> np.ndarray:
        """Values (m, out_dim) at the rows of ``X`` (m, in_dim); failed rows NaN under ``on_failure="nan"``."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.in_dim:
            raise ValueError(f"X: expected shape (m, {self.in_dim}) for program {self.name!r}, "
                             f"got {X.shape}")
        if not np.all(np.isfinite(X)):
            row = int(np.flatnonzero(~np.isfinite(X).all(axis=1))[0])
            raise ValueError(f"X: row {row} has a non-finite input {X[row].tolist()} for program "
                             f"{self.name!r}")
        Y = np.full((len(X), self.out_dim), np.nan)
        todo = np.arange(len(X))
        if self.cache is not None and len(X):
            Y, hit = self.cache.get(self.fingerprint, X, self.out_dim)
            self.stats.n_cache_hits += int(hit.sum())
            todo = np.flatnonzero(~hit)
        if len(todo):
            failed_before, self._split_exc = self.stats.n_failed, None
            if self.executor is None:
                self._run_serial(X, Y, todo)
            else:
                self._run_parallel(X, Y, todo)
            if self._split_exc is not None and self.stats.n_failed == failed_before:
                exc = self._split_exc
                warnings.warn(
                    f"program {self.name!r} failed on a chunk ({type(exc).__name__}: {exc}) but "
                    "succeeded on its parts; check that it handles batches (the values of the "
                    "parts were used)", RuntimeWarning, stacklevel=2)
        return Y

    def __repr__(self) -> str:
        return (f"Evaluator({self.name!r}, fingerprint={self.fingerprint}, in_dim={self.in_dim}, "
                f"out_dim={self.out_dim})")

    # -- chunking --------------------------------------------------------------
    def _allowance(self, idx) -> float | None:
        return None if self.timeout is None else self.timeout * len(idx)

    def _fixed_chunks(self, todo: np.ndarray) -> list[np.ndarray]:
        if not self.split_batches:
            return [todo]
        size = self.chunk_size
        if size is None:  # one equal chunk per worker balances best; 4 per worker with a cache
            per = 4 if self.cache is not None else 1
            size = max(1, math.ceil(len(todo) / (per * _n_workers(self.executor))))
        return [todo[i:i + size] for i in range(0, len(todo), size)]

    def _adapt(self, size: int, seconds: float) -> None:
        """Grow the serial chunk while calls are quick, shrink it when one took far too long."""
        if seconds < COMMIT_SECONDS / 2:
            self._chunk_hint = max(self._chunk_hint, 2 * size)
        elif seconds > 2 * COMMIT_SECONDS:
            self._chunk_hint = max(1, int(size * COMMIT_SECONDS / seconds))

    # -- running ---------------------------------------------------------------
    def _run_serial(self, X, Y, todo):
        adaptive = self.cache is not None and self.chunk_size is None and self.split_batches
        fixed = deque() if adaptive else deque(self._fixed_chunks(todo))
        retry: deque = deque()  # halves of failed chunks go first
        pos = 0
        while retry or fixed or (adaptive and pos < len(todo)):
            if retry:
                idx, first = retry.popleft(), False
            elif fixed:
                idx, first = fixed.popleft(), True
            else:
                idx, first = todo[pos:pos + self._chunk_hint], True
                pos += len(idx)
            outcome = run_chunk(self.program, X[idx], self._allowance(idx), self.setup)
            if adaptive and first and outcome[0] == "ok":
                self._adapt(len(idx), outcome[2])
            retry.extendleft(reversed(self._handle(X, Y, idx, outcome)))

    def _run_parallel(self, X, Y, todo):
        running = {}  # future -> (idx, executor attempts so far)

        def submit(idx, attempt=0):
            try:
                fut = self.executor.submit(run_chunk, self.program, X[idx], self._allowance(idx),
                                           self.setup)
            except RuntimeError as exc:  # shut down, or broken before the task got in
                raise self._executor_error(X, idx, exc, retried=attempt > 0) from exc
            running[fut] = (idx, attempt)

        rebuilt = False
        try:
            for idx in self._fixed_chunks(todo):
                submit(idx)
            while running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    idx, attempt = running.pop(fut)
                    try:
                        outcome = fut.result()
                    except Exception as exc:  # noqa: BLE001 - outcome errors are program errors; these are not
                        # broken pool, dead worker, cancelled task, a program that could not be
                        # unpickled on a worker: retry once, then say it was the executor
                        if attempt >= 1:
                            raise self._executor_error(X, idx, exc) from exc
                        if is_broken(exc) and not rebuilt:
                            fresh = rebuild(self.executor)
                            if fresh is None:
                                raise self._executor_error(X, idx, exc, retried=False) from exc
                            self.executor, rebuilt = fresh, True
                        self.stats.n_executor_retries += 1
                        submit(idx, attempt + 1)
                        continue
                    for part in self._handle(X, Y, idx, outcome):
                        submit(part)
        except BaseException:
            for fut in running:  # Ctrl-C or an error: nothing more starts on the workers
                fut.cancel()
            raise

    def _executor_error(self, X, idx, exc, retried: bool = True) -> ExecutorError:
        again = ", also after one retry" if retried else ""
        return ExecutorError(
            f"executor {type(self.executor).__name__} failed to run program {self.name!r} on "
            f"{len(idx)} row(s) starting at input row {int(idx[0])} ({type(exc).__name__}: {exc})"
            f"{again}; this is a fault of the executor or its workers (a worker died "
            "or was killed, the pool broke, the task was cancelled, or the workers cannot import "
            "the program: define it in an importable module and guard scripts with "
            "if __name__ == '__main__'), not an error of the program", rows=idx)

    # -- outcomes --------------------------------------------------------------
    def _handle(self, X, Y, idx, outcome) -> list[np.ndarray]:
        """Record one chunk's outcome; return the halves to re-run when it failed as a whole."""
        kind = outcome[0]
        self.stats.n_calls += 1
        self.stats.n_rows += len(idx)
        if kind == "setup":
            raise ProgramError(f"set-up hook {self.setup!r} of program {self.name!r} raised "
                               f"{type(outcome[1]).__name__}: {outcome[1]}", self.name) from outcome[1]
        if kind in ("error", "timeout"):
            if kind == "timeout":
                self.stats.n_timeouts += 1
            if len(idx) > 1:  # bisect: keep the good rows, name the bad ones, few extra calls
                self._split_exc = outcome[1] if kind == "error" else TimeoutError("timed out")
                half = len(idx) // 2
                return [idx[:half], idx[half:]]
            if kind == "timeout":
                err = TimeoutError(f"timed out after {outcome[1]:.3g} s")
                self._fail(X, idx[0], err, f"timed out after {self.timeout:g} s (its process "
                           "was killed)", Y=Y)
            else:
                exc = outcome[1]
                self._fail(X, idx[0], exc, f"raised {type(exc).__name__}: {exc}", Y=Y)
            return []
        out = outcome[1]
        if out.ndim == 1 and self.out_dim == 1:
            out = out[:, None]
        if out.shape != (len(idx), self.out_dim):
            err = ValueError(f"expected output shape {(len(idx), self.out_dim)}, got {out.shape}")
            self._fail(X, idx[0], err, f"returned the wrong shape {out.shape} for a chunk of "
                       f"{len(idx)} rows (expected {(len(idx), self.out_dim)})", rows=idx, Y=Y)
            return []
        good = np.isfinite(out).all(axis=1)
        Y[idx[good]] = out[good]
        if self.cache is not None and good.any():
            self.cache.put(self.fingerprint, X[idx[good]], out[good])
        for j in np.flatnonzero(~good):
            err = FloatingPointError(f"non-finite output {out[j].tolist()}")
            self._fail(X, idx[j], err, f"returned a non-finite value {out[j].tolist()}", Y=Y)
        return []

    def _fail(self, X, row, exc, what, rows=None, Y=None):
        rows = np.array([row]) if rows is None else rows
        if self.on_failure == "nan":
            self.stats.n_failed += len(rows)
            self.stats.failed_inputs.extend(X[r].tolist() for r in rows)
            Y[rows] = np.nan
            return
        raise ProgramError(
            f"program {self.name!r} {what} on input row {int(row)}: x = {X[row].tolist()}",
            self.name, int(row), X[row],
        ) from exc

