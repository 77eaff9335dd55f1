"""What no admin page may be handed: input refused before Flask-AppBuilder's views parse it.

The API checks its own input (``api/converters.py``, ``api/query.py``, ``api/body.py``); the pages
are Flask-AppBuilder's views, which pass a NUL to PostgreSQL (which cannot store or compare one),
an over-long number to an ``integer`` column, and a page number to ``int()`` unchecked. Each of those
was a 500; here each is a 400 or 404 page before any view runs.
"""

from __future__ import annotations

import re

from flask import Flask, abort, current_app, request

from yuyue.types import MAX_INTEGER

__all__ = ["init_input_guard"]

# Flask-AppBuilder's list widgets read ``page_<view>`` and ``psize_<view>`` with int().
_PAGING_ARGUMENT = re.compile(r"(page|psize)_.+")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
_DIGITS = re.compile(r"-?[0-9]+")


def _holds_nul(pairs) -> bool:
    return any("\x00" in name or "\x00" in value for name, value in pairs)


def _refuse_bad_page_input() -> None:
    if request.path.startswith("/api/"):
        return
    if "\x00" in request.path or _holds_nul(request.args.items(multi=True)):
        abort(400, "the address contains a NUL character")
    if any(_PAGING_ARGUMENT.fullmatch(name) and not _WHOLE_NUMBER.fullmatch(value) for name, value in request.args.items(multi=True)):
        abort(400, "a page number or page size is not a whole number")
    # Row ids in admin URLs (``/users/show/<pk>``) are matched as text: a number no column holds names no row.
    if any(
        isinstance(value, str) and _DIGITS.fullmatch(value) and (len(value) > 11 or abs(int(value)) > MAX_INTEGER)
        for value in (request.view_args or {}).values()
    ):
        abort(404)
    if request.endpoint and request.endpoint.endswith(".action") and not _is_known_action():
        abort(404)
    if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"} and _holds_nul(request.form.items(multi=True)):
        abort(400, "a form field contains a NUL character")


def _is_known_action() -> bool:
    """Flask-AppBuilder's ``…/action/<name>/<pk>`` calls ``actions[name].func`` without asking whether it exists."""
    view = getattr(current_app.view_functions.get(request.endpoint), "__self__", None)
    return (request.view_args or {}).get("name") in getattr(view, "actions", {})


def init_input_guard(app: Flask) -> None:
    """Check every page request's path, query string and form before its view."""
    app.before_request(_refuse_bad_page_input)
