"""Execute every notebook under papermill with SMOKE=True on the project's own kernel.

Executed copies are kept under build/notebooks/ for inspection. pytest-xdist
spreads the notebooks over workers; each run has its own timeout.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from zoo_lab.cli import KERNEL_NAME, SMOKE_PARAMETERS, notebook_paths

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "notebooks"
NOTEBOOKS = notebook_paths(ROOT / "notebooks")
TIMEOUT = int(os.environ.get("ZOO_LAB_NOTEBOOK_TIMEOUT", "240"))


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_smoke(path: Path):
    declared = {p for p in pm.inspect_notebook(str(path))}
    unknown = set(SMOKE_PARAMETERS) - declared
    assert not unknown, f"{path.name}: parameters cell lacks {sorted(unknown)}"
    BUILD.mkdir(parents=True, exist_ok=True)
    out = BUILD / path.name
    pm.execute_notebook(
        str(path),
        str(out),
        parameters=SMOKE_PARAMETERS,
        kernel_name=KERNEL_NAME,
        cwd=str(path.parent),
        store_widget_state=False,
        execution_timeout=TIMEOUT,
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors, json.dumps(errors[0])[:2000]
    # a smoke run is what a learner hand-out is made of: no solution shown, no exercise passed
    shown = [json.dumps(o) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    leaks = [s for s in shown if "reference solution of" in s or "reference answer of" in s
             or "[PASSED]" in s]
    assert not leaks, f"{path.name}: a smoke run shows a solution or a passed exercise: {leaks[0][:500]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_committed_clean(path: Path):
    """Notebooks are committed without outputs, with a tagged parameters cell holding SMOKE."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    for c in code:
        assert not c.get("outputs"), f"{path.name}: a code cell has committed outputs"
        assert c.get("execution_count") is None, f"{path.name}: committed execution counts"
    first = code[0]
    assert "parameters" in first.metadata.get("tags", []), f"{path.name}: first code cell untagged"
    assert "SMOKE = False" in first.source, f"{path.name}: parameters cell must set SMOKE = False"
    assert nb.cells[0].cell_type == "markdown", f"{path.name} must open with an explanation"
    assert any("Try it" in c.source for c in nb.cells if c.cell_type == "markdown"), (
        f"{path.name}: needs a 'Try it' section"
    )
