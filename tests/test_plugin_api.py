"""The bundled plugins and themes import nothing of the host but its public API, and that API is whole.

Read with ``ast`` rather than imported, so a plugin that reaches into the host
fails here even on a line that never runs.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import yuyue
from yuyue import plugin_api

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(path.parent for path in [*ROOT.glob("plugins/*/yuyue_*/__init__.py"), *ROOT.glob("themes/*/yuyue_*/__init__.py")])
PUBLIC_MODULE = "yuyue.plugin_api"


def host_imports(source: Path) -> list[str]:
    """What ``source`` imports from the host that a plugin may not: modules and ``from yuyue import`` names outside the public API."""
    refused = []
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), filename=str(source))):
        if isinstance(node, ast.Import):
            refused += [alias.name for alias in node.names if alias.name.startswith("yuyue.") and alias.name != PUBLIC_MODULE]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "yuyue":
                refused += [f"yuyue.{alias.name}" for alias in node.names if alias.name not in yuyue.__all__]
            elif node.module.startswith("yuyue.") and node.module != PUBLIC_MODULE:
                refused.append(node.module)
    return refused


def test_every_bundled_plugin_and_theme_is_checked():
    assert {path.name for path in PACKAGES} >= {
        "yuyue_activity",
        "yuyue_course",
        "yuyue_exhibition",
        "yuyue_scenic",
        "yuyue_vehicle",
        "yuyue_theme_default",
        "yuyue_theme_ink",
    }


@pytest.mark.parametrize("package", PACKAGES, ids=lambda path: path.name)
def test_plugin_imports_only_the_public_plugin_api(package: Path):
    refused = {str(source.relative_to(ROOT)): found for source in sorted(package.rglob("*.py")) if (found := host_imports(source))}
    assert refused == {}, f"import these through {PUBLIC_MODULE} (add what is missing there)"


def test_a_deep_import_is_caught(tmp_path: Path):
    source = tmp_path / "reaching.py"
    source.write_text("import yuyue.db\nfrom yuyue.plugin_api import hookimpl\nfrom yuyue import hookspecs, hookimpl\nfrom yuyue.bookings import operations\n")
    assert host_imports(source) == ["yuyue.db", "yuyue.hookspecs", "yuyue.bookings"]


@pytest.mark.parametrize("name", plugin_api.__all__)
def test_every_public_name_is_importable(name: str):
    assert getattr(importlib.import_module(PUBLIC_MODULE), name) is not None


def test_the_names_at_yuyue_are_the_public_ones():
    assert {name: getattr(yuyue, name) for name in yuyue.__all__ if name != "__version__"} == {
        name: getattr(plugin_api, name) for name in yuyue.__all__ if name != "__version__"
    }


def test_plugins_read_a_route_and_answer_a_session_minimum_through_the_public_api():
    assert {"route_stops", "RouteStopView", "MinimumParticipants"} <= set(plugin_api.__all__)
