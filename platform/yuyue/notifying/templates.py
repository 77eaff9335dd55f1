"""The words of a notification: the host's default templates per event and a merchant's overrides, rendered in a sandbox.

Defaults are Jinja files under ``notifying/templates/<event>/`` (``subject.txt``, ``text.txt``
for email, ``short.txt`` for SMS, WeChat and the log channel; one shared ``_email.html``) that
say everything through ``_()``, so one file serves every locale and ``yuyue i18n update``
extracts them. A merchant's :class:`~yuyue.events.models.NotificationTemplate` replaces the
parts it sets for one (event, channel, locale). Both render in an
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` (a merchant's template may read the
variables, never call into the application or change them), HTML autoescaped, sources and
output bounded. A merchant's template that fails is refused when saved (422 with its line)
and, should one still fail when sent, the default is used and the failure logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Any

from flask_babel import force_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from jinja2 import BaseLoader, StrictUndefined, TemplateError, TemplateNotFound, TemplateSyntaxError, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.audit.operations import record as audit_record
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import FieldProblem, InvalidInput, NotFound
from yuyue.events.models import NotificationTemplate
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

__all__ = [
    "CUSTOMER_EVENTS",
    "MAX_OUTPUT_CHARS",
    "MAX_SOURCE_CHARS",
    "NOTIFIED_EVENTS",
    "OPTIONAL_EVENTS",
    "PARTS",
    "STAFF_EVENTS",
    "TEMPLATE_LOCALES",
    "RenderedMessage",
    "TemplateFailed",
    "TemplateKey",
    "check_template",
    "checked_key",
    "default_source",
    "delete_template",
    "override",
    "overrides",
    "render",
    "render_parts",
    "save_template",
    "is_email",
]

log = logging.getLogger("yuyue.notifications")

# What a customer hears of, in the order the merchant's template list shows them.
CUSTOMER_EVENTS = (
    "booking.held",
    "booking.confirmed",
    "booking.cancelled",
    "booking.rescheduled",
    "booking.reminder",
    "booking.no_show",
    "booking.cancelled_below_minimum",
    "waitlist.offered",
    "waitlist.expired",
    "payment.refund_succeeded",
)
# What a tenant's owners and managers hear of.
STAFF_EVENTS = ("webhook.endpoint_disabled",)
NOTIFIED_EVENTS = CUSTOMER_EVENTS + STAFF_EVENTS
# A customer may mute these; every other notice is about their booking or money and always goes out.
OPTIONAL_EVENTS = ("booking.reminder", "booking.no_show")
TEMPLATE_LOCALES = ("zh-Hans", "zh-Hant", "en")
PARTS = ("subject", "body", "html")

# A merchant's source, per part, and what any template may produce: a message, not a book.
MAX_SOURCE_CHARS = {"subject": 200, "body": 10_000, "html": 50_000}
MAX_OUTPUT_CHARS = {"subject": 300, "body": 20_000, "html": 200_000}
# SMS, WeChat and log messages are short; only email (a channel whose address_kind is email) has a text body and an HTML part.
SHORT = "short"
EMAIL = "email"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str | None


class TemplateFailed(Exception):
    """A template did not render: a syntax error, an unsafe access, an output too long. ``line`` when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class _DefaultsLoader(BaseLoader):
    """The host's default templates, read from the package (``notifying/templates``)."""

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Any]:
        path = files("yuyue.notifying") / "templates" / template
        if ".." in template.split("/") or not path.is_file():
            raise TemplateNotFound(template)
        source = path.read_text(encoding="utf-8")
        return source, template, lambda: True


def _environment(*, html: bool) -> ImmutableSandboxedEnvironment:
    environment = ImmutableSandboxedEnvironment(
        loader=_DefaultsLoader(),
        autoescape=select_autoescape(default_for_string=html, default=html),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
    )
    # Flask-Babel's: they translate into the locale of the force_locale() the message renders under.
    environment.install_gettext_callables(gettext, ngettext, newstyle=True)
    return environment


_TEXT = _environment(html=False)
_HTML = _environment(html=True)


def is_email(channel: Any) -> bool:
    """Whether ``channel`` sends email (subject, text and HTML) rather than one short text (SMS, WeChat, the log)."""
    return getattr(channel, "address_kind", None) == EMAIL


def _default_name(event: str, part: str, email: bool) -> str | None:
    if part == "html":
        return "_email.html" if email else None
    return f"{event}/{'subject' if part == 'subject' else 'text' if email else SHORT}.txt"


def default_source(event: str, part: str, *, email: bool) -> str | None:
    """The host's default source of one part (``subject``, ``body``, ``html``) of ``event``'s message, on email or a short channel."""
    name = _default_name(event, part, email)
    if name is None:
        return None
    path = files("yuyue.notifying") / "templates" / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _render_source(source: str, part: str, context: Mapping[str, Any]) -> str:
    """Render a merchant's ``source`` in the sandbox, bounded."""
    if len(source) > MAX_SOURCE_CHARS[part]:
        raise TemplateFailed(f"the template is longer than {MAX_SOURCE_CHARS[part]} characters")
    environment = _HTML if part == "html" else _TEXT
    try:
        template = environment.from_string(source)
    except TemplateSyntaxError as error:
        raise TemplateFailed(error.message or str(error), error.lineno) from None
    return _bounded(template, part, context)


def _render_default(name: str, part: str, context: Mapping[str, Any]) -> str:
    environment = _HTML if part == "html" else _TEXT
    return _bounded(environment.get_template(name), part, context)


def _bounded(template: Any, part: str, context: Mapping[str, Any]) -> str:
    """The template's output, stopped as soon as it passes the part's limit (a loop cannot fill the memory)."""
    limit = MAX_OUTPUT_CHARS[part]
    out: list[str] = []
    size = 0
    try:
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > limit:
                raise TemplateFailed(f"the message is longer than {limit} characters")
            out.append(chunk)
    except TemplateFailed:
        raise
    except (TemplateError, SecurityError, ArithmeticError, TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError) as error:
        raise TemplateFailed(str(error)[:300], _template_line(error)) from None
    text = "".join(out)
    return " ".join(text.split()) if part == "subject" else text.strip() + "\n"


def _template_line(error: BaseException) -> int | None:
    """The line of a template's source a runtime error happened at (Jinja marks its frames with ``<template>``)."""
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename in ("<template>", "<unknown>"):
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def override(session: Session, event: str, channel: str, locale: str) -> NotificationTemplate | None:
    """The merchant's template of (event, channel, locale) for the tenant in scope, if any."""
    return session.scalar(
        select(NotificationTemplate).where(NotificationTemplate.event == event, NotificationTemplate.channel == channel, NotificationTemplate.locale == locale)
    )


def render_parts(event: str, locale: str, context: Mapping[str, Any], sources: Mapping[str, str | None], *, email: bool) -> RenderedMessage:
    """Render the message with ``sources`` (a merchant's parts; a missing or empty one is the default's) under ``locale``.

    :raises TemplateFailed: a merchant's part failed (the caller decides: refuse it, or fall back).
    """
    rendered: dict[str, str | None] = {}
    with force_locale(locale.replace("-", "_")):
        for part in PARTS:
            source = sources.get(part)
            if part == "html" and not email:
                rendered[part] = None
                continue
            if source:
                rendered[part] = _render_source(source, part, context)
            elif part == "html":
                rendered[part] = _render_default("_email.html", part, {**context, "text": rendered["body"], "subject": rendered["subject"]})
            else:
                rendered[part] = _render_default(_default_name(event, part, email), part, context)
    return RenderedMessage(subject=rendered["subject"] or "", text=rendered["body"] or "", html=rendered["html"])


def render(session: Session, event: str, channel: str, locale: str, context: Mapping[str, Any], *, email: bool) -> RenderedMessage:
    """``event``'s message on ``channel`` in ``locale``: the merchant's template when it renders, else the host's default."""
    custom = override(session, event, channel, locale)
    if custom is not None:
        try:
            return render_parts(event, locale, context, {"subject": custom.subject, "body": custom.body, "html": custom.html}, email=email)
        except TemplateFailed as error:
            log.warning("the template of %s on %s (%s) failed at line %s, the default was sent: %s", event, channel, locale, error.line, error)
    return render_parts(event, locale, context, {}, email=email)


def check_template(event: str, locale: str, sources: Mapping[str, str | None], sample: Mapping[str, Any], *, email: bool) -> RenderedMessage:
    """Render a merchant's draft with ``sample`` data; a failing part is a 422 pointing at it, with its line.

    :raises InvalidInput: ``template_invalid``.
    """
    problems = []
    for part in PARTS:
        source = sources.get(part)
        if not source:
            continue
        try:
            with force_locale(locale.replace("-", "_")):
                _render_source(source, part, {**sample, "text": ""} if part == "html" else sample)
        except TemplateFailed as error:
            where = _l("line %(line)s: %(error)s", line=error.line, error=str(error)) if error.line else _l("the template fails: %(error)s", error=str(error))
            problems.append(FieldProblem(f"/{part}", where, "template_invalid"))
    if problems:
        raise InvalidInput(_l("the template cannot be rendered"), code="template_invalid", errors=problems)
    return render_parts(event, locale, sample, sources, email=email)


# --- a merchant's templates -------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateKey:
    event: str
    channel: str
    locale: str


def checked_key(event: str, channel: str, locale: str, channel_keys: Iterable[str]) -> TemplateKey:
    """The template's key if every part names something that has templates.

    :raises NotFound: ``template_not_found`` (an event that is not notified, a channel not installed, a locale not served).
    """
    if event not in NOTIFIED_EVENTS or channel not in set(channel_keys) or locale not in TEMPLATE_LOCALES:
        raise NotFound(_l("there is no template %(event)s/%(channel)s/%(locale)s", event=event, channel=channel, locale=locale), code="template_not_found")
    return TemplateKey(event, channel, locale)


def _draft_problems(draft: Mapping[str, Any]) -> list[FieldProblem]:
    problems = []
    for part in PARTS:
        value = draft.get(part)
        if value is not None and len(value) > MAX_SOURCE_CHARS[part]:
            problems.append(FieldProblem(f"/{part}", _l("at most %(limit)s characters", limit=MAX_SOURCE_CHARS[part]), "maxLength"))
    return problems


def save_template(
    session: Session,
    tenant: Tenant,
    key: TemplateKey,
    draft: Mapping[str, Any],
    *,
    sample: Mapping[str, Any],
    email: bool,
    actor: str,
    now: datetime | None = None,
) -> NotificationTemplate:
    """Save the merchant's wording of ``key`` after rendering it with ``sample`` data; audited.

    A part left empty (or out) is the default's. :raises InvalidInput: too long, or it does not render (with its line).
    """
    problems = _draft_problems(draft)
    if problems:
        raise InvalidInput(_l("the template cannot be saved"), errors=problems)
    sources = {part: draft.get(part) or None for part in PARTS}
    check_template(key.event, key.locale, sources, sample, email=email)
    with tenant_scope(tenant.id), write_transaction(session):
        row = override(session, key.event, key.channel, key.locale)
        created = row is None
        if row is None:
            row = NotificationTemplate(event=key.event, channel=key.channel, locale=key.locale)
            session.add(row)
        row.subject, row.body, row.html = sources["subject"] or "", sources["body"] or "", sources["html"]
        row.updated_at = now or utcnow()
        data = {"event": key.event, "channel": key.channel, "locale": key.locale, "created": created, "parts": [part for part in PARTS if sources[part]]}
        session.flush()
        audit_record(session, actor=actor, action="notifications.template_saved", subject_type="notification_template", subject_id=row.id, data=data)
    return row


def delete_template(session: Session, tenant: Tenant, key: TemplateKey, *, actor: str) -> None:
    """Go back to the host's default for ``key``; audited. :raises NotFound: ``template_not_found`` when there is no override."""
    with tenant_scope(tenant.id), write_transaction(session):
        row = override(session, key.event, key.channel, key.locale)
        if row is None:
            raise NotFound(_l("this template is the default; there is nothing to delete"), code="template_not_found")
        data = {"event": key.event, "channel": key.channel, "locale": key.locale}
        audit_record(session, actor=actor, action="notifications.template_deleted", subject_type="notification_template", subject_id=row.id, data=data)
        session.delete(row)


def overrides(session: Session) -> dict[TemplateKey, NotificationTemplate]:
    """Every template the tenant in scope overrides."""
    return {TemplateKey(row.event, row.channel, row.locale): row for row in session.scalars(select(NotificationTemplate).order_by(NotificationTemplate.id))}
