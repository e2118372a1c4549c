"""Published numbers appear once in the package: in targets.yaml, never as literals in the source.

The test parses every module under ``src/bayes_bcsm`` with :mod:`ast` (docstrings and comments
are not literals, so prose may quote the paper) and fails on

- a float literal equal to a Table 3 figure (aHR, CI bounds, P), a published Kaplan-Meier
  survival point or a non-integer Table 1 summary (age mean / SD, operation-time median), and
- a literal sequence or dict of three or more integers equal to a published count vector
  (Table 1 vectors such as the pathology or Tomita counts, Table 2 group sizes), or a dict
  literal mapping three or more keys to published Table 1 / Table 2 counts (such as a table of
  binary counts).

Small integers alone are everywhere in code, so single counts are not checked; vectors of them
are distinctive.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

from bayes_bcsm.study import load_targets

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "bayes_bcsm"
TARGETS = load_targets()


def _int_vectors(node: object) -> Iterator[tuple[int, ...]]:
    """Every mapping of integers in the parsed YAML, as the tuple of its values."""
    if isinstance(node, Mapping):
        values = list(node.values())
        if len(values) >= 2 and all(type(v) is int for v in values):
            yield tuple(values)
        for value in values:
            yield from _int_vectors(value)


def _published_floats() -> set[float]:
    floats = set()
    for row in TARGETS.table3:
        floats.update({row.hr, *row.ci, row.p_value})
    floats.update(TARGETS.survival_at.values())
    for value in (
        TARGETS.table1["age"]["mean"],
        TARGETS.table1["age"]["sd"],
        TARGETS.table1["operation_minutes"]["median"],
    ):
        floats.add(float(value))
    return floats


def _published_vectors() -> set[tuple[int, ...]]:
    vectors = set(_int_vectors(TARGETS.table1))
    for factor in TARGETS.table2:
        if len(factor.levels) >= 2:
            vectors.add(tuple(level.n for level in factor.levels))
    return {v for v in vectors if len(v) >= 3}


def _published_counts() -> set[int]:
    counts = {v for vector in _int_vectors(TARGETS.table1) for v in vector}
    counts.update(int(v) for v in TARGETS.table1.values() if type(v) is int)
    counts.update(level.n for factor in TARGETS.table2 for level in factor.levels)
    return {c for c in counts if c >= 10}  # small ones are too common to be distinctive


PUBLISHED_FLOATS = _published_floats()
PUBLISHED_VECTORS = _published_vectors()
PUBLISHED_COUNTS = _published_counts()


def _int_constant(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _offences(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and type(node.value) is float:
            if node.value in PUBLISHED_FLOATS:
                found.append(f"{where}: published figure {node.value!r}")
        elif isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict):
            elements = node.values if isinstance(node, ast.Dict) else node.elts
            ints = [_int_constant(e) for e in elements]
            if len(ints) >= 3 and all(i is not None for i in ints):
                if tuple(ints) in PUBLISHED_VECTORS:
                    found.append(f"{where}: published count vector {tuple(ints)}")
                elif isinstance(node, ast.Dict) and (sum(i in PUBLISHED_COUNTS for i in ints) >= 3):
                    found.append(f"{where}: dict of published counts {tuple(ints)}")
    return found


def test_the_checks_are_not_empty():
    assert 0.070 in PUBLISHED_FLOATS and 0.727 in PUBLISHED_FLOATS
    assert 0.949 in PUBLISHED_FLOATS
    assert (65, 4, 2, 6, 1) in PUBLISHED_VECTORS  # pathology
    assert (16, 17, 9) in PUBLISHED_VECTORS  # Ki-67 groups
    assert 57 in PUBLISHED_COUNTS


def test_checker_catches_a_retyped_figure(tmp_path):
    module = tmp_path / "retyped.py"
    module.write_text(
        'PAPER_HR = 0.070\nTOMITA = {"2-3": 51, "4-5": 9, "6-7": 18}\n'
        "COUNTS = {'a': 57, 'b': 72, 'c': 43}\n"
    )
    assert len(_offences(module, tmp_path)) == 3


def test_no_published_number_is_retyped_in_the_package():
    offences = [o for path in sorted(PACKAGE.rglob("*.py")) for o in _offences(path)]
    assert not offences, (
        "published figures typed outside study/targets.yaml (read them from "
        "bayes_bcsm.study instead):\n" + "\n".join(offences)
    )
