"""What plotly.js really draws, in Chromium at the column's width: log tick labels are powers
of ten written 1e−4 style, and no colour bar overlaps a plot area or another colour bar."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from _figures import CASES

from zoo_lab.plots._style import MAX_WIDTH

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notebooks"))
from _jupyter_server import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (make browser)"),
]

# Plotly writes 10^k as 1e−k / 1e+k beyond two decades of 1, plainly within them (U+2212 minus).
POWER_OF_TEN = re.compile(r"^(1e[−+]\d+|0\.0?1|1|10|100)$")

AXES_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => {
  const L = gd._fullLayout;
  const axes = Object.keys(L).filter(k => /^[xy]axis\\d*$/.test(k) && L[k]._vals).map(k =>
    ({name: k, type: L[k].type, shown: L[k].showticklabels, ticks: L[k]._vals.filter(v => !v.minor).map(v => v.text)}));
  const box = e => { const r = e.getBoundingClientRect();
                     return [r.left, r.top, r.right, r.bottom]; };
  return {id: gd.id, axes,
          plots: [...gd.querySelectorAll('.draglayer .nsewdrag')].map(box),
          bars: [...gd.querySelectorAll('g.colorbar')].map(box)};
})"""


def _overlap(a, b, tol: float = 0.5) -> bool:
    return a[0] < b[2] - tol and b[0] < a[2] - tol and a[1] < b[3] - tol and b[1] < a[3] - tol


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every case figure drawn in one page at the column's width; the layout facts read back."""
    from playwright.sync_api import sync_playwright

    parts, first = [], True
    for name, make in CASES.items():
        fig, _ = make()
        fig.update_layout(width=MAX_WIDTH)  # autosized figures take the column: at most this
        parts.append(fig.to_html(full_html=False, include_plotlyjs=first, div_id=name))
        first = False
    page_file = tmp_path_factory.mktemp("rendered") / "figures.html"
    page_file.write_text("<html><head><meta charset='utf-8'></head><body>" + "".join(parts)
                         + "</body></html>", encoding="utf-8")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
                               timeout=60_000)
        try:
            page = b.new_page(viewport={"width": 1400, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page.goto(page_file.as_uri())
            page.wait_for_function(f"() => document.querySelectorAll('.main-svg').length >= {len(CASES)}",
                                   timeout=60_000)
            page.wait_for_timeout(500)
            return {r["id"]: r for r in page.evaluate(AXES_JS)}
        finally:
            b.close()


def test_every_figure_was_drawn(rendered):
    assert set(rendered) == set(CASES)


@pytest.mark.parametrize("builder", sorted(CASES))
def test_log_tick_labels_are_powers_of_ten_in_e_style(rendered, builder):
    for ax in rendered[builder]["axes"]:
        if ax["type"] != "log" or not ax["shown"]:  # a shared axis hides its labels
            continue
        bad = [t for t in ax["ticks"] if not POWER_OF_TEN.match(t)]
        assert bad == [], (builder, ax["name"], ax["ticks"])
        assert 2 <= len(ax["ticks"]) <= 8, (builder, ax["name"], ax["ticks"])


@pytest.mark.parametrize("builder", sorted(CASES))
def test_no_colour_bar_overlaps_a_plot_or_another_bar(rendered, builder):
    r = rendered[builder]
    for k, bar in enumerate(r["bars"]):
        assert not any(_overlap(bar, p) for p in r["plots"]), (builder, bar, r["plots"])
        assert not any(_overlap(bar, o) for o in r["bars"][k + 1:]), (builder, r["bars"])
        assert bar[2] <= MAX_WIDTH + 10  # inside the figure (plus the page's 8 px body margin)
