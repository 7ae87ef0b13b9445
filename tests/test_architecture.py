"""The house rules of docs/architecture.md: layers import only downwards, and no import cycle.

Every module under zoo_lab/ is parsed (imports inside functions included, since a
function-level import is still a dependency), each import is resolved to a zoo_lab
module, and two things are checked: no module imports a layer above its own (or a peer
subsystem on the same layer), and the graph of module-level imports has no cycle.
Every module is also imported for real, so a cycle that only shows at run time fails too.
"""

from __future__ import annotations

import ast
import importlib
import pathlib
import warnings

import pytest

from zoo_lab._util.aliases import MOVED

ROOT = pathlib.Path(__file__).resolve().parents[1] / "zoo_lab"

# rank of each subsystem: a module may import its own subsystem or a strictly lower rank
LAYERS = {
    "_util": 0,
    "problems": 1,
    "sampling": 1,
    "zo": 2,
    "surrogate": 2,
    "coupling": 3,
    "optimize": 3,
    "studies": 4,
    "plots": 5,
    "widgets": 6,
    "teaching": 6,
    "handouts": 7,
    "cli": 8,
}


def _module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(name: str) -> str:
    """The longest prefix of ``name`` that is a zoo_lab module (``from pkg import sub`` -> sub)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(module: str, path: pathlib.Path) -> list[tuple[str, int, bool]]:
    """(imported zoo_lab module, line, at module level?) for every import in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top = {id(n) for n in tree.body}
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "zoo_lab":
                found.append((name, node.lineno, id(node) in top))
    return found


def _subsystem(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_module_is_in_a_layer():
    for module in MODULES:
        sub = _subsystem(module)
        assert sub is None or sub in LAYERS, f"{module}: subsystem {sub!r} has no layer in LAYERS"


def test_no_upward_or_sideways_import():
    bad = []
    for module, path in MODULES.items():
        sub = _subsystem(module)
        if sub is None:  # zoo_lab/__init__.py loads subsystems lazily by name
            continue
        for name, line, _ in _imports(module, path):
            if name in MOVED or _resolve(name) in MOVED:
                bad.append(f"{module}:{line} uses the deprecated path {name}")
                continue
            target = _subsystem(_resolve(name))
            if target is None or target == sub:
                continue
            if LAYERS[target] >= LAYERS[sub]:
                bad.append(f"{module}:{line} ({sub}, layer {LAYERS[sub]}) imports {name} "
                           f"({target}, layer {LAYERS[target]})")
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _graph(module_level_only: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        for name, _, top in _imports(module, path):
            target = _resolve(name)
            if target != module and (top or not module_level_only) and target in MODULES:
                graph.setdefault(module, set()).add(target)
    return graph


def test_no_import_cycle():
    cycles = _cycles(_graph(module_level_only=True))
    assert not cycles, f"import cycles: {cycles}"


def test_the_cycle_detector_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_alone(module):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        importlib.import_module(module)


def test_every_subsystem_has_a_docstring():
    for sub in LAYERS:
        path = ROOT / sub / "__init__.py" if (ROOT / sub).is_dir() else ROOT / f"{sub}.py"
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc and len(doc.split()) >= 20, f"{path}: needs a one-paragraph docstring"
