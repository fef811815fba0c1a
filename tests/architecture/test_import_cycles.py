"""The packages of phonasr form a directed acyclic graph: no folder imports a folder that imports it back.

Walks every module's imports (top-level and inside functions, since both bind the packages together) with ast,
so the test needs no import of the code and sees imports that are only reached at run time.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

PACKAGE = Path(__file__).resolve().parents[2] / "phonasr"


def _package_of(module: str) -> str:
    """``phonasr.jsa.step`` -> ``jsa``; modules at the package root (``phonasr.__init__``) -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()) else ""


def package_graph() -> Dict[str, Set[str]]:
    graph: Dict[str, Set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts)
        source = _package_of(module)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: List[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.startswith("phonasr."):
                    target = _package_of(name)
                    if target and source and target != source:
                        graph.setdefault(source, set()).add(target)
    return graph


def find_cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """One cycle as a list of nodes (first == last), or [] when the graph is acyclic."""
    state: Dict[str, int] = {}
    stack: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_no_import_cycle_between_packages() -> None:
    cycle = find_cycle(package_graph())
    assert not cycle, "import cycle between phonasr packages: " + " -> ".join(cycle)


def test_cycle_finder_sees_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}}) == []


def test_no_worker_imports_another_worker() -> None:
    workers = sorted((PACKAGE / "bin").glob("*.py"))
    offenders = []
    for path in workers:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("phonasr.bin"):
                offenders.append(f"{path.name} imports {node.module}")
            elif isinstance(node, ast.Import):
                offenders += [f"{path.name} imports {a.name}" for a in node.names if a.name.startswith("phonasr.bin")]
    assert not offenders, "workers must call the library, not each other: " + "; ".join(offenders)
