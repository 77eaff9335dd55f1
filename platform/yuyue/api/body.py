"""The one way the API reads a request body: bounded in size, sent as JSON, parsed within bounds, parsed once.

Every view, and every rate-limit key that looks at the body, goes through
:func:`request_json`; the parsed value (or the problem with it) is kept on the
request, so a limiter and a view never parse twice or disagree. A payment
provider's notification is read as raw bytes (:func:`request_bytes`), because
its signature covers the bytes exactly as sent.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from yuyue import json_input
from yuyue.api.problems import ApiProblem

__all__ = ["EMPTY", "json_body_or_none", "payload_too_large", "request_bytes", "request_file", "request_json"]


class _Empty:
    """What :func:`request_json` answers for a request without a body (``null`` is a body)."""

    def __repr__(self) -> str:
        return "EMPTY"

    def __bool__(self) -> bool:
        return False


EMPTY = _Empty()

_CACHE = "yuyue.json_body"
_CHARSETS = {"utf-8", "utf8"}


def _size(limit: int) -> str:
    return f"{limit // 1024} KiB" if limit < 1024 * 1024 else f"{limit / (1024 * 1024):g} MiB"


def payload_too_large(limit: int | None = None) -> ApiProblem:
    """The 413 problem for a body over ``limit`` bytes (the application's ``MAX_CONTENT_LENGTH`` by default)."""
    limit = limit if limit is not None else current_app.config["MAX_CONTENT_LENGTH"]
    return ApiProblem(413, "payload_too_large", _l("the request body is larger than the limit of %(size)s (%(limit)s bytes)", size=_size(limit), limit=limit))


def request_bytes(limit: int) -> bytes:
    """The raw body, at most ``limit`` bytes, whatever Content-Length says (or whether it is sent at all).

    :raises ApiProblem: 413 ``payload_too_large`` naming the limit.
    """
    if (request.content_length or 0) > limit:
        raise payload_too_large(limit)
    chunks, size = [], 0
    try:
        while size <= limit:
            chunk = request.stream.read(limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge:  # the stream itself stops at MAX_CONTENT_LENGTH
        raise payload_too_large(min(limit, current_app.config["MAX_CONTENT_LENGTH"])) from None
    if size > limit:
        raise payload_too_large(limit)
    return b"".join(chunks)


def request_file(media_types: Collection[str], limit: int) -> tuple[bytes, str, str | None]:
    """A file sent as the raw body with its media type: its bytes (at most ``limit``), the media type and the charset named, if any.

    :raises ApiProblem: 415 ``unsupported_media_type`` for any other type, 413 ``payload_too_large``.
    """
    if request.mimetype not in media_types:
        sent = request.headers.get("Content-Type") or "no Content-Type"
        raise ApiProblem(
            415,
            "unsupported_media_type",
            _l("send the file as one of %(names)s (this request has %(sent)r)", names=", ".join(sorted(media_types)), sent=sent[:100]),
        )
    return request_bytes(limit), request.mimetype, request.mimetype_params.get("charset")


def is_json_media_type() -> bool:
    """``application/json`` or ``application/<anything>+json``, in UTF-8 if a charset is named."""
    mimetype = request.mimetype
    is_json = mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))
    return is_json and request.mimetype_params.get("charset", "utf-8").lower() in _CHARSETS


def _parse() -> Any:
    raw = request_bytes(current_app.config["MAX_CONTENT_LENGTH"])
    if not raw:
        return EMPTY
    if not is_json_media_type():
        sent = request.headers.get("Content-Type") or "no Content-Type"
        raise ApiProblem(415, "unsupported_media_type", _l("send the body as application/json in UTF-8 (this request has %(sent)r)", sent=sent[:100]))
    try:
        return json_input.loads(raw)
    except json_input.JSONInputError as error:
        raise ApiProblem(400, error.code, _l("the request body is not JSON this API reads: %(error)s", error=error)) from None


def request_json() -> Any:
    """The request body's JSON value, or :data:`EMPTY` if there is no body; parsed once per request.

    :raises ApiProblem: 413 ``payload_too_large``, 415 ``unsupported_media_type``,
        400 ``json_too_deep`` or ``malformed_json`` — the same one every time it is asked.
    """
    outcome = request.environ.get(_CACHE)
    if outcome is None:
        try:
            outcome = (_parse(), None)
        except ApiProblem as problem:
            outcome = (None, problem)
        request.environ[_CACHE] = outcome
    value, problem = outcome
    if problem is not None:
        raise problem
    return value


def json_body_or_none() -> Any:
    """The body's JSON value, or ``None`` when there is none or it cannot be read (the view then says why)."""
    try:
        value = request_json()
    except ApiProblem:
        return None
    return None if value is EMPTY else value
