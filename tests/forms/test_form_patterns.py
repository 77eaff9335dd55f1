"""A merchant's ``pattern`` is matched in time linear in the answer, and a pattern that would need backtracking is refused on save."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from yuyue.errors import InvalidInput


def form_with_pattern(pattern: str) -> dict:
    return {"type": "object", "properties": {"code": {"type": "string", "x-field": "text", "pattern": pattern}}, "required": ["code"]}


@pytest.mark.parametrize("answer, accepted", [("AB1234", True), ("ab1234", False), ("AB12345", False)])
def test_an_ordinary_pattern_accepts_and_refuses_as_written(registry, answer, accepted):
    compiled = registry.compile(form_with_pattern(r"^[A-Z]{2}\d{4}$"))
    if accepted:
        assert dict(registry.validate(compiled, {"code": answer})) == {"code": answer}
    else:
        with pytest.raises(InvalidInput) as refused:
            registry.validate(compiled, {"code": answer})
        assert [(p.pointer, p.code) for p in refused.value.errors] == [("/code", "pattern")]


@pytest.mark.parametrize("pattern", [r"^(a)\1$", r"^(?=a)a$", r"(?<!b)a"])
def test_a_pattern_that_needs_backtracking_is_refused_when_the_form_is_saved(registry, pattern):
    with pytest.raises(InvalidInput) as refused:
        registry.compile(form_with_pattern(pattern))

    assert [(p.pointer, p.code) for p in refused.value.errors] == [("/properties/code/pattern", "unsupported_pattern")]


def test_a_pattern_longer_than_300_characters_is_refused(registry):
    with pytest.raises(InvalidInput) as refused:
        registry.compile(form_with_pattern("a" * 301))

    assert "/properties/code/pattern" in [p.pointer for p in refused.value.errors]


def test_a_pattern_that_backtracks_exponentially_in_python_answers_at_once():
    # With Python's re, ^(a+)+$ against forty a and a "!" takes about 2**40 steps: the process would not finish.
    program = textwrap.dedent(
        """
        from yuyue.errors import InvalidInput
        from yuyue.forms.registry import build_form_registry
        from yuyue.forms import builtin
        from yuyue.plugins import make_plugin_host
        host = make_plugin_host([])
        if not host.manager.is_registered(builtin):
            host.manager.register(builtin, name="yuyue.forms.builtin")
        registry = build_form_registry(host)
        compiled = registry.compile({"type": "object", "properties": {"code": {"type": "string", "x-field": "text", "pattern": "^(a+)+$"}}})
        try:
            registry.validate(compiled, {"code": "a" * 40 + "!"})
        except InvalidInput as refused:
            print([p.code for p in refused.errors])
        """
    )
    finished = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)

    assert finished.stdout == "['pattern']\n", finished.stderr
