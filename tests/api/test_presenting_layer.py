"""The presenters (``yuyue.presenting``) serve the API and the customer site alike, so they import nothing of the API."""

from __future__ import annotations

import ast
from pathlib import Path

import yuyue.presenting


def imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_no_presenter_imports_the_api():
    sources = sorted(Path(yuyue.presenting.__file__).parent.glob("*.py"))

    assert {source.name for source in sources} >= {"__init__.py", "customer.py", "language.py", "staff.py"}
    for source in sources:
        assert not [name for name in imported_modules(source) if name == "yuyue.api" or name.startswith("yuyue.api.")], source.name
