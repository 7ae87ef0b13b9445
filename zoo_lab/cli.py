"""The ``zoo-lab`` command: run notebooks headless and render HTML hand-outs.

Usage::

    zoo-lab run [NOTEBOOK ...] [--smoke] [--out DIR] [--timeout S]
    zoo-lab list

With no NOTEBOOK, every ``notebooks/NN_*.ipynb`` of the current project runs in
order. Executed copies and their HTML go to ``--out`` (default ``build/run``).
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import time
from pathlib import Path

__all__ = ["main", "run_notebook", "notebook_paths", "KERNEL_NAME", "SMOKE_PARAMETERS"]

KERNEL_NAME = "zoo_lab"
SMOKE_PARAMETERS = {"SMOKE": True}
_NOTEBOOK_RE = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")


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


def run_notebook(path, out_dir, smoke: bool = False, timeout: int = 600, html_out: bool = True):
    """Execute one notebook with papermill into ``out_dir``; write its HTML beside it. Returns the output path."""
    import papermill as pm

    path, out_dir = Path(path), Path(out_dir)
    if not path.is_file():
        raise FileNotFoundError(f"notebook: {path} does not exist")
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / path.name
    params = dict(SMOKE_PARAMETERS) if smoke else {}
    declared = set(pm.inspect_notebook(str(path)))
    unknown = set(params) - declared
    if unknown:
        raise ValueError(f"notebook {path.name}: parameters cell does not declare {sorted(unknown)}")
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
        write_html(out)
    return out


def write_html(executed) -> Path:
    """Render an executed notebook to a self-contained HTML file next to it (no widget state)."""
    import nbformat
    from nbconvert import HTMLExporter

    executed = Path(executed)
    nb = nbformat.read(executed, as_version=4)
    # Widget views need a widget manager from a CDN; the figures are also shown
    # as static plotly output, so drop the widget views from the hand-out.
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            o.get("data", {}).pop("application/vnd.jupyter.widget-view+json", None)
    nb.metadata.pop("widgets", None)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    target = executed.with_suffix(".html")
    target.write_text(body, encoding="utf-8")
    return target


def _write_index(out_dir: Path, pages: list[Path]) -> Path:
    items = "\n".join(
        f'<li><a href="{html.escape(p.name)}">{html.escape(p.stem)}</a></li>' for p in pages
    )
    index = out_dir / "index.html"
    index.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>zoo_lab hand-outs</title>"
        f"</head><body><h1>zoo_lab notebooks</h1><ul>\n{items}\n</ul></body></html>\n",
        encoding="utf-8",
    )
    return index


def _cmd_run(args) -> int:
    paths = [Path(p) for p in args.notebooks] or notebook_paths(Path("notebooks"))
    if not paths:
        print("zoo-lab run: no notebooks found (run from the project root or name them)", file=sys.stderr)
        return 2
    out_dir = Path(args.out)
    pages = []
    for p in paths:
        t0 = time.perf_counter()
        print(f"running {p} {'(smoke)' if args.smoke else ''} ...", flush=True)
        out = run_notebook(p, out_dir, smoke=args.smoke, timeout=args.timeout)
        pages.append(out.with_suffix(".html"))
        print(f"  done in {time.perf_counter() - t0:.1f} s -> {out} and {out.with_suffix('.html')}")
    print(f"index: {_write_index(out_dir, pages)}")
    return 0


def _cmd_list(_args) -> int:
    for p in notebook_paths(Path("notebooks")):
        print(p)
    return 0


def main(argv=None) -> int:
    """Entry point of the ``zoo-lab`` console script."""
    parser = argparse.ArgumentParser(prog="zoo-lab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute notebooks headless and write HTML hand-outs")
    run.add_argument("notebooks", nargs="*", help="notebook files (default: notebooks/NN_*.ipynb)")
    run.add_argument("--smoke", action="store_true", help="inject SMOKE=True (runs in seconds)")
    run.add_argument("--out", default="build/run", help="output folder (default build/run)")
    run.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    run.set_defaults(func=_cmd_run)
    lst = sub.add_parser("list", help="list the notebooks of the current project")
    lst.set_defaults(func=_cmd_list)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
