"""The ``zoo-lab`` command: run notebooks headless and render HTML hand-outs.

Usage::

    zoo-lab run [NOTEBOOK ...] [--smoke] [--instructor] [--out DIR] [--timeout S]
    zoo-lab list
    zoo-lab record NAME [--set KEY=VALUE ...] [--workers N] [--out DIR]

With no NOTEBOOK, every ``notebooks/NN_*.ipynb`` of the current project runs in
order. Executed copies and their HTML go to ``--out`` (default ``build/run``, or
``build/instructor`` with ``--instructor``), with an ``index.html`` linking them.

Learner hand-outs are the default: a notebook that declares ``SOLUTIONS`` runs with
``SOLUTIONS=False`` injected (whatever its parameters cell says), so exercise cells keep
their stubs and no reference answer or solution code is printed; ``--smoke`` only
shrinks the sizes. ``--instructor`` injects ``SOLUTIONS=True``: exercise cells print and use
the reference solutions, and each page carries an "instructor copy" banner.

Hand-outs are rendered by :mod:`zoo_lab.handouts` (offline plotly and MathJax).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from zoo_lab.handouts import (  # noqa: F401  (re-exported: the command's public names)
    MATHJAX_DIRS,
    MATHJAX_ENV,
    MATHJAX_NOTE,
    PLOTLY_MIME,
    REMOTE_URL_RE,
    WIDGET_MIME,
    find_mathjax,
    handout_notebook,
    stage_mathjax,
    write_html,
    write_index,
)

__all__ = ["main", "run_notebook", "notebook_paths", "write_html", "write_index", "KERNEL_NAME",
           "SOLUTIONS_PARAMETER", "INSTRUCTOR_BANNER",
           "SMOKE_PARAMETERS", "REMOTE_URL_RE", "find_mathjax", "stage_mathjax", "MATHJAX_DIRS",
           "MATHJAX_NOTE"]

KERNEL_NAME = "zoo_lab"
SMOKE_PARAMETERS = {"SMOKE": True}
SOLUTIONS_PARAMETER = "SOLUTIONS"
INSTRUCTOR_BANNER = "Instructor copy: this page shows the reference solutions. Do not hand it to learners."
# numbered notebooks NN_topic, then appendices A1_topic
_NOTEBOOK_RE = re.compile(r"^(\d\d|A\d)_[a-z0-9_]+\.ipynb$")
HANDOUT_ENV = "ZOO_LAB_HANDOUT"
def notebook_paths(folder) -> list[Path]:
    """The numbered notebooks ``NN_topic.ipynb`` in ``folder``, sorted by number."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder: {folder} is not a directory")
    return sorted(p for p in folder.iterdir() if _NOTEBOOK_RE.match(p.name))


def _kernel_name() -> str:
    """The project's kernel if registered, else the running interpreter's default kernel."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    return KERNEL_NAME if KERNEL_NAME in specs else "python3"


def run_notebook(path, out_dir, smoke: bool = False, timeout: int = 600, html_out: bool = True,
                 instructor: bool = False):
    """Execute one notebook with papermill into ``out_dir``; write its HTML beside it. Returns the output path.

    ``instructor=False`` (learner hand-out) injects ``SOLUTIONS=False`` into a notebook that
    declares it; ``instructor=True`` injects ``SOLUTIONS=True`` and banners the page.
    """
    import papermill as pm

    path, out_dir = Path(path), Path(out_dir)
    if not path.is_file():
        raise FileNotFoundError(f"notebook: {path} does not exist")
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / path.name
    params = dict(SMOKE_PARAMETERS) if smoke else {}
    declared = set(pm.inspect_notebook(str(path)))
    if SOLUTIONS_PARAMETER in declared:  # explicit either way: a learner copy never fills answers
        params[SOLUTIONS_PARAMETER] = bool(instructor)
    unknown = set(params) - declared
    if unknown:
        raise ValueError(f"notebook {path.name}: parameters cell does not declare {sorted(unknown)}")
    with _environ({HANDOUT_ENV: "1"} if html_out else {}):  # the kernel inherits it
        pm.execute_notebook(
            str(path),
            str(out),
            parameters=params,
            kernel_name=_kernel_name(),
            cwd=str(path.parent),
            store_widget_state=False,
            execution_timeout=timeout,
            progress_bar=False,
        )
    if html_out:
        write_html(out, banner=INSTRUCTOR_BANNER if instructor else "")
    return out


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block, then restore them."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _project_notebooks(command: str) -> list[Path] | None:
    """The project's notebooks, or None after one line on stderr when not in a project."""
    folder = Path("notebooks")
    if not folder.is_dir():
        print(f"zoo-lab {command}: no notebooks/ folder in {Path.cwd()} (run it from the project "
              "root, or name the notebooks)", file=sys.stderr)
        return None
    return notebook_paths(folder)


def _out_folder(out) -> Path | None:
    """Create ``--out`` up front; None after one line on stderr when it cannot be used."""
    out_dir = Path(out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        print(f"zoo-lab run: --out {out}: exists and is not a folder", file=sys.stderr)
        return None
    except OSError as exc:
        print(f"zoo-lab run: --out {out}: cannot create it ({exc.strerror or exc})", file=sys.stderr)
        return None
    if not os.access(out_dir, os.W_OK):
        print(f"zoo-lab run: --out {out}: not writable", file=sys.stderr)
        return None
    return out_dir


def _positive_int(text: str) -> int:
    """argparse type: an int >= 1 (seconds)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole seconds >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected whole seconds >= 1, got {value}")
    return value


def _cmd_run(args) -> int:
    if args.notebooks:
        paths = [Path(p) for p in args.notebooks]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            print(f"zoo-lab run: no such notebook: {', '.join(missing)}", file=sys.stderr)
            return 1
    else:
        paths = _project_notebooks("run")
        if paths is None:
            return 1
    if not paths:
        print("zoo-lab run: no notebooks found (run from the project root or name them)", file=sys.stderr)
        return 2
    out_dir = _out_folder(args.out or ("build/instructor" if args.instructor else "build/run"))
    if out_dir is None:
        return 1
    pages, failed = [], []
    for p in paths:
        t0 = time.perf_counter()
        mode = " ".join(m for m, on in (("(smoke)", args.smoke), ("(instructor)", args.instructor)) if on)
        print(f"running {p}{' ' + mode if mode else ''} ...", flush=True)
        try:
            out = run_notebook(p, out_dir, smoke=args.smoke, timeout=args.timeout,
                               instructor=args.instructor)
        except Exception as exc:  # report, go on with the other notebooks, fail at the end
            failed.append(p.name)
            print(f"  FAILED after {time.perf_counter() - t0:.1f} s: {type(exc).__name__}: "
                  f"{str(exc).strip()[-1500:]}", file=sys.stderr, flush=True)
            continue
        pages.append(out.with_suffix(".html"))
        print(f"  done in {time.perf_counter() - t0:.1f} s -> {out} and {out.with_suffix('.html')}")
    print(f"index: {write_index(out_dir, pages)}")
    if failed:
        print(f"zoo-lab run: {len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _cmd_list(_args) -> int:
    paths = _project_notebooks("list")
    if paths is None:
        return 1
    for p in paths:
        print(p)
    return 0


def _cmd_record(args) -> int:
    """Rerun one stored study and rewrite notebooks/results/NAME.csv (see zoo_lab.studies.records)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    from zoo_lab.studies import records

    overrides = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"zoo-lab record: --set expects KEY=VALUE (a JSON value), got {item!r}", file=sys.stderr)
            return 2
        try:
            overrides[key] = json.loads(value)
        except ValueError:
            overrides[key] = value
    if args.workers < 1:
        print(f"zoo-lab record: --workers expects an int >= 1, got {args.workers}", file=sys.stderr)
        return 2
    ex = ProcessPoolExecutor(args.workers, mp_context=mp.get_context("spawn")) if args.workers > 1 else None
    try:
        csv = records.record(args.name, args.out, executor=ex, **overrides)
    except ValueError as exc:
        print(f"zoo-lab record: {exc}", file=sys.stderr)
        return 2
    finally:
        if ex is not None:
            ex.shutdown()
    info = records.record_info(args.name, csv.parent)
    print(f"{csv}: {info['rows']} rows in {info['seconds']} s; settings {json.dumps(info['settings'])}")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``zoo-lab`` console script."""
    parser = argparse.ArgumentParser(prog="zoo-lab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute notebooks headless and write HTML hand-outs")
    run.add_argument("notebooks", nargs="*", help="notebook files (default: notebooks/NN_*.ipynb)")
    run.add_argument("--smoke", action="store_true", help="inject SMOKE=True (runs in seconds)")
    run.add_argument("--instructor", action="store_true",
                     help="inject SOLUTIONS=True: hand-outs with the reference solutions (default: learner copies)")
    run.add_argument("--out", default=None,
                     help="output folder (default build/run; build/instructor with --instructor)")
    run.add_argument("--timeout", type=_positive_int, default=600,
                     help="per-cell timeout in seconds (>= 1)")
    run.set_defaults(func=_cmd_run)
    lst = sub.add_parser("list", help="list the notebooks of the current project")
    lst.set_defaults(func=_cmd_list)
    rec = sub.add_parser("record", help="rerun a stored study and rewrite notebooks/results/NAME.csv")
    rec.add_argument("name", help="a record of zoo_lab.studies.RECORDS, e.g. stability_grid")
    rec.add_argument("--out", default=None, help="output folder (default notebooks/results)")
    rec.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    rec.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override one setting, e.g. --set seeds=5 (recorded in NAME.json)")
    rec.set_defaults(func=_cmd_record)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
