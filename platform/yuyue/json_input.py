"""JSON that comes from outside the process (request bodies, signed notifications, cursors), parsed within bounds.

Python's ``json`` recurses once per nested array or object, so a few hundred
``[`` in a row exhaust the interpreter's recursion limit and raise
``RecursionError`` — a 500, not a refusal. :func:`loads` measures the nesting
on the text first, with regular expressions and a running sum (no recursion, no
Python loop per character), and refuses anything deeper than :data:`MAX_DEPTH`
before ``json`` sees it. It also refuses what RFC 8259 does not allow and Python
would accept: ``NaN``, ``Infinity``, numbers no float can hold, text that is not UTF-8, and lone
surrogates (``"\\ud800"``), which are no character: no database column can store them.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

from flask_babel import lazy_gettext as _l

__all__ = ["MAX_DEPTH", "JSONInputError", "JSONTooDeep", "loads", "nesting_depth"]

# A booking form with a list of people, each with options, is about 8 levels deep; 32 leaves room and stays
# far below the recursion limit of json, jsonschema and every walk over a parsed document.
MAX_DEPTH = 32

# Escapes go first, so a string is then a quote, anything but a quote, a quote: a pattern that can only
# scan to the next quote, so finding every string is linear. (Matching escapes inside the string pattern
# rescans to the end of the text from every quote of an unterminated string: quadratic, seconds for 32 KB.)
_ESCAPE = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_NESTING_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# The escape of a UTF-16 surrogate; a pair of them is one character, one alone is none.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class JSONInputError(ValueError):
    """The text is not JSON this application reads; ``code`` says why, for a problem document."""

    code = "malformed_json"


class JSONTooDeep(JSONInputError):
    """Arrays and objects are nested deeper than the limit."""

    code = "json_too_deep"

    def __init__(self, depth: int, limit: int):
        super().__init__(_l("arrays and objects are nested %(depth)s levels deep; at most %(limit)s levels are allowed", depth=depth, limit=limit))
        self.depth = depth
        self.limit = limit


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text`` (``[]`` is 1, ``{"a": [1]}`` is 2), read without parsing.

    Exact for valid JSON; for anything else a number that is at least what a parser would reach before failing.
    """
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    return max(accumulate(map(_NESTING_STEP.__getitem__, brackets)), default=0)


def loads(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``data`` (UTF-8 bytes or text).

    :raises JSONTooDeep: nested deeper than ``max_depth``.
    :raises JSONInputError: anything else that is not JSON.
    """
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise JSONInputError(_l("JSON is read as UTF-8, and this is not UTF-8 text")) from None
    else:
        text = data
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JSONTooDeep(depth, max_depth)
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except JSONInputError:
        raise
    except json.JSONDecodeError as error:
        raise JSONInputError(_l("not valid JSON at line %(line)s, column %(column)s", line=error.lineno, column=error.colno)) from None
    except ValueError:  # integers of more digits than Python converts
        raise JSONInputError(_l("not valid JSON: a number has too many digits")) from None
    if _SURROGATE_ESCAPE.search(text) and not _encodable(value):
        raise JSONInputError(_l("not valid JSON: a \\u escape names half of a character (a lone surrogate)"))
    return value


def _encodable(value: Any) -> bool:
    """Whether every string of ``value`` (keys too) is text UTF-8 can encode: no lone surrogate."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refuse_constant(name: str) -> Any:
    raise JSONInputError(_l("%(name)s is not a JSON number", name=name))


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONInputError(_l("the number %(number)s… is too large", number=text[:20]))
    return value
