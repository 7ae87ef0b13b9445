"""The notebooks as a course: objectives, time and summary; real coding exercises; 00 maps them all.

Conventions checked here (every notebook found by glob, so new ones are held to them):
- the first markdown cell states **Objectives**, **Prerequisites** and **Time** (in minutes; a
  trailing "." or ":" inside the bold is fine);
- a markdown cell headed ``## Summary`` comes after the "Try it" section;
- notebooks 01-09 have at least two coding exercises: a code cell that defines a stub raising
  ``NotImplementedError`` and calls a ``zl.teaching.check_*``; its reference answer is filled
  in only under ``if SOLUTIONS:`` (never under SMOKE), and at least one "Think!" prompt;
- no ``<=`` in the parameters cell (papermill warns on it in comments);
- 00 names every other notebook of the folder.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pytest

import zoo_lab as zl

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
NUMBERED = [p for p in ALL if re.match(r"^(0[1-9])_", p.name)]
_TIME_RE = re.compile(r"\*\*Time[.:]?\*\*[^\n]*?\b\d+\s*(?:-|–)?\s*\d*\s*min", re.IGNORECASE)


# Issue 13 splits the course: 05-07 are converted in branch courseb (part B). Until that merge, an
# unconverted copy (no **Objectives** at the top) of exactly these three is skipped, with the reason;
# once converted copies arrive the skip no longer applies. Any other notebook is always held to the rules.
_PART_B = ("05_", "06_", "07_")


def _read(path: Path):
    nb = nbformat.read(path, as_version=4)
    if path.name.startswith(_PART_B) and not re.search(r"\*\*Objectives", nb.cells[0].source):
        pytest.skip(f"{path.name}: converted in branch courseb (issue 13 part B), not merged here yet")
    return nb


def _md(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def coding_exercise_cells(nb) -> list[str]:
    """Code cells with a NotImplementedError stub that are checked by zl.teaching."""
    return [c.source for c in nb.cells if c.cell_type == "code"
            and re.search(r"^\s*raise NotImplementedError", c.source, re.MULTILINE)
            and "zl.teaching.check" in c.source]


def test_the_course_has_notebooks():
    assert len(ALL) >= 5 and any(p.name.startswith("00_") for p in ALL)


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_notebook_opens_with_objectives_prerequisites_and_time(path):
    first = _read(path).cells[0]
    assert first.cell_type == "markdown", path.name
    for word in ("Objectives", "Prerequisites", "Time"):  # "**Time**:" or "**Time.**"
        assert re.search(rf"\*\*{word}[.:]?\*\*", first.source), f"{path.name}: first cell lacks **{word}**"
    assert _TIME_RE.search(first.source), f"{path.name}: give the learner time in minutes"


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_notebook_ends_with_a_summary_after_try_it(path):
    md = _md(_read(path))
    summary = [i for i, s in enumerate(md) if re.search(r"^## Summary", s, re.MULTILINE)]
    assert summary, f"{path.name}: needs a '## Summary' cell"
    try_it = [i for i, s in enumerate(md) if "Try it" in s]
    assert not try_it or summary[-1] > try_it[-1], f"{path.name}: the summary comes after 'Try it'"
    assert len(md[summary[-1]].split()) >= 30, f"{path.name}: the summary is too short to help"


@pytest.mark.parametrize("path", NUMBERED, ids=[p.name for p in NUMBERED])
def test_notebook_has_two_coding_exercises_and_think_prompts(path):
    nb = _read(path)
    cells = coding_exercise_cells(nb)
    assert len(cells) >= 2, f"{path.name}: needs >= 2 coding exercises, found {len(cells)}"
    assert any("Think!" in s for s in _md(nb)), f"{path.name}: needs a 'Think!' prompt"
    for src in cells:
        assert "if SOLUTIONS:" in src, f"{path.name}: fill reference answers only under SOLUTIONS:\n{src}"


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_smoke_never_fills_answers(path):
    """Learner hand-outs are smoke runs: an exercise's answer is filled only by SOLUTIONS."""
    for c in _read(path).cells:
        if c.cell_type == "code":
            assert not re.search(r"if\s+SMOKE\s+or\s+SOLUTIONS|if\s+SOLUTIONS\s+or\s+SMOKE", c.source), (
                f"{path.name}: SMOKE must not fill answers:\n{c.source}")


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_checked_exercise_keys_exist(path):
    """Every check_code / show_solution key a notebook names is a registered exercise."""
    known = set(zl.teaching.exercise_names()) | set(zl.teaching.SOLUTIONS)
    for c in _read(path).cells:
        for key in re.findall(r"(?:check_code|show_solution|solution)\(\s*[\"']([^\"']+)[\"']", c.source):
            assert key in known, f"{path.name}: unknown exercise {key!r}"


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_parameter_comments_have_no_less_equal(path):
    params = next(c for c in _read(path).cells if c.cell_type == "code")
    assert "<=" not in params.source, f"{path.name}: papermill warns on '<=' in the parameters cell"


def test_start_here_maps_every_notebook_and_both_tracks():
    start = next(p for p in ALL if p.name.startswith("00_"))
    text = "\n".join(_md(_read(start)))
    for p in ALL:
        if p != start:
            assert p.name in text, f"00 does not name {p.name}"
    assert "ZO track" in text and "proxy track" in text.lower() and "90-minute" in text


# ----------------------------------------------------------------------------- hand-outs


def _exercise_notebook(path: Path, solutions_default: bool) -> Path:
    """A two-exercise notebook shaped like the course's (a committed SOLUTIONS default either way)."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    params = new_code_cell(f"SMOKE = False\nSOLUTIONS = {solutions_default}\n")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[
        new_markdown_cell("# 98 · Hand-out test"), params,
        new_code_cell("import zoo_lab as zl"),
        new_code_cell('def my_vjp_row(program, z, v, U, mu):\n    raise NotImplementedError\n\n\n'
                      'if SOLUTIONS:\n    zl.teaching.show_solution("03.vjp_row")\n'
                      '    my_vjp_row = zl.teaching.solution("03.vjp_row")\n'
                      'zl.teaching.check_code("03.vjp_row", my_vjp_row)'),
        new_code_cell('my_choice = None\nif SOLUTIONS:\n    my_choice = zl.teaching.solution("exact_vjp_estimator")\n'
                      'zl.teaching.check_quiz("exact_vjp_estimator", my_choice)'),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.notebook
@pytest.mark.parametrize("committed", [False, True], ids=["committed-off", "committed-on"])
def test_smoke_handout_has_no_solution_text_and_instructor_copy_has_it(tmp_path, committed):
    """`zoo-lab run --smoke` writes learner copies: no solution code, no answer, nothing passed,
    even when the committed notebook says SOLUTIONS = True; `--instructor` shows them, bannered."""
    from zoo_lab import cli

    nb = _exercise_notebook(tmp_path / "98_handout_test.ipynb", committed)
    source_lines = [html.escape(ln.strip(), quote=False) for ln in zl.teaching.solution_source("03.vjp_row").splitlines()[1:]
                    if len(ln.strip()) > 20]
    assert source_lines
    assert cli.main(["run", str(nb), "--smoke", "--out", str(tmp_path / "learner")]) == 0
    learner = (tmp_path / "learner" / "98_handout_test.html").read_text(encoding="utf-8")
    assert "not yet" in learner and "passed" not in learner.replace("not yet", "")
    assert "reference solution" not in learner and "reference answer" not in learner
    assert learner.count("(hidden: give an answer first)") == 2  # both expected answers hidden
    assert cli.INSTRUCTOR_BANNER not in learner
    for line in source_lines:
        assert line not in learner, line
    assert cli.main(["run", str(nb), "--smoke", "--instructor", "--out", str(tmp_path / "instr")]) == 0
    teacher = (tmp_path / "instr" / "98_handout_test.html").read_text(encoding="utf-8")
    assert cli.INSTRUCTOR_BANNER in teacher and "reference solution of 03.vjp_row" in teacher
    assert "def my_vjp_row(" in teacher and "✔ passed" in teacher
    assert any(line in teacher for line in source_lines)


def test_handout_drops_frozen_progress_bars_but_keeps_warnings():
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from zoo_lab import cli

    bar = "fits:   0%|          | 0/4 [00:00<?, ?it/s]\rfits: 100%|##########| 4/4 [00:02<00:00,  1.9it/s]\n"
    nb = new_notebook(cells=[new_code_cell("run()", outputs=[
        new_output("stream", name="stderr", text=bar),
        new_output("stream", name="stderr", text="UserWarning: 50% of the runs | failed\n" + bar),
        new_output("stream", name="stdout", text="done 4/4\n")])])
    out, _ = cli.handout_notebook(nb)
    texts = [o["text"] for o in out.cells[0].outputs]
    assert texts == ["UserWarning: 50% of the runs | failed\n", "done 4/4\n"], texts


def test_instructor_guide_covers_timings_path_prerun_and_handouts():
    guide = (NOTEBOOKS.parent / "docs" / "instructor.md").read_text(encoding="utf-8")
    for needle in ("90-minute path", "What to pre-run", "--instructor", "--smoke", "learner time"):
        assert needle in guide, needle
    for p in ALL:  # every notebook has a row in the timings table
        assert re.search(rf"^\| {re.escape(p.name.split('_')[0])} ", guide, re.MULTILINE), p.name
