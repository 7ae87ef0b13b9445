"""Real-browser checks: notebook 01 live in JupyterLab + Chromium, and offline HTML hand-outs.

Chromium comes from Debian's package (``/usr/bin/chromium``, installed by ``make setup``);
Playwright drives it (its own browser download does not work offline). Every wait is
bounded; the JupyterLab server and the browser are always stopped. All network traffic
outside loopback and ``file://`` is aborted, and the hand-out test fails on any attempt.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _jupyter_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PANELS_JS,
    PIN_TOP_JS,
    UNPIN_JS,
    WIDTHS_JS,
    LabServer,
    code_notebook,
    is_local,
    jupyter_lab,
)

from zoo_lab.cli import MATHJAX_NOTE, REMOTE_URL_RE, find_mathjax, notebook_paths

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "01_sampling_schemes.ipynb"
SCREENSHOT = ROOT / "build" / "browser" / "notebook01.png"
HANDOUT_TIMEOUT = int(os.environ.get("ZOO_LAB_NOTEBOOK_TIMEOUT", "240"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"no Chromium at {CHROMIUM}: install Debian's chromium "
                              "(make browser) to run the real-browser tests"),
]


def smoke_copy(src: Path, dest_dir: Path) -> Path:
    """Copy a notebook into ``dest_dir`` with ``SMOKE = True`` in its parameters cell."""
    nb = json.loads(src.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    source = "".join(cell["source"])
    assert "SMOKE = False" in source, f"{src.name}: parameters cell lacks SMOKE = False"
    cell["source"] = source.replace("SMOKE = False", "SMOKE = True", 1)
    dest = dest_dir / src.name
    dest.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return dest


def wait_for(page, js: str, timeout_s: float, what: str, arg=None):
    """Poll a JS expression (a function of ``arg``) until truthy; fail naming ``what``."""
    from playwright.sync_api import TimeoutError as PWTimeout

    try:
        return page.wait_for_function(js, arg=arg, timeout=timeout_s * 1e3, polling=250).json_value()
    except PWTimeout:
        pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def browser():
    """A headless Debian Chromium driven by Playwright (one per module: the sync API allows one
    running instance at a time); each test opens its own context; closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
                               timeout=60_000)
        try:
            yield b
        finally:
            b.close()


def _guard_network(context, leaked: list[str]) -> None:
    """Abort and record every request that would leave loopback / file://."""

    def handle(route) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            leaked.append(url)
            route.abort()

    context.route("**/*", handle)


# JS run in the page: the notebook panel JupyterLab shows (window.jupyterapp is exposed).
_NOTEBOOK_JS = "window.jupyterapp && window.jupyterapp.shell.currentWidget"
_KERNEL_IDLE_JS = f"""() => {{
  const nb = {_NOTEBOOK_JS};
  const k = nb && nb.sessionContext && nb.sessionContext.session && nb.sessionContext.session.kernel;
  return !!(k && k.status === 'idle' && nb.content && nb.content.widgets.length);
}}"""
_ALL_RUN_JS = f"""() => {{
  const nb = {_NOTEBOOK_JS};
  const k = nb.sessionContext.session.kernel;
  const code = nb.content.widgets.filter(c => c.model.type === 'code');
  const done = code.every(c => c.model.executionCount !== null);
  return done && k.status === 'idle' ? code.length : 0;
}}"""
_ERRORS_JS = f"""() => {{
  const nb = {_NOTEBOOK_JS};
  const errs = [];
  for (const c of nb.content.widgets) {{
    if (c.model.type !== 'code') continue;
    for (const o of c.model.outputs.toJSON()) {{
      if (o.output_type === 'error') errs.push(o.ename + ': ' + o.evalue);
    }}
  }}
  return errs;
}}"""
_PANEL_PLOT_JS = """() => {
  const plots = [...document.querySelectorAll('.jp-OutputArea-output .js-plotly-plot')]
    .filter(el => el.closest('.jp-OutputArea-output').querySelector('.widget-slider'));
  return plots.length ? plots.length : 0;
}"""
_PANEL_POINTS_JS = """() => {
  const out = [...document.querySelectorAll('.jp-OutputArea-output')]
    .find(o => o.querySelector('.widget-slider') && o.querySelector('.js-plotly-plot'));
  const gd = out && out.querySelector('.js-plotly-plot');
  if (!gd || !gd.data || !gd.data.length) return null;
  const svg = [...gd.querySelectorAll('.scatterlayer .trace:first-child .point')]
    .map(p => p.getAttribute('transform'));
  return {x: Array.from(gd.data[0].x), y: Array.from(gd.data[0].y), svg: svg,
          title: gd.layout.title && gd.layout.title.text};
}"""


def _move_seed_slider(page) -> None:
    """Set the panel's seed slider to 7 through its editable readout, as a learner can."""
    slider = page.locator(".widget-slider").filter(has=page.locator(".widget-label", has_text="seed"))
    slider.first.scroll_into_view_if_needed(timeout=10_000)
    readout = slider.first.locator(".widget-readout")
    readout.click(timeout=10_000)
    page.keyboard.press("Control+A")
    page.keyboard.type("7")
    page.keyboard.press("Enter")


def test_notebook01_panel_in_jupyterlab(tmp_path, browser):
    """Open notebook 01 in JupyterLab, run all cells, move the seed slider: the plot changes."""
    root = tmp_path / "root"
    root.mkdir()
    nb_path = smoke_copy(NOTEBOOK, root)
    leaked: list[str] = []
    console_errors: list[str] = []
    t0 = time.perf_counter()
    with jupyter_lab(root) as server:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        _guard_network(context, leaked)
        page = context.new_page()
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        try:
            _drive_notebook(page, server, nb_path.name)
        finally:
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            context.close()
    elapsed = time.perf_counter() - t0
    print(f"browser test: {elapsed:.1f} s; screenshot {SCREENSHOT}; "
          f"console errors (JupyterLab, informational): {len(console_errors)}")
    assert not leaked, f"requests left loopback: {leaked[:5]}"


def _drive_notebook(page, server: LabServer, name: str) -> None:
    page.goto(server.lab_url(name), timeout=60_000, wait_until="domcontentloaded")
    wait_for(page, _KERNEL_IDLE_JS, 120, "JupyterLab to open the notebook with an idle kernel")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    n_code = wait_for(page, _ALL_RUN_JS, 240, "all cells to finish running")
    errors = page.evaluate(_ERRORS_JS)
    assert not errors, f"cells raised in the browser kernel: {errors}"
    assert n_code > 5
    wait_for(page, _PANEL_PLOT_JS, 60, "the sampling panel (slider + plotly figure) to render")
    # Show the panel: scroll the last cell into view for the screenshot.
    page.locator(".jp-OutputArea-output .js-plotly-plot").last.scroll_into_view_if_needed(
        timeout=10_000)
    before = wait_for(page, _PANEL_POINTS_JS, 30, "the panel's plotted points")
    assert len(before["x"]) == 64 and len(before["svg"]) == 64, before["title"]
    _move_seed_slider(page)
    after = wait_for(
        page,
        """(before) => {
          const now = (""" + _PANEL_POINTS_JS + """)();
          return now && JSON.stringify(now.x) !== JSON.stringify(before.x) ? now : null;
        }""",
        30, "the plot to change after moving the seed slider", arg=before)
    assert len(after["x"]) == len(before["x"])
    assert after["svg"] != before["svg"], "plot data changed but the drawn SVG points did not"
    status = page.locator(".jp-OutputArea-output .widget-html").filter(has_text="discrepancy")
    assert status.count() >= 1, "the panel's status line is missing"
    page.wait_for_timeout(500)  # let plotly finish its redraw before the screenshot


# --------------------------------------------------------------------------- panels
# One JupyterLab session at 1400x900 with the file browser open; Run All while the page is
# pinned to the top, so the last panel (after a tall spacer) is created off-screen.
PANELS_CELLS = [
    "import pandas as pd\nimport plotly.graph_objects as go\nimport zoo_lab as zl",
    "proxy_panel = zl.widgets.proxy_explorer(function='sphere', n=64, scheme='sobol')\n"
    "proxy_panel.refresh.slow_ms = 0  # every browser change takes the worker path, as a slow one does\n"
    "proxy_panel",
    "rows = [dict(dim=d, scheme=s, n=n, seed=0, discrepancy=1.0 / n) for d in range(2, 7)\n"
    "        for s in ('lhs', 'sobol') for n in (16, 64, 256)]\n"
    "go.FigureWidget(zl.plots.discrepancy_figure(pd.DataFrame(rows), title='five facets'))",
    "f = zl.functions.get('sphere', 2)\n"
    "go.FigureWidget(zl.plots.landscape_figure(f, f, resolution=20, title='landscape'))",
    "from IPython.display import HTML\nHTML('<div style=\"height: 2600px\">spacer</div>')",
    "zl.widgets.sampling_explorer(scheme='lhs', n=64)",
]


@pytest.fixture(scope="module")
def panels_page(tmp_path_factory, browser):
    """The panels notebook after Run All (last panel kept off-screen), in a 1400x900 Chromium."""
    root = tmp_path_factory.mktemp("panels")
    nb = code_notebook(root / "panels.ipynb", PANELS_CELLS)
    leaked: list[str] = []
    with jupyter_lab(root) as server:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        _guard_network(context, leaked)
        page = context.new_page()
        try:
            page.goto(server.lab_url(nb.name), timeout=60_000, wait_until="domcontentloaded")
            wait_for(page, _KERNEL_IDLE_JS, 120, "JupyterLab to open the notebook with an idle kernel")
            page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:activate')")
            page.evaluate(PIN_TOP_JS)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            wait_for(page, _ALL_RUN_JS, 240, "all cells to finish running")
            assert not page.evaluate(_ERRORS_JS)
            page.wait_for_timeout(1500)  # widget views render after the kernel is idle
            page.evaluate(UNPIN_JS)
            yield page
        finally:
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT.with_name("panels.png")))
            context.close()
    assert not leaked, f"requests left loopback: {leaked[:5]}"


def test_offscreen_panel_draws_once_scrolled_into_view(panels_page):
    """Run All with the last panel off-screen, then scroll to it: its figure is drawn."""
    page = panels_page
    panels = page.evaluate(PANELS_JS)
    assert len(panels) == 2 and not panels[-1]["visible"], panels
    page.locator(".zoo-lab-panel").last.scroll_into_view_if_needed(timeout=10_000)
    last = wait_for(page, "() => { const p = (" + PANELS_JS + ")(); const q = p[p.length - 1];"
                    " return q.visible && q.drawn ? q : null; }", 30,
                    "the off-screen panel's figure to draw after scrolling to it")
    assert last["title"] == "lhs, d = 2, n = 64" and not last["stale"], last


def test_no_figure_is_wider_than_its_output_area(panels_page):
    """At 1400x900 with the file browser open, every figure fits its output area."""
    page = panels_page
    left = page.evaluate("() => { const e = document.querySelector('#jp-left-stack');"
                         " return e ? e.getBoundingClientRect().width : 0; }")
    assert left > 100, "the file browser is not open"
    for sel in (".zoo-lab-panel", ".jp-OutputArea-output .js-plotly-plot"):
        for k in range(page.locator(sel).count()):  # draw every figure once
            page.locator(sel).nth(k).scroll_into_view_if_needed(timeout=10_000)
            page.wait_for_timeout(300)
    widths = page.evaluate(WIDTHS_JS)
    assert len(widths) >= 4, widths
    too_wide = [w for w in widths if w["fig"] > w["area"] + 1]
    assert not too_wide, f"figures wider than their output area: {too_wide}"


def test_rapid_changes_end_on_the_last_choice(panels_page):
    """Three quick scheme picks on the slow proxy panel: the figure ends on the last one."""
    page = panels_page
    panel = page.locator(".zoo-lab-panel").first
    panel.scroll_into_view_if_needed(timeout=10_000)
    select = panel.locator(".widget-dropdown").filter(
        has=page.locator(".widget-label", has_text="scheme")).locator("select")
    page.evaluate("""() => { window.__sawStale = false;
      const p = document.querySelector('.zoo-lab-panel');
      const look = () => { const st = p.querySelector('.zoo-lab-status');
        if (p.querySelector('.zoo-lab-stale') && st && st.innerText.includes('computing'))
          window.__sawStale = true; };
      window.__obs = new MutationObserver(look);
      window.__obs.observe(p, {subtree: true, attributes: true, childList: true, characterData: true});
    }""")
    for scheme in ("lhs", "halton", "uniform"):
        select.select_option(scheme)
    done = wait_for(page, "() => { const p = (" + PANELS_JS + ")()[0];"
                    " return p.title && p.title.includes('uniform') && !p.stale"
                    " && !p.status.includes('computing') ? p : null; }", 60,
                    "the proxy panel to finish on the last pick (uniform)")
    assert done["title"].startswith("sphere 2D, uniform n = 64"), done
    assert select.input_value() == "uniform"
    assert page.evaluate("() => { window.__obs.disconnect(); return window.__sawStale; }"), (
        "the figure was never greyed with 'computing…' while the picks were computed")
    page.wait_for_timeout(2000)  # nothing older may arrive later and overwrite it
    assert page.evaluate(PANELS_JS)[0]["title"] == done["title"]


def test_a_reattached_figure_draws_the_current_state(panels_page):
    """The remedy for a never-drawn figure (a fresh view of the same model) shows the latest figure."""
    page = panels_page
    page.locator(".zoo-lab-panel").first.scroll_into_view_if_needed(timeout=10_000)
    before = page.evaluate(PANELS_JS)[0]
    page.evaluate("""() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel
      .requestExecute({code: 'proxy_panel.visibility._on_undrawn()'}).done""")
    page.wait_for_timeout(1000)
    after = wait_for(page, "() => { const p = (" + PANELS_JS + ")()[0]; return p.drawn ? p : null; }",
                     30, "the re-attached figure to draw")
    assert after["title"] == before["title"] and before["title"], (before, after)


# --------------------------------------------------------------------------- hand-outs

HANDOUT_NOTEBOOKS = notebook_paths(ROOT / "notebooks")
MATHJAX = find_mathjax()
# MathJax 2 is done when its queue is empty after start-up; each formula is a math/tex script,
# rendered ones get a .MathJax_SVG element, failed TeX a .noError/.merror one.
_MATHJAX_DONE_JS = """() => !!(window.MathJax && MathJax.isReady && MathJax.Hub
  && MathJax.Hub.queue.pending === 0 && !MathJax.Hub.queue.running)"""
_MATHJAX_COUNTS_JS = """() => ({
  formulas: document.querySelectorAll('script[type^="math/tex"]').length,
  rendered: [...document.querySelectorAll('.MathJax_SVG')].filter(e => e.querySelector('svg')).length,
  failed: document.querySelectorAll('.noError, .merror').length,
  dollars: [...document.querySelectorAll('.jp-MarkdownOutput')]
    .map(e => (e.innerText.match(/\\$[^$\\n]{1,80}\\$/g) || []).length).reduce((a, b) => a + b, 0)})"""


def _check_page_file(page: Path) -> None:
    """No remote script/link, no require.js, no widget view, plotly.js embedded at most once."""
    text = page.read_text(encoding="utf-8")
    remote = REMOTE_URL_RE.findall(text)
    assert not remote, f"{page.name} loads from the network: {remote[:3]}"
    assert not re.search(r"require(\.min)?\.js", text), f"{page.name} references require.js"
    assert "widget-view+json" not in text, f"{page.name} keeps a widget view"
    if "plotly-graph-div" in text:
        assert text.count("plotly.js v") == 1, f"{page.name}: plotly.js not embedded exactly once"


@pytest.mark.parametrize("nb", HANDOUT_NOTEBOOKS, ids=[p.stem for p in HANDOUT_NOTEBOOKS])
def test_handout_opens_offline(nb: Path, tmp_path, browser):
    """``zoo-lab run --smoke`` a notebook; its index and page load from file:// with no console
    error, every figure drawn, and not one request leaving the machine."""
    out = tmp_path / "handout"
    cmd = [sys.executable, "-m", "zoo_lab.cli", "run", "--smoke", "--out", str(out),
           "--timeout", str(HANDOUT_TIMEOUT), str(nb)]
    env = {k: v for k, v in os.environ.items() if k != "ZOO_LAB_MATHJAX_URL"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=HANDOUT_TIMEOUT + 120)
    assert proc.returncode == 0, f"zoo-lab run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    page_file = out / nb.with_suffix(".html").name
    for f in (out / "index.html", page_file):
        _check_page_file(f)
    if nb == NOTEBOOK:
        assert "lhs, d = 2, n = 64" in page_file.read_text(encoding="utf-8"), (
            "the sampling panel's static figure is missing from the hand-out")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    leaked: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    _guard_network(context, leaked)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        page.goto((out / "index.html").as_uri(), timeout=30_000, wait_until="load")
        links = page.eval_on_selector_all("a[href$='.html']", "els => els.map(e => e.href)")
        assert [Path(u).name for u in links] == [page_file.name]
        page.goto(links[0], timeout=60_000, wait_until="load")
        n_div = page.locator(".plotly-graph-div").count()
        if n_div:  # every figure div got drawn by the embedded plotly.js
            wait_for(page, "(n) => document.querySelectorAll('.plotly-graph-div .main-svg').length >= n",
                     30, f"{page_file.name}: figures to draw", arg=n_div)
        maths = _check_maths(page, page_file, nb == NOTEBOOK)
        assert not errors, f"{page_file.name}: console errors {errors[:3]}"
        print(f"hand-out {page_file.name}: {n_div} figures drawn, {maths}, no console error")
    finally:
        context.close()
    outside = [u for u in requests if not is_local(u)]
    assert not outside and not leaked, f"requests left the machine: {outside[:5]}"


def _check_maths(page, page_file: Path, expect_math: bool) -> str:
    """With MathJax installed every formula renders as SVG; without, the page says why."""
    if MATHJAX is None:
        assert MATHJAX_NOTE in page.content(), f"{page_file.name}: no note that maths is TeX source"
        return "maths as TeX source (no MathJax installed)"
    assert (page_file.parent / "_static" / "mathjax" / "MathJax.js").is_file()
    wait_for(page, _MATHJAX_DONE_JS, 60, f"{page_file.name}: MathJax to typeset the page")
    n = page.evaluate(_MATHJAX_COUNTS_JS)
    if expect_math:
        assert n["formulas"] > 10, f"{page_file.name}: MathJax found no formulas: {n}"
    assert n["rendered"] == n["formulas"], f"{page_file.name}: formulas not all rendered: {n}"
    assert n["failed"] == 0, f"{page_file.name}: TeX errors in {n['failed']} formulas"
    assert n["dollars"] == 0, f"{page_file.name}: $...$ left as text: {n}"
    return f"{n['rendered']} formulas rendered by MathJax (SVG)"
