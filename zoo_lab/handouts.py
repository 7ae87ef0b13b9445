"""HTML hand-outs of executed notebooks that open offline (used by ``zoo-lab run``).

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

import contextlib
import html
import json
import os
import re
import shutil
from pathlib import Path

__all__ = ["MATHJAX_DIRS", "MATHJAX_NOTE", "REMOTE_URL_RE", "find_mathjax", "handout_notebook",
           "stage_mathjax", "write_html", "write_index"]

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
