"""The package's layers: every import points down, none goes back up."""

import ast
import itertools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ner_rnn"


def unit(module: str) -> str:
    """The layer a module belongs to: its sub-package, or itself for a top-level module."""
    return ".".join(module.split(".")[:2])


def imports() -> dict[str, set[str]]:
    """Which layers each layer imports (`ner_rnn` itself, the package root, left out)."""
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("ner_rnn.") and unit(name) != unit(module):
                    edges.setdefault(unit(module), set()).add(unit(name))
    return edges


def test_no_layer_imports_one_that_imports_it_back():
    edges = imports()

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(edges.get(node, ()))
        return False

    cycles = [(a, b) for a, b in itertools.combinations(sorted(edges), 2)
              if reaches(a, b) and reaches(b, a)]
    assert cycles == []


def test_the_check_sees_imports():
    edges = imports()
    assert "ner_rnn.model" in edges["ner_rnn.serve"]
    assert "ner_rnn.data" in edges["ner_rnn.model"]
    # scoring and serving predict through the one engine, which imports neither
    assert "ner_rnn.predict" in edges["ner_rnn.serve"] & edges["ner_rnn.train"]
    assert not {"ner_rnn.serve", "ner_rnn.train"} & edges["ner_rnn.predict"]
