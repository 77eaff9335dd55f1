"""Meta-tests: every hook is documented with its exact signature and has a test."""

import ast
import inspect
import re
from pathlib import Path

import pytest

from yuyue import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name, fn in vars(hookspecs).items() if callable(fn) and hasattr(fn, "yuyue_spec"))


def _documented_signatures() -> dict[str, str]:
    text = (ROOT / "docs" / "plugin-hooks.md").read_text(encoding="utf-8")
    return {match.group(1): match.group(0) for match in re.finditer(r"^### `(\w+)\(([^)]*)\)`$", text, re.MULTILINE)}


def _test_function_names() -> set[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                names.add(node.name)
    return names


def test_hookspecs_were_found():
    assert "register_verticals" in HOOKS and "tenant_created" in HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_its_exact_signature(hook):
    parameters = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"### `{hook}({parameters})`" in _documented_signatures().values(), f"docs/plugin-hooks.md lacks '### `{hook}({parameters})`'"


def test_docs_describe_no_hook_that_does_not_exist():
    assert set(_documented_signatures()) <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    tests = _test_function_names()
    assert any(name.startswith(f"test_hook_{hook}") for name in tests), f"no test named test_hook_{hook}…"
