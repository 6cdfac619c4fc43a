"""The pipeline's arrows point one way: language → IR → analysis → backends → training → CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "netspec"

BELOW_TRAINING = ["language", "ir", "analysis", "backends", "images.py", "files.py", "text.py", "diagnostics.py"]


def _imported_modules(path: Path) -> set[str]:
    """Every `netspec.X` module a file imports (relative imports resolved), at any depth of the file."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = list(parts[:len(parts) - node.level]) if node.level else []
            modules.add(".".join([*base, *(node.module.split(".") if node.module else [])]))
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


@pytest.mark.parametrize("part", BELOW_TRAINING)
def test_nothing_below_training_imports_it(part: str) -> None:
    root = PACKAGE / part
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    upward = {str(f.relative_to(PACKAGE)): sorted(m for m in _imported_modules(f) if m.startswith("netspec.train"))
              for f in files}
    assert not {f: m for f, m in upward.items() if m}


def test_nothing_but_the_command_line_imports_it() -> None:
    """The library reports (events, return values, diagnostics); only netspec/cli draws."""
    outside = [f for f in sorted(PACKAGE.rglob("*.py")) if "cli" not in f.relative_to(PACKAGE).parts
               and f.name != "__main__.py"]
    upward = {str(f.relative_to(PACKAGE)): sorted(m for m in _imported_modules(f) if m.startswith("netspec.cli"))
              for f in outside}
    assert not {f: m for f, m in upward.items() if m}


LONGEST_FUNCTION = 80  # lines; a longer one says why on its `def` line: `# long: <reason>`


def test_long_functions_say_why() -> None:
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > LONGEST_FUNCTION and "# long:" not in lines[node.lineno - 1]:
                    unexplained.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({length} lines)")
    assert not unexplained, "split these, or say why beside the def: " + ", ".join(unexplained)
