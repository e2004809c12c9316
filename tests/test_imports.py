"""The import graph of the app's own code: no cycle anywhere, every module imports first, the layers hold.

- The graph is read from the source (every ``import``/``from … import`` of ``ragft``, ``session`` and
  ``components``, at any depth of a module: inside a function counts too) at module and at package level; any
  cycle fails with its path.
- Each module is imported with every module of the three packages forgotten first, in one process (third-party
  packages stay loaded, so this is quick). A cycle that hides behind an import order shows as an ImportError.
- The layers: the core (``ragft``) imports neither streamlit nor the app's packages; the session layer imports no
  widget (``components``).
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

import pytest

import components
import ragft
import session

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"ragft": ragft, "session": session, "components": components}


def own_modules(*names: str) -> list[str]:
    found: list[str] = []
    for name in names or tuple(PACKAGES):
        pkg = PACKAGES[name]
        found.append(name)
        found += [m.name for m in pkgutil.walk_packages(pkg.__path__, f"{name}.") if not m.name.endswith("__main__")]
    return sorted(found)


def source_of(module: str) -> Path:
    path = ROOT / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imports_of(module: str, known: set[str]) -> set[str]:
    """The app's modules that ``module`` imports (``from pkg import mod`` counts as ``pkg.mod`` when it is one)."""
    tree = ast.parse(source_of(module).read_text(encoding="utf-8"))
    is_pkg = source_of(module).name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = module.split(".") if is_pkg else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                if f"{target}.{alias.name}" in known:
                    out.add(f"{target}.{alias.name}")
                elif target in known:
                    out.add(target)
    out.discard(module)
    return out


def graph(level: str = "module") -> dict[str, set[str]]:
    modules = own_modules()
    known = set(modules)
    edges = {m: imports_of(m, known) for m in modules}
    if level == "module":
        return edges

    def pkg(m: str) -> str:  # ragft.knowledge.store -> ragft.knowledge, ragft.settings stays; session.keys -> session
        parts = m.split(".")
        return ".".join(parts[:2]) if parts[0] == "ragft" else parts[0]

    folded: dict[str, set[str]] = {}
    for m, targets in edges.items():
        folded.setdefault(pkg(m), set()).update(pkg(t) for t in targets if pkg(t) != pkg(m))
    return folded


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_imports_inside_functions():
    edges = graph()
    assert "session.config" in edges["session.models"]
    assert any(t.startswith("ragft.") for t in edges["session.models"])


@pytest.mark.parametrize("level", ["module", "package"])
def test_no_import_cycle(level):
    cycle = find_cycle(graph(level))
    assert cycle is None, " → ".join(cycle or [])


def test_the_layers_point_one_way():
    edges = graph()
    for module, targets in edges.items():
        if module.startswith("ragft"):
            assert not {t for t in targets if not t.startswith("ragft")}, (module, targets)
        if module.startswith("session"):
            assert not {t for t in targets if t.startswith("components")}, (module, targets)


def forget_own() -> None:
    for name in [n for n in sys.modules if n.split(".")[0] in PACKAGES]:
        del sys.modules[name]


@pytest.mark.parametrize("module", own_modules())
def test_module_imports_first(module):
    saved = {n: m for n, m in sys.modules.items() if n.split(".")[0] in PACKAGES}
    forget_own()
    try:
        importlib.import_module(module)
    finally:
        forget_own()
        sys.modules.update(saved)  # the rest of the suite keeps the modules (and their state) it already holds


def test_the_core_never_imports_streamlit():
    for module in own_modules("ragft"):
        tree = ast.parse(source_of(module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not [n for n in names if n.split(".")[0] == "streamlit"], module
