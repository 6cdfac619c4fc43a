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
