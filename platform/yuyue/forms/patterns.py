"""Merchant-written ``pattern`` checks, matched by RE2 in time linear in the answer.

Python's ``re`` backtracks: a pattern such as ``^(a+)+$`` takes exponential
time on an answer of forty ``a`` and a ``!``, and jsonschema matches ``pattern``
with ``re``. A merchant's pattern meets any customer's answer, so one careless
or hostile pattern would let a single booking request hold a worker for as long
as gunicorn lets it. RE2 (``google-re2``) never backtracks; it refuses the few
features that need backtracking (backreferences, lookaround), and the form
compiler reports such a pattern to the merchant when the form is saved.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import re2
from jsonschema import Draft202012Validator, ValidationError, validators

__all__ = ["FormValidator", "pattern_problem"]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a merchant's bad pattern is reported to the merchant, not to the server log


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, _OPTIONS)


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used in a form, or None if it can."""
    try:
        _compiled(pattern)
    except re2.error as error:
        reason = error.args[0].decode(errors="replace") if error.args and isinstance(error.args[0], bytes) else str(error)
        return f"this pattern cannot be used ({reason}); backreferences and lookaround are not supported"
    return None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and _compiled(pattern).search(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


FormValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})
"""Draft 2020-12, with ``pattern`` matched by RE2: the validator for forms, whose patterns merchants write."""
