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

Hand-outs open offline: plotly figures are re-rendered from their JSON with
plotly.js embedded once per page; widget views are dropped (they need a widget
manager from a CDN) and panels show a static copy of their figure instead
(the kernel runs with ``ZOO_LAB_HANDOUT=1``, see ``zoo_lab.widgets._panel``);
remote ``<script src>`` tags (require.js, MathJax) are removed.

Maths renders offline when the machine that renders the pages has MathJax 2
(Debian's ``libjs-mathjax``, installed by ``make browser``): the files needed for
TeX input and SVG output (SVG needs no web fonts, which ``file://`` pages may not
load) are copied to ``OUT/_static/mathjax/`` and the pages load them by a relative
path, so the folder can be zipped and handed out. Without MathJax the formulas stay
readable TeX source and each page says so in one line. ``ZOO_LAB_MATHJAX_URL``
overrides the choice (a relative path or a local server).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

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
MATHJAX_ENV = "ZOO_LAB_MATHJAX_URL"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# A tag that makes the browser fetch from the network: <script src="http..."> or <link href="http...">
REMOTE_URL_RE = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*["']?(?:https?:)?//""",
                           re.IGNORECASE)
_REMOTE_SCRIPT_RE = re.compile(
    r"""<script\b[^>]*\bsrc\s*=\s*["'](?:https?:)?//[^"']*["'][^>]*>\s*</script>""", re.IGNORECASE)
_EMPTY_SCRIPT_RE = re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']\s*["'][^>]*>\s*</script>""",
                              re.IGNORECASE)
# nbconvert's lab template imports mermaid from a CDN when a page has diagrams; ours have none
_MERMAID_RE = re.compile(r"""<script\b[^>]*type\s*=\s*["']module["'][^>]*>(?:(?!</script>).)*?mermaid"""
                         r"""(?:(?!</script>).)*</script>""", re.IGNORECASE | re.DOTALL)
# MathJax 2 as Debian's libjs-mathjax installs it; the first folder that has it is used
MATHJAX_DIRS = (Path("/usr/share/javascript/mathjax"), Path("/usr/share/mathjax"))
MATHJAX_STATIC = "_static/mathjax"
MATHJAX_CONFIG = "TeX-AMS_SVG-full,Safe"
# What TeX-AMS_SVG-full loads: the combined config, the extensions it may load on demand, the
# TeX input and SVG output jax with the TeX SVG glyphs (JavaScript files, no web fonts)
_MATHJAX_FILES = ("MathJax.js", "config/TeX-AMS_SVG-full.js", "config/Safe.js", "extensions",
                  "jax/input/TeX", "jax/element", "jax/output/SVG/config.js", "jax/output/SVG/jax.js",
                  "jax/output/SVG/autoload", "jax/output/SVG/fonts/TeX", "jax/output/PreviewHTML")
MATHJAX_NOTE = ("Formulas are shown as TeX source: MathJax was not installed where this page was rendered "
                "(Debian: apt-get install libjs-mathjax, or make browser).")
_MATHJAX_CONFIG_RE = re.compile(r"""<script\b[^>]*type\s*=\s*["']text/x-mathjax-config["'][^>]*>.*?</script>""",
                                re.IGNORECASE | re.DOTALL)


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


def _is_plotlyjs_loader(data: dict) -> bool:
    """True for the output by which plotly's ``notebook`` renderer injects plotly.js itself."""
    text = data.get("text/html", "")
    text = "".join(text) if isinstance(text, list) else text
    return PLOTLY_MIME not in data and "window.PlotlyConfig" in text and len(text) > 100_000


def _static_plotly_html(fig_json) -> str:
    """An offline ``<div>`` for a plotly figure's JSON: no plotly.js, no MathJax, no CDN."""
    import plotly.io as pio

    if isinstance(fig_json, str):
        fig_json = json.loads(fig_json)
    return pio.to_html(fig_json, full_html=False, include_plotlyjs=False, include_mathjax=False,
                       validate=False, config={"responsive": True})


# a tqdm bar as text: "desc:  40%|####      | 4/10 [00:01<00:02,  3.1it/s]" (redrawn with \r)
_PROGRESS_RE = re.compile(r"^[^\n|]*\d+%\|[^\n]*\|\s*\d+/\d*[^\n]*$")


def _strip_progress(text: str) -> str:
    """``text`` without its tqdm progress-bar lines (every redraw after a carriage return too)."""
    lines = []
    for line in text.split("\n"):
        parts = [p for p in line.split("\r") if p and not _PROGRESS_RE.match(p.strip())]
        if parts or not line:
            lines.append(parts[-1] if parts else line)
    return "\n".join(lines)


def handout_notebook(nb) -> tuple[object, int]:
    """Make an executed notebook node hand-out ready in place; return it and its figure count.

    Drops widget views and the widget state, drops plotly.js loader outputs and the
    progress bars of long loops (a frozen bar says nothing in a static page), and
    re-renders every plotly figure from its JSON as a static offline div.
    """
    n_figures = 0
    for cell in nb.cells:
        outputs = []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                o["text"] = _strip_progress(o.get("text", ""))
                if not o["text"].strip():
                    continue
            data = o.get("data", {})
            data.pop(WIDGET_MIME, None)
            if _is_plotlyjs_loader(data):
                continue
            if PLOTLY_MIME in data:
                data["text/html"] = _static_plotly_html(data.pop(PLOTLY_MIME))
                n_figures += 1
            if o.get("output_type") in ("display_data", "execute_result") and not data:
                continue
            outputs.append(o)
        if cell.get("cell_type") == "code":
            cell["outputs"] = outputs
    nb.metadata.pop("widgets", None)
    return nb, n_figures


def find_mathjax() -> Path | None:
    """The first folder of :data:`MATHJAX_DIRS` holding MathJax 2 with its TeX→SVG files, else None."""
    for folder in MATHJAX_DIRS:
        if all((Path(folder) / f).exists() for f in _MATHJAX_FILES):
            return Path(folder)
    return None


def stage_mathjax(out_dir) -> str | None:
    """Copy MathJax's TeX→SVG files to ``out_dir/_static/mathjax``; return the URL pages use.

    The URL is relative to ``out_dir``; None when no MathJax is installed. Copied once per
    folder (a complete copy is kept; a partial one from an interrupted run is replaced).
    """
    src = find_mathjax()
    if src is None:
        return None
    out_dir = Path(out_dir)
    dest = out_dir / MATHJAX_STATIC
    stamp = dest / ".complete"
    if not stamp.is_file():
        tmp = out_dir / f"{MATHJAX_STATIC}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        for rel in _MATHJAX_FILES:
            s, d = src / rel, tmp / rel
            d.parent.mkdir(parents=True, exist_ok=True)
            if s.is_dir():
                shutil.copytree(s, d)  # follows links: Debian links some files into /usr/share
            else:
                shutil.copyfile(s, d)
        (tmp / ".complete").write_text(f"copied from {src}\n", encoding="utf-8")
        if not stamp.is_file():  # else a run beside this one finished its copy first
            shutil.rmtree(dest, ignore_errors=True)
            with contextlib.suppress(OSError):  # lost that race just now: its copy is as good
                tmp.rename(dest)
        shutil.rmtree(tmp, ignore_errors=True)
    return f"{MATHJAX_STATIC}/MathJax.js?config={MATHJAX_CONFIG}"


def _offline_page(body: str, with_plotly: bool, mathjax: str = "") -> str:
    """Strip remote script tags; add MathJax (or a note that maths is TeX) and plotly.js (once)."""
    body = _EMPTY_SCRIPT_RE.sub("", _REMOTE_SCRIPT_RE.sub("", body))
    if "class=\"jp-Mermaid" not in body:
        body = _MERMAID_RE.sub("", body)
    if not mathjax:
        body = _MATHJAX_CONFIG_RE.sub("", body)
        note = (f'<p class="zoo-lab-mathjax-note" style="font:13px sans-serif;color:#666;'
                f'margin:8px 16px">{html.escape(MATHJAX_NOTE)}</p>')
        body = re.sub(r"(<body\b[^>]*>)", lambda m: m.group(1) + note, body, count=1)
    head = []
    if mathjax:
        head.append(f'<script src="{html.escape(mathjax, quote=True)}"></script>')
    if with_plotly:
        from plotly.offline import get_plotlyjs

        head.append(f'<script type="text/javascript">{get_plotlyjs()}</script>')
    if head:
        body = body.replace("</head>", "\n".join(head) + "\n</head>", 1)
    return body


def write_html(executed, banner: str = "") -> Path:
    """Render an executed notebook to an offline HTML hand-out next to it; return its path.

    A non-empty ``banner`` is shown in a box at the top of the page (instructor copies).
    """
    import nbformat
    from nbconvert import HTMLExporter

    executed = Path(executed)
    nb = nbformat.read(executed, as_version=4)
    nb, n_figures = handout_notebook(nb)
    exporter = HTMLExporter(template_name="lab")
    exporter.mathjax_url = ""  # nbconvert's script tag is removed; ours goes in the head
    body, _ = exporter.from_notebook_node(nb)
    target = executed.with_suffix(".html")
    mathjax = os.environ.get(MATHJAX_ENV, "").strip() or stage_mathjax(target.parent) or ""
    if banner:
        box = ("<div style='border:2px solid #b35900;background:#fff6ea;padding:8px 12px;margin:8px;"
               f"font-family:sans-serif'><b>{html.escape(banner)}</b></div>")
        body = re.sub(r"(<body\b[^>]*>)", lambda m: m.group(1) + box, body, count=1)
    target.write_text(_offline_page(body, n_figures > 0, mathjax), encoding="utf-8")
    return target


def _title(page: Path) -> str:
    """The first markdown heading of the executed notebook beside ``page``, else its stem."""
    nb_path = page.with_suffix(".ipynb")
    try:
        cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return page.stem
    for c in cells:
        if c.get("cell_type") == "markdown":
            for line in "".join(c.get("source", "")).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return page.stem


def write_index(out_dir, pages: list[Path]) -> Path:
    """Write ``index.html`` in ``out_dir`` linking every hand-out page (offline, no scripts)."""
    out_dir = Path(out_dir)
    items = "\n".join(
        f'<li><a href="{html.escape(p.name)}">{html.escape(_title(p))}</a></li>' for p in pages
    )
    index = out_dir / "index.html"
    index.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>zoo_lab hand-outs</title>"
        "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.5}</style>"
        "</head><body><h1>zoo_lab notebooks</h1>"
        "<p>Rendered notebooks; figures are interactive and work offline. The live panels"
        " of the \"Try it\" sections are shown as static figures: run the notebooks in"
        " JupyterLab (<code>make lab</code>) to move their controls.</p>"
        f"<ol>\n{items}\n</ol></body></html>\n",
        encoding="utf-8",
    )
    return index


def _cmd_run(args) -> int:
    paths = [Path(p) for p in args.notebooks] or notebook_paths(Path("notebooks"))
    if not paths:
        print("zoo-lab run: no notebooks found (run from the project root or name them)", file=sys.stderr)
        return 2
    out_dir = Path(args.out or ("build/instructor" if args.instructor else "build/run"))
    pages, failed = [], []
    for p in paths:
        t0 = time.perf_counter()
        mode = " ".join(m for m, on in (("(smoke)", args.smoke), ("(instructor)", args.instructor)) if on)
        print(f"running {p} {mode} ...", flush=True)
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
    for p in notebook_paths(Path("notebooks")):
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
    run.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
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
