"""Where a chunk of rows runs: in-process, in a killable child process, or on an executor's worker.

:func:`run_chunk` is what runs on the worker (or in the client when there is no
executor). It never raises for a program fault: it returns an outcome tuple,

    ("ok", Y, seconds)  ("error", exception, traceback text)  ("timeout", seconds)

so that anything ``future.result()`` raises is, by construction, a fault of the
executor (a dead worker, a pool that broke, a cancelled task, a program that could
not be unpickled on the worker) and never a program error. Those are retried once
(a broken ``ProcessPoolExecutor`` is rebuilt once) and then raised as
:class:`ExecutorError`.

Timeouts: a program with a timeout runs where it can be stopped. A program with a
``call_with_timeout(X, seconds)`` method (``zoo_lab.problems.Command``) stops
itself: its subprocess runs in its own process group, which is killed on expiry.
Any other program runs in a forked child process (spawned where fork is not
available: the program must then pickle) that is killed, with its process group and descendants, on expiry or
on Ctrl-C. The clock starts when the call starts, never while it waits in a queue.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import pickle
import select
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor

import numpy as np

__all__ = ["ExecutorError", "ProgramTimeout", "run_chunk", "timed_call", "rebuild"]


class ExecutorError(RuntimeError):
    """The executor (not the program) failed to run a chunk: a worker died, the pool broke, ..."""

    def __init__(self, message: str, rows=None):
        super().__init__(message)
        self.rows = None if rows is None else np.asarray(rows)


class ProgramTimeout(TimeoutError):
    """A program call ran past its time and its process was killed."""


_SETUP_DONE: set = set()
_SETUP_LOCK = threading.Lock()


def _setup_once(setup) -> None:
    """Run ``setup()`` once per process (thread-safe); a failed set-up runs again next time."""
    key = (getattr(setup, "__module__", None), getattr(setup, "__qualname__", None), repr(setup))
    with _SETUP_LOCK:
        if key in _SETUP_DONE:
            return
        setup()
        _SETUP_DONE.add(key)


def _portable(exc: BaseException) -> BaseException:
    """The exception itself if it pickles (to travel back from a worker), else a RuntimeError copy."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any pickling problem: send a plain copy
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def run_chunk(program, X: np.ndarray, timeout: float | None = None, setup=None) -> tuple:
    """Run the program on a chunk (top level so process pools can pickle it); returns an outcome tuple."""
    if setup is not None:
        try:
            _setup_once(setup)
        except Exception as exc:  # noqa: BLE001 - reported to the client as a set-up fault
            return ("setup", _portable(exc), traceback.format_exc())
    t0 = time.monotonic()
    try:
        if timeout is None:
            Y = np.asarray(program(X), dtype=np.float64)
        else:
            Y = timed_call(program, X, timeout)
    except TimeoutError as exc:
        if timeout is None:
            return ("error", _portable(exc), traceback.format_exc())
        return ("timeout", time.monotonic() - t0)
    except Exception as exc:  # noqa: BLE001 - every program fault goes back as a value
        return ("error", _portable(exc), traceback.format_exc())
    return ("ok", Y, time.monotonic() - t0)


# -- killable calls -----------------------------------------------------------------------
def _child_outcome(program, X) -> tuple:
    try:
        return ("ok", np.asarray(program(X), dtype=np.float64))
    except BaseException as exc:  # noqa: BLE001 - sent to the parent, which raises it
        return ("error", _portable(exc), traceback.format_exc())


def _spawn_child(program, X, conn) -> None:
    """Body of a spawned child (platforms without fork): run, send the outcome."""
    conn.send(_child_outcome(program, X))
    conn.close()


def _kill_tree(pid: int) -> None:
    """SIGKILL a child, its process group and every descendant (even ones in other groups)."""
    victims = []
    try:
        import psutil

        with contextlib.suppress(psutil.Error):
            victims = psutil.Process(pid).children(recursive=True)
    except ImportError:
        pass
    if hasattr(os, "killpg"):
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    for p in victims:
        with contextlib.suppress(Exception):
            p.kill()


def _forked_call(program, X, timeout: float) -> tuple:
    """Run in a forked child (own process group); read its pickled outcome with a deadline.

    A raw fork, not multiprocessing: it works inside daemonic processes (Dask workers),
    needs no pickling of the program (lambdas work) and re-imports nothing.
    """
    for stream in (sys.stdout, sys.stderr):  # else the child would print our buffers again
        with contextlib.suppress(Exception):
            stream.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.close(r)
            with contextlib.suppress(OSError):
                os.setpgid(0, 0)  # killing the group reaches whatever the program starts
            data = pickle.dumps(_child_outcome(program, X))
            with os.fdopen(w, "wb") as fh:
                fh.write(data)
            for stream in (sys.stdout, sys.stderr):  # real files only: a Jupyter stream
                if isinstance(stream, io.TextIOWrapper):  # would wait for its parent's thread
                    with contextlib.suppress(Exception):
                        stream.flush()
        finally:
            os._exit(0)
    os.close(w)
    deadline = time.monotonic() + timeout
    chunks = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                _kill_tree(pid)
                raise ProgramTimeout(f"no result after {timeout:g} s; its process was killed")
            data = os.read(r, 1 << 20)
            if not data:
                break
            chunks.append(data)
    except BaseException:
        _kill_tree(pid)
        raise
    finally:
        os.close(r)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    if not chunks:
        raise RuntimeError("the program's process died before returning a result")
    return pickle.loads(b"".join(chunks))


def _spawned_call(program, X, timeout: float) -> tuple:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_spawn_child, args=(program, X, child), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout):
            _kill_tree(proc.pid)
            raise ProgramTimeout(f"no result after {timeout:g} s; its process was killed")
        try:
            return parent.recv()
        except EOFError:
            raise RuntimeError(f"the program's process died (exit code {proc.exitcode}) "
                               "before returning a result") from None
    except BaseException:
        _kill_tree(proc.pid)
        raise
    finally:
        proc.join(timeout=5.0)
        parent.close()


def timed_call(program, X: np.ndarray, timeout: float) -> np.ndarray:
    """``program(X)`` stopped after ``timeout`` seconds from its start (ProgramTimeout), killed on Ctrl-C."""
    if callable(getattr(program, "call_with_timeout", None)):
        return np.asarray(program.call_with_timeout(X, timeout), dtype=np.float64)
    # fork where it is safe enough (Linux); spawn elsewhere (the program must then pickle)
    run = _forked_call if sys.platform.startswith("linux") else _spawned_call
    out = run(program, X, timeout)
    if out[0] == "error":
        raise out[1]
    return out[1]


def rebuild(executor):
    """A fresh ``ProcessPoolExecutor`` with the settings of a broken one, or None if it is another kind."""
    if not isinstance(executor, ProcessPoolExecutor):
        return None
    with contextlib.suppress(Exception):
        executor.shutdown(wait=False, cancel_futures=True)
    return ProcessPoolExecutor(max_workers=getattr(executor, "_max_workers", None),
                               mp_context=getattr(executor, "_mp_context", None),
                               initializer=getattr(executor, "_initializer", None),
                               initargs=getattr(executor, "_initargs", ()))


def is_broken(exc: BaseException) -> bool:
    """True for a pool that can no longer run anything (a worker process died)."""
    return isinstance(exc, BrokenExecutor)
