"""The one sweep engine under every study: a grid of settings (x seeds) -> a tidy DataFrame.

A study is a *task*, a module-level function ``task(**setting) -> dict | list[dict]``
(one or more result rows), and a list of settings, usually built by :func:`grid`.
:func:`sweep` runs the task once per setting, serially or on any
``concurrent.futures``-style executor (a process pool, ``dask.distributed.Client``),
with a tqdm progress bar, and returns one DataFrame whose rows come back in the
order of the settings, so a parallel run equals a serial one. With ``checkpoint=``
(a folder) each finished setting is written there atomically (write, then rename),
and a later call with the same folder loads what is done and runs only the rest:
a study stopped by Ctrl-C or a crash resumes where it was.

Where batched work pays (K small networks trained as one stacked ensemble, one
population per call), a task takes a *list* in its setting and returns one row per
member; the engine does not care how a task computes its rows.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

__all__ = ["CheckpointError", "grid", "run_tasks", "sweep"]


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read (truncated, edited, or from another study)."""


def grid(**axes) -> list[dict]:
    """The cartesian product of ``axes`` as a list of settings: ``grid(d=[2, 4], seed=range(3))``.

    A str, number or other scalar value is one level of its axis; every axis needs at
    least one level. Settings come in row-major order (the last axis varies fastest).
    """
    levels = {}
    for name, values in axes.items():
        vals = [values] if isinstance(values, str | int | float | np.number) or values is None \
            else list(values)
        if not vals:
            raise ValueError(f"{name}: expected at least one value, got {values!r}")
        levels[name] = vals
    return [dict(zip(levels, combo, strict=True)) for combo in itertools.product(*levels.values())]


def sweep(task: Callable, settings: Sequence[dict], *, executor=None, progress: bool = True,
          checkpoint: str | Path | None = None, desc: str | None = None) -> pd.DataFrame:
    """Run ``task(**setting)`` for every setting and return all rows as one DataFrame, in settings order."""
    settings = list(settings)
    if not settings:
        raise ValueError("settings: expected at least one setting, got none")
    rows = run_tasks([(task, s) for s in settings], executor=executor, progress=progress,
                     checkpoint=checkpoint, desc=desc or getattr(task, "__name__", "sweep"),
                     keyword=True)
    return pd.DataFrame(rows)


def run_tasks(tasks: Iterable[tuple[Callable, dict]], *, executor=None, progress: bool = True,
              checkpoint: str | Path | None = None, desc: str = "sweep",
              keyword: bool = False) -> list[dict]:
    """Run ``(fn, spec)`` tasks (``fn(spec)``, or ``fn(**spec)`` with ``keyword``); rows in task order.

    The engine behind :func:`sweep` for studies whose tasks differ in function (e.g.
    proxy runs and their paired true runs). See the module docstring for checkpoints.
    """
    tasks = list(tasks)
    folder = Path(checkpoint) if checkpoint is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    results: list[list[dict] | None] = [None] * len(tasks)
    todo = []
    for i, (fn, spec) in enumerate(tasks):
        path = _checkpoint_path(folder, fn, spec) if folder is not None else None
        if path is not None and path.exists():
            results[i] = _load(path)
        else:
            todo.append((i, fn, spec, path))
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), disable=not progress, desc=desc)

    def done(i, out, path):
        rows = [out] if isinstance(out, dict) else list(out)
        results[i] = rows
        if path is not None:
            _save(path, rows)
        bar.update(1)

    try:
        if executor is None:
            for i, fn, spec, path in todo:
                done(i, _call(fn, spec, keyword), path)
        else:
            futures = [(i, executor.submit(_call, fn, spec, keyword), path)
                       for i, fn, spec, path in todo]
            for i, fut, path in futures:
                done(i, fut.result(), path)
    finally:
        bar.close()
    return [row for rows in results for row in rows]


def _call(fn: Callable, spec: dict, keyword: bool):
    return fn(**spec) if keyword else fn(spec)


def _checkpoint_path(folder: Path, fn: Callable, spec: dict) -> Path:
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
    key = hashlib.sha1(json.dumps([name, spec], sort_keys=True, default=str).encode())
    return folder / f"{key.hexdigest()[:20]}.json"


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return {"__nd__": v.tolist()}
    if isinstance(v, np.generic):
        return v.item()
    return v


def _save(path: Path, rows: list[dict]) -> None:
    """Write then rename, so a checkpoint file is either whole or absent (never half-written)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps([{k: _jsonable(v) for k, v in r.items()} for r in rows]))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _load(path: Path) -> list[dict]:
    try:
        rows = json.loads(path.read_text())
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValueError("expected a list of row objects")
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"checkpoint: {path} is truncated or corrupt ({exc}); delete it "
                              "and rerun to recompute that setting") from exc
    return [{k: (np.asarray(v["__nd__"]) if isinstance(v, dict) and "__nd__" in v else v)
             for k, v in r.items()} for r in rows]
