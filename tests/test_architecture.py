"""The package's layers import one way: the package-level import graph has no cycle.

Built from the source with ``ast`` (every ``import`` / ``from ... import`` anywhere in a
module, function-local and ``TYPE_CHECKING`` imports included), with nodes the first-level
parts of ``bayes_bcsm`` (sub-packages and top-level modules).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import bayes_bcsm

PACKAGE = Path(bayes_bcsm.__file__).resolve().parent


def _node(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "bayes_bcsm" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for item in ast.walk(tree):
        if isinstance(item, ast.Import):
            found |= {alias.name for alias in item.names}
        elif isinstance(item, ast.ImportFrom) and item.module and item.level == 0:
            found.add(item.module)
            found |= {f"{item.module}.{alias.name}" for alias in item.names}
    return found


def import_graph() -> dict[str, set[str]]:
    """First-level part -> the first-level parts it imports (self-edges dropped)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("__init__.py", "__main__.py"):
            continue
        source = relative.parts[0].removesuffix(".py")
        for module in _imports(path):
            target = _node(module)
            if (target and target != source and (PACKAGE / target).exists()) or (
                target and (PACKAGE / f"{target}.py").exists() and target != source
            ):
                graph[source].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a node list (first node repeated at the end), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_package_import_graph_has_no_cycle():
    graph = import_graph()
    assert {"runs", "report", "models"} <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle between layers: {' -> '.join(cycle)}"


#: What a report may not import: the computing layers and the config (settings types allowed).
COMPUTING = (
    "frequentist",
    "inference",
    "models",
    "reconstruct",
    "simulation",
    "prognosis",
    "runs",
    "config",
)
ALLOWED = {"bayes_bcsm.simulation.settings", "bayes_bcsm.prognosis.summary"}


def test_reports_do_not_import_runs_or_estimators():
    """Reports draw and write results; they compute no estimator and read no config."""
    for path in (PACKAGE / "report").glob("*.py"):
        bad = {
            module
            for module in _imports(path)
            if _node(module) in COMPUTING and not any(module.startswith(a) for a in ALLOWED)
        }
        assert not bad, f"report/{path.name} imports {sorted(bad)}"
