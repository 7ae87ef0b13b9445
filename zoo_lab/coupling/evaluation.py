"""Running a black-box program on a batch: chunks, executors, an SQLite cache, failure policy.

This is the engine under :class:`zoo_lab.BlackBox`; use it directly to evaluate a
program on many inputs with the same guarantees (labels for a data set, a sweep):

* the batch is split into chunks; each chunk is one program call, run in order
  or spread over any :class:`concurrent.futures.Executor` (threads, processes, a
  Dask ``distributed`` client's ``get_executor()``); results are identical to serial;
* with a cache, every finished chunk is committed at once, so a crash mid-batch
  loses no completed evaluation, and a rerun evaluates only what is missing;
* a chunk that raises is re-run row by row to find the failing input; a row that
  raises, times out, or returns NaN/inf gives :class:`ProgramError` naming the
  program and the input (``on_failure="raise"``), or is returned as NaN and
  counted (``on_failure="nan"``).
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import threading
import warnings
from concurrent.futures import Executor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["ProgramError", "EvaluationCache", "Evaluator", "EvalStats", "ON_FAILURE"]

ON_FAILURE = ("raise", "nan")


class ProgramError(RuntimeError):
    """A black-box program failed on an input; ``row`` and ``x`` name it, ``__cause__`` says why."""

    def __init__(self, message: str, program: str, row: int | None = None, x=None):
        super().__init__(message)
        self.program, self.row, self.x = program, row, None if x is None else np.asarray(x)


class EvaluationCache:
    """An SQLite file of program evaluations keyed on (program name, input bytes).

    WAL mode lets readers proceed while one process writes; each ``put`` commits,
    so what was stored survives a crash of the writer.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(
                "CREATE TABLE IF NOT EXISTS evals (program TEXT, key BLOB, out_dim INTEGER,"
                " value BLOB, PRIMARY KEY (program, key))"
            )

    def _conn(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=60.0)
            self._local.con = con
        return con

    def __getstate__(self):  # picklable: reconnect in the other process
        return {"path": self.path}

    def __setstate__(self, state):
        self.path = state["path"]
        self._local = threading.local()

    @staticmethod
    def key(x: np.ndarray) -> bytes:
        """Cache key of one input row: a digest of its float64 bytes."""
        return hashlib.sha256(np.ascontiguousarray(x, dtype=np.float64).tobytes()).digest()

    def get(self, program: str, X: np.ndarray, out_dim: int) -> tuple[np.ndarray, np.ndarray]:
        """Look up rows of ``X``; returns (values (m, out_dim) with NaN where missing, hit mask)."""
        values = np.full((len(X), out_dim), np.nan)
        hit = np.zeros(len(X), dtype=bool)
        keys = [self.key(x) for x in X]
        con = self._conn()
        found = {}
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            q = ",".join("?" * len(part))
            rows = con.execute(
                f"SELECT key, value FROM evals WHERE program=? AND out_dim=? AND key IN ({q})",
                (program, out_dim, *part),
            ).fetchall()
            found.update(rows)
        for i, k in enumerate(keys):
            if k in found:
                values[i] = np.frombuffer(found[k], dtype=np.float64)
                hit[i] = True
        return values, hit

    def put(self, program: str, X: np.ndarray, Y: np.ndarray) -> None:
        """Store finished evaluations (one transaction, committed before returning)."""
        con = self._conn()
        with con:
            con.executemany(
                "INSERT OR REPLACE INTO evals VALUES (?, ?, ?, ?)",
                [(program, self.key(x), Y.shape[1], np.asarray(y, np.float64).tobytes())
                 for x, y in zip(X, Y, strict=True)],
            )

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM evals").fetchone()[0])

    def rows(self, program: str | None = None) -> int:
        """Number of stored evaluations (of one program, or all)."""
        if program is None:
            return len(self)
        return int(self._conn().execute(
            "SELECT COUNT(*) FROM evals WHERE program=?", (program,)).fetchone()[0])


@dataclass
class EvalStats:
    """Counters of one evaluator: program rows actually run, cache hits, failed rows, calls."""

    n_queries: int = 0
    n_cache_hits: int = 0
    n_failed: int = 0
    n_calls: int = 0
    failed_inputs: list = field(default_factory=list)


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


def _call(program, X: np.ndarray) -> np.ndarray:
    """Run the program on a chunk (top level so process pools can pickle it)."""
    return np.asarray(program(X), dtype=np.float64)


class Evaluator:
    """Evaluate ``program`` ((m, in_dim) -> (m, out_dim)) on batches with chunks, executor, cache and policy."""

    def __init__(self, program, in_dim: int, out_dim: int, *, name: str | None = None,
                 executor: Executor | None = None, cache=None, on_failure: str = "raise",
                 chunk_size: int | None = None, timeout: float | None = None):
        if not callable(program):
            raise TypeError(f"program: expected a callable (m, in_dim) -> (m, out_dim), got {program!r}")
        for arg, v in (("in_dim", in_dim), ("out_dim", out_dim)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"{arg}: expected an int >= 1, got {v!r}")
        if on_failure not in ON_FAILURE:
            raise ValueError(f"on_failure: got {on_failure!r}; allowed: {', '.join(ON_FAILURE)}")
        if executor is not None and not isinstance(executor, Executor):
            raise TypeError(f"executor: expected a concurrent.futures.Executor, got {executor!r}")
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ValueError(f"chunk_size: expected an int >= 1 or None, got {chunk_size!r}")
        if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
            raise ValueError(f"timeout: expected seconds > 0 or None, got {timeout!r}")
        self.program, self.in_dim, self.out_dim = program, int(in_dim), int(out_dim)
        self.name = name or getattr(program, "name", None) or getattr(
            program, "__qualname__", type(program).__name__)
        self.executor, self.on_failure = executor, on_failure
        self.chunk_size, self.timeout = chunk_size, timeout
        if cache is None or isinstance(cache, EvaluationCache):
            self.cache = cache
        else:
            self.cache = EvaluationCache(cache)
        self.stats = EvalStats()

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
            Y, hit = self.cache.get(self.name, X, self.out_dim)
            self.stats.n_cache_hits += int(hit.sum())
            todo = np.flatnonzero(~hit)
        if len(todo):
            self._run(X, Y, todo)
        return Y

    # -- internals -------------------------------------------------------------
    def _chunks(self, todo: np.ndarray) -> list[np.ndarray]:
        size = self.chunk_size
        if size is None:  # one equal chunk per worker balances best for uniform rows
            size = max(1, math.ceil(len(todo) / _n_workers(self.executor)))
        return [todo[i:i + size] for i in range(0, len(todo), size)]

    def _run(self, X, Y, todo):
        chunks = self._chunks(todo)
        if self.executor is None and self.timeout is None:
            for idx in chunks:
                self._finish(X, Y, idx, lambda idx=idx: _call(self.program, X[idx]))
            return
        pool = self.executor or ThreadPoolExecutor(max_workers=1)
        try:
            futures = [(idx, pool.submit(_call, self.program, X[idx])) for idx in chunks]
            for idx, fut in futures:
                self._finish(X, Y, idx, lambda fut=fut: fut.result(timeout=self.timeout))
        finally:
            if self.executor is None:
                pool.shutdown(wait=False, cancel_futures=True)

    def _finish(self, X, Y, idx, get):
        """Collect one chunk; on failure fall back to single rows to name the culprit."""
        self.stats.n_calls += 1
        try:
            out = get()
        except FutureTimeout as exc:
            self.stats.n_queries += len(idx)
            self._fail(X, idx[0], exc, f"timed out after {self.timeout} s "
                       f"(chunk of {len(idx)} rows starting at this input)", rows=idx, Y=Y)
            return
        except Exception as exc:  # noqa: BLE001 - any program error is reported with its input
            self.stats.n_queries += len(idx)
            if len(idx) == 1:
                self._fail(X, idx[0], exc, f"raised {type(exc).__name__}: {exc}", Y=Y)
                return
            failed_before = self.stats.n_failed
            for i in idx:  # bisect to single rows: name the failing input, keep the good ones
                self._finish(X, Y, np.array([i]), lambda i=i: _call(self.program, X[[i]]))
            if self.stats.n_failed == failed_before:
                warnings.warn(
                    f"program {self.name!r} raised {type(exc).__name__}: {exc} on a chunk of "
                    f"{len(idx)} rows but succeeded on each row alone; check that it handles "
                    "batches (the row-by-row values were used)", RuntimeWarning, stacklevel=2)
            return
        self.stats.n_queries += len(idx)
        if out.ndim == 1 and self.out_dim == 1:
            out = out[:, None]
        if out.shape != (len(idx), self.out_dim):
            err = ValueError(f"expected output shape {(len(idx), self.out_dim)}, got {out.shape}")
            self._fail(X, idx[0], err, f"returned the wrong shape {out.shape} for a chunk of "
                       f"{len(idx)} rows (expected {(len(idx), self.out_dim)})", rows=idx, Y=Y)
            return
        good = np.isfinite(out).all(axis=1)
        Y[idx[good]] = out[good]
        if self.cache is not None and good.any():
            self.cache.put(self.name, X[idx[good]], out[good])
        for j in np.flatnonzero(~good):
            err = FloatingPointError(f"non-finite output {out[j].tolist()}")
            self._fail(X, idx[j], err, f"returned a non-finite value {out[j].tolist()}", Y=Y)

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
