"""Hand-out HTML without a browser: figures re-rendered offline, no CDN, plotly.js once, index."""

from __future__ import annotations

import nbformat
import plotly.graph_objects as go
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from zoo_lab import cli, handouts


def _executed_notebook(tmp_path):
    """A fake executed notebook shaped like papermill's output with the notebook renderer."""
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2]))
    # plotly's notebook renderer injects plotly.js as an output of its own: a "loader"
    loader_html = ("<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script><script>"
                   + "/* plotly.js */" + " " * 200_000 + "</script>")
    cdn_fig_html = ('<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/3.2.2/es5/'
                    'tex-svg.min.js"></script><div class="plotly-graph-div"></div>')
    nb = new_notebook(cells=[
        new_markdown_cell("# 99 · A test page\n\nSome math $x^2$."),
        new_code_cell("fig.show()", outputs=[
            new_output("display_data", data={"text/html": loader_html}),
            new_output("display_data", data={cli.PLOTLY_MIME: fig.to_plotly_json(),
                                             "text/html": cdn_fig_html}),
        ]),
        new_code_cell("panel", outputs=[new_output("execute_result", execution_count=2, data={
            cli.WIDGET_MIME: {"model_id": "abc", "version_major": 2, "version_minor": 0},
            "text/plain": "Panel(...)",
            cli.PLOTLY_MIME: fig.to_plotly_json()})]),
        new_code_cell("only_widget", outputs=[new_output("display_data", data={
            cli.WIDGET_MIME: {"model_id": "def", "version_major": 2, "version_minor": 0}})]),
    ])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    path = tmp_path / "99_test_page.ipynb"
    nbformat.write(nb, path)
    return path


def _fake_mathjax(root):
    """A folder shaped like Debian's MathJax 2: every file and folder a hand-out needs."""
    for rel in handouts._MATHJAX_FILES:
        f = root / rel
        if "." in rel.rsplit("/", 1)[-1]:
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(f"/* {rel} */", encoding="utf-8")
        else:
            f.mkdir(parents=True, exist_ok=True)
            (f / "part.js").write_text(f"/* {rel}/part.js */", encoding="utf-8")
    (root / "unpacked").mkdir()  # not needed: must not be copied
    (root / "unpacked" / "big.js").write_text("/* big */", encoding="utf-8")
    return root


def test_write_html_is_offline(tmp_path, monkeypatch):
    monkeypatch.delenv(cli.MATHJAX_ENV, raising=False)
    monkeypatch.setattr(handouts, "MATHJAX_DIRS", (tmp_path / "no-mathjax",))
    page = cli.write_html(_executed_notebook(tmp_path))
    text = page.read_text(encoding="utf-8")
    assert not cli.REMOTE_URL_RE.findall(text)
    assert "require.js" not in text and "require.min.js" not in text
    assert "widget-view+json" not in text and "/* plotly.js */" not in text
    assert text.count("plotly.js v") == 1  # embedded once, in the head
    assert text.index("plotly.js v") < text.index("</head>")
    assert text.count('class="plotly-graph-div"') == 2  # the figure and the panel's static copy
    assert "$x^2$" in text  # math stays as TeX source without a MathJax copy
    assert text.count(cli.MATHJAX_NOTE) == 1  # ... and the page says why, once
    assert "x-mathjax-config" not in text and "MathJax.js" not in text
    assert not (tmp_path / "_static").exists()


def test_mathjax_is_copied_next_to_the_pages(tmp_path, monkeypatch):
    monkeypatch.delenv(cli.MATHJAX_ENV, raising=False)
    fake = _fake_mathjax(tmp_path / "usr" / "mathjax")
    monkeypatch.setattr(handouts, "MATHJAX_DIRS", (tmp_path / "missing", fake))
    assert cli.find_mathjax() == fake
    out = tmp_path / "out"
    out.mkdir()
    page = cli.write_html(_executed_notebook(out))
    text = page.read_text(encoding="utf-8")
    url = "_static/mathjax/MathJax.js?config=TeX-AMS_SVG-full,Safe"
    assert text.count(f'src="{url}"') == 1 and cli.MATHJAX_NOTE not in text
    assert "x-mathjax-config" in text  # nbconvert's $...$ delimiters for MathJax
    assert not cli.REMOTE_URL_RE.findall(text)
    static = out / "_static" / "mathjax"
    for rel in handouts._MATHJAX_FILES:  # the relative URL and every file MathJax loads resolve
        assert (static / rel).exists(), rel
    assert (out / url.split("?")[0]).is_file()
    assert not (static / "unpacked").exists()
    assert not list(out.glob("_static/mathjax.tmp-*"))
    # a second page reuses the copy; an interrupted copy (no stamp) is replaced
    (static / "MathJax.js").write_text("/* kept */", encoding="utf-8")
    cli.write_html(page.with_suffix(".ipynb"))
    assert (static / "MathJax.js").read_text(encoding="utf-8") == "/* kept */"
    (static / ".complete").unlink()
    assert cli.stage_mathjax(out) == url
    assert (static / "MathJax.js").read_text(encoding="utf-8") == "/* MathJax.js */"


def test_incomplete_mathjax_install_is_not_used(tmp_path, monkeypatch):
    fake = _fake_mathjax(tmp_path / "mathjax")
    (fake / "jax" / "output" / "SVG" / "jax.js").unlink()
    monkeypatch.setattr(handouts, "MATHJAX_DIRS", (fake,))
    assert cli.find_mathjax() is None and cli.stage_mathjax(tmp_path / "out") is None


@pytest.mark.skipif(cli.find_mathjax() is None, reason="no MathJax installed (libjs-mathjax)")
def test_system_mathjax_has_what_svg_output_needs(tmp_path):
    url = cli.stage_mathjax(tmp_path)
    static = tmp_path / "_static" / "mathjax"
    assert (tmp_path / url.split("?")[0]).is_file()
    assert (static / "jax" / "output" / "SVG" / "fonts" / "TeX" / "fontdata.js").is_file()
    assert (static / "config" / "TeX-AMS_SVG-full.js").is_file()
    size = sum(f.stat().st_size for f in static.rglob("*") if f.is_file())
    assert size < 8e6, f"{size / 1e6:.1f} MB copied: only the TeX->SVG files should be"


def test_mathjax_url_can_point_at_a_local_copy(tmp_path, monkeypatch):
    monkeypatch.setenv(cli.MATHJAX_ENV, "mathjax/MathJax.js?config=TeX-AMS_CHTML")
    text = cli.write_html(_executed_notebook(tmp_path)).read_text(encoding="utf-8")
    assert text.count('src="mathjax/MathJax.js?config=TeX-AMS_CHTML"') == 1  # loaded once
    assert "_static/mathjax" not in text and cli.MATHJAX_NOTE not in text
    assert not cli.REMOTE_URL_RE.findall(text)


def test_handout_notebook_drops_widgets_and_counts_figures(tmp_path):
    nb = nbformat.read(_executed_notebook(tmp_path), as_version=4)
    nb, n = cli.handout_notebook(nb)
    assert n == 2
    assert "widgets" not in nb.metadata
    kinds = [[sorted(o.get("data", {})) for o in c.outputs] for c in nb.cells if c.cell_type == "code"]
    assert kinds == [[["text/html"]], [["text/html", "text/plain"]], []]


def test_index_links_pages_by_title(tmp_path, monkeypatch):
    monkeypatch.setattr(handouts, "MATHJAX_DIRS", ())
    page = cli.write_html(_executed_notebook(tmp_path))
    index = cli.write_index(tmp_path, [page]).read_text(encoding="utf-8")
    assert 'href="99_test_page.html"' in index and "99 · A test page" in index
    assert "<script" not in index
