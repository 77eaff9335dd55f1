"""Structured logs: one JSON object per line (or a line of text for a person), a request id in every record, and no secrets.

:func:`configure_logging` sets up the process's root logger (``yuyue worker``, and gunicorn's
master through :class:`yuyue.serving.StructuredLogger`, whose forked workers inherit it).
:class:`RequestIds` wraps the application: it accepts a sane ``X-Request-ID`` or makes one, returns it on
every response, and keeps it where every log record of the request finds it (:class:`RequestContextFilter`).
:class:`RedactingFilter` removes what must never be written: authorization values, tokens, login codes,
passwords, mobile numbers and ID-card numbers, in messages, query strings, extra fields and tracebacks.
Outside a request, the worker's records carry what they are about: the outbox event being delivered and
the request that wrote it (:mod:`yuyue.events.origins`), or the job running (:func:`enter_log_context`).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, request, request_started
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from yuyue.config import SettingError
from yuyue.events.origins import answering_request, event_in_delivery

__all__ = [
    "REQUEST_ID_HEADER",
    "LogSettings",
    "RedactingFilter",
    "RequestContextFilter",
    "RequestIds",
    "RequestLog",
    "configure_logging",
    "current_request_id",
    "enter_log_context",
    "format_record",
    "leave_log_context",
    "log_settings",
    "redact",
    "request_log",
    "sane_request_id",
]

REQUEST_ID_HEADER = "X-Request-ID"
# Where the request's log context lives in the WSGI environ: gunicorn's access line reads it after the app has answered.
ENVIRON_KEY = "yuyue.request_log"
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


# --- settings ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogSettings:
    format: str = "json"
    level: str = "INFO"


def log_settings(env: Mapping[str, str] = os.environ) -> LogSettings:
    """``YUYUE_LOG_FORMAT`` (``json`` or ``text``, default ``json``) and ``YUYUE_LOG_LEVEL`` (default ``INFO``), checked now."""
    form = (env.get("YUYUE_LOG_FORMAT") or "json").strip().lower()
    if form not in LOG_FORMATS:
        raise SettingError(f"YUYUE_LOG_FORMAT must be json or text, not {env['YUYUE_LOG_FORMAT']!r}")
    level = (env.get("YUYUE_LOG_LEVEL") or "INFO").strip().upper()
    if level not in LOG_LEVELS:
        raise SettingError(f"YUYUE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {env['YUYUE_LOG_LEVEL']!r}")
    return LogSettings(form, level)


# --- redaction ---------------------------------------------------------------------------------------

REDACTED = "[redacted]"
# Names whose values are secret wherever they appear: a query or form parameter, a JSON or Python key, an extra field.
SECRET_NAMES = (
    "authorization", "proxy-authorization", "cookie", "set-cookie", "password", "passwd", "secret", "client_secret",
    "token", "access_token", "refresh_token", "booking_token", "id_token", "api_key", "apikey",
    "code", "login_code", "sms_code", "otp", "phone", "mobile", "id_number", "id_card", "idcard",
)  # fmt: skip
# As an extra field, ``code`` is a problem's stable code (``slot_full``), which is what operators search for: not secret there.
_SECRET_FIELDS = frozenset(SECRET_NAMES) - {"code"}
_NAMES = "|".join(re.escape(name) for name in sorted(SECRET_NAMES, key=len, reverse=True))
# Neither a letter nor a digit may touch a number for it to be a phone or an ID number: a request id's hex is left alone.
_ALONE_BEFORE, _ALONE_AFTER = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
_PATTERNS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # A header as a line or a repr: "Authorization: Bearer x", ('Authorization', 'Basic y').
    (re.compile(r"(?i)\b((?:proxy-)?authorization|cookie)(['\"]?\s*[:=,]\s*['\"]?)[^'\"\r\n]+"), rf"\1\2{REDACTED}"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), rf"\1 {REDACTED}"),
    # name=value in a query string, a form body or a message; name: value or "name": "value" in JSON or a repr.
    (re.compile(rf"(?i)(?<![A-Za-z0-9_])({_NAMES})=[^&\s'\";,]*"), rf"\1={REDACTED}"),
    (re.compile(rf"(?i)(['\"])({_NAMES})\1(\s*:\s*)(['\"])(?:(?!\4).)*\4"), rf"\1\2\1\3\4{REDACTED}\4"),
    (re.compile(rf"(?i)(['\"])({_NAMES})\1(\s*:\s*)(-?\d+)"), rf"\1\2\1\3\"{REDACTED}\""),
    # The host's API tokens (operator and staff ``yy_``, customer refresh ``yyr_``) and any JWT.
    (re.compile(r"\byyr?_[A-Za-z0-9_-]{16,}"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), REDACTED),
    # Mainland ID-card numbers (18 characters, the last may be X) and mobile numbers (11 digits, maybe +86).
    (re.compile(rf"{_ALONE_BEFORE}\d{{17}}[\dXx]{_ALONE_AFTER}"), "[id-number]"),
    (re.compile(rf"{_ALONE_BEFORE}(?:\+?86[- ]?)?1[3-9]\d{{9}}{_ALONE_AFTER}"), "[phone]"),
)


def redact(text: str) -> str:
    """``text`` without authorization values, tokens, codes, passwords, phone and ID numbers."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redacted_value(name: str, value: Any) -> Any:
    if name.lower().replace("-", "_") in _SECRET_FIELDS or name.lower() in _SECRET_FIELDS:
        return REDACTED if value not in (None, "") else value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {key: _redacted_value(str(key), item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_redacted_value("", item) for item in value]
    if value is None or isinstance(value, (bool, float)):
        return value
    text = str(value)
    shown = redact(text)
    # A number stays a number unless it is a phone or an ID number; anything else is logged as its redacted text.
    return value if isinstance(value, int) and shown == text else shown


# Attributes every LogRecord has; anything else was passed as ``extra=``.
_RECORD_ATTRS = frozenset(RESERVED_ATTRS) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """Rewrites a record so that no handler can write a secret: its message, its extra fields, its traceback and stack.

    Put on handlers, not loggers: a logger's filter does not see the records of its children.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_yuyue_redacted", False):  # one record, several handlers
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what can be kept
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        for name in [key for key in vars(record) if key not in _RECORD_ATTRS and not key.startswith("_")]:
            setattr(record, name, _redacted_value(name, getattr(record, name)))
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._yuyue_redacted = True
        return True


# --- the request's context ---------------------------------------------------------------------------


@dataclass
class RequestLog:
    """What every log record of one request carries: its id, the tenant slug when the URL names one, the route template."""

    request_id: str
    tenant: str | None = None
    route: str | None = None


_current: ContextVar[RequestLog | None] = ContextVar("yuyue_request_log", default=None)


def sane_request_id(value: str | None) -> str | None:
    """``value`` if a client may choose it as the request id (1-64 of ``A-Z a-z 0-9 . _ -``), else None."""
    return value if value and _SANE_REQUEST_ID.fullmatch(value) else None


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being answered in this context, None outside one."""
    entry = _current.get()
    return entry.request_id if entry else None


def request_log(environ: Mapping[str, Any]) -> RequestLog | None:
    """The log context :class:`RequestIds` kept in ``environ``; what gunicorn's access line reads."""
    entry = environ.get(ENVIRON_KEY)
    return entry if isinstance(entry, RequestLog) else None


class RequestIds:
    """WSGI middleware, outermost: every response carries ``X-Request-ID`` and every record logged while answering carries it too.

    A client's id is kept when sane, so that a proxy's or a caller's id ties their logs to ours; anything else
    (too long, spaces, a header injection) is replaced by a fresh uuid4, never echoed.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        entry = RequestLog(sane_request_id(environ.get("HTTP_X_REQUEST_ID")) or new_request_id())
        environ[ENVIRON_KEY] = entry

        def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(name, value) for name, value in headers if name.lower() != "x-request-id"]
            headers.append((REQUEST_ID_HEADER, entry.request_id))
            return start_response(status, headers, exc_info) if exc_info is not None else start_response(status, headers)

        token = _current.set(entry)
        try:
            with answering_request(entry.request_id):  # the outbox events this request writes carry its id
                return self.wsgi_app(environ, start_with_id)
        finally:
            _current.reset(token)


def _note_route(sender: Flask, **extra: Any) -> None:
    """Before any view or URL preprocessor runs (they pop the tenant's slug): the route template and the tenant."""
    entry = request_log(request.environ)
    if entry is None:
        return
    if request.url_rule is not None:
        entry.route = request.url_rule.rule
    values = request.view_args or {}
    slug = values.get("tenant_slug") or values.get("tenant")
    if isinstance(slug, str):
        entry.tenant = slug


def init_request_ids(app: Flask) -> None:
    """Wrap ``app`` in :class:`RequestIds` (call last: the wrapper must be outermost) and note each request's route."""
    request_started.connect(_note_route, app)
    app.wsgi_app = RequestIds(app.wsgi_app)  # type: ignore[method-assign]


# Fields every record logged in this context carries, beside a request's: a Huey task's name and id.
_job_fields: ContextVar[Mapping[str, Any] | None] = ContextVar("yuyue_log_context", default=None)


def enter_log_context(**fields: Any) -> Token[Mapping[str, Any] | None]:
    """Until :func:`leave_log_context`, every record logged in this context carries ``fields``.

    Two calls rather than a ``with`` block, for what starts and ends in two hooks (Huey's pre- and post-execute).
    """
    return _job_fields.set({**(_job_fields.get() or {}), **fields})


def leave_log_context(token: Token[Mapping[str, Any] | None]) -> None:
    _job_fields.reset(token)


def _context_fields() -> dict[str, Any]:
    """What a record logged now is about: the request being answered, the outbox event being delivered, the job running."""
    fields: dict[str, Any] = dict(_job_fields.get() or {})
    delivery = event_in_delivery()
    if delivery is not None:
        fields.update(event_id=delivery.event_id, request_id=delivery.request_id)
    entry = _current.get()
    if entry is not None:
        fields.update(request_id=entry.request_id, tenant=entry.tenant, route=entry.route)
    return fields


class RequestContextFilter(logging.Filter):
    """Adds what the record is about: ``request_id``, ``tenant`` and ``route`` of the request being answered; in the worker,
    ``event_id`` and the originating ``request_id`` of the outbox event being delivered, or the running job's ``task`` and ``task_id``.

    A field the record was given itself (``extra=``) is kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context_fields().items():
            if value is not None and getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


# --- formatting --------------------------------------------------------------------------------------


class YuyueJsonFormatter(JsonFormatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, ``pid``, then the record's fields."""

    def __init__(self) -> None:
        super().__init__(json_ensure_ascii=False, reserved_attrs=[*RESERVED_ATTRS, "request"])

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        log_data["pid"] = record.process
        super().add_fields(log_data, record, message_dict)


class TextFormatter(logging.Formatter):
    """A line for a person: time, level, logger, ``[request id]`` when there is one, message, and the extra fields as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.request = f" [{request_id}]" if request_id else ""
        fields = {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRS and not key.startswith("_")}
        fields.pop("request", None)
        fields.pop("request_id", None)
        line = super().format(record)
        if fields:
            head, sep, rest = line.partition("\n")
            line = head + " " + " ".join(f"{key}={value}" for key, value in fields.items()) + sep + rest
        return line


def make_formatter(settings: LogSettings) -> logging.Formatter:
    return YuyueJsonFormatter() if settings.format == "json" else TextFormatter()


def make_filters() -> list[logging.Filter]:
    """What every handler of yuyue's gets, in order: the request's context first, so that redaction sees it too."""
    return [RequestContextFilter(), RedactingFilter()]


def dress_handler(handler: logging.Handler, settings: LogSettings) -> logging.Handler:
    """``handler`` writing in ``settings``' format, with the request's context and the redaction filter."""
    handler.setFormatter(make_formatter(settings))
    for existing in list(handler.filters):
        if isinstance(existing, (RequestContextFilter, RedactingFilter)):
            handler.removeFilter(existing)
    for log_filter in make_filters():
        handler.addFilter(log_filter)
    return handler


def configure_logging(settings: LogSettings | None = None, stream: IO[str] | None = None) -> LogSettings:
    """The root logger writes every record at ``settings.level`` and above to ``stream`` (stderr), formatted and redacted.

    Replaces the handlers a previous call installed, so calling twice does not write each record twice.
    """
    settings = settings or log_settings()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_yuyue", False)]:
        root.removeHandler(handler)
    handler = dress_handler(logging.StreamHandler(stream or sys.stderr), settings)
    handler._yuyue = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.level)
    logging.captureWarnings(True)
    return settings


def format_record(logger: str, level: int, message: str, settings: LogSettings | None = None) -> str:
    """One record as the configured handlers would write it, for a command that speaks before logging is set up (``yuyue serve``)."""
    record = logging.LogRecord(logger, level, __file__, 0, message, None, None)
    for log_filter in make_filters():
        log_filter.filter(record)
    return make_formatter(settings or log_settings()).format(record)
