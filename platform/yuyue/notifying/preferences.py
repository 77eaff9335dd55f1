"""What a customer wants to hear and where: their email address, the channels they turned off, the optional messages they muted.

Essential messages (their booking held, confirmed, cancelled, moved, a refund) always go out on
the channels left on; :data:`~yuyue.notifying.templates.OPTIONAL_EVENTS` can be muted, from the
preferences page or the API, or with the one-click link every optional email carries. That
link's token is signed (HMAC-SHA256) with the application's secret and names the tenant, the customer and the
event, so it mutes exactly that and works without a login (RFC 8058).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.audit.operations import record as audit_record
from yuyue.customers.models import Customer
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import FieldProblem, InvalidInput
from yuyue.events.models import NotificationPreference
from yuyue.notifying.templates import OPTIONAL_EVENTS
from yuyue.tenancy.models import Tenant
from yuyue.types import looks_like_email, utcnow

__all__ = [
    "Preferences",
    "mute",
    "preferences_of",
    "read_unsubscribe_token",
    "set_preferences",
    "unsubscribe_token",
]

UNSUBSCRIBE_SALT = "yuyue.unsubscribe"
# 22 base64 characters: 132 bits of HMAC-SHA256.
SIGNATURE_CHARS = 22
MAX_EMAIL_LENGTH = 254
MAX_CHANNELS = 20


@dataclass(frozen=True)
class Preferences:
    """A customer's choices; a customer who never chose has none off and none muted."""

    email: str | None = None
    channels_off: tuple[str, ...] = ()
    muted: tuple[str, ...] = ()


def preferences_of(session: Session, customer_id: int) -> Preferences:
    """The choices of ``customer_id`` (tenant in scope)."""
    row = session.scalar(select(NotificationPreference).where(NotificationPreference.customer_id == customer_id))
    if row is None:
        return Preferences()
    return Preferences(email=row.email, channels_off=tuple(row.channels_off or ()), muted=tuple(row.muted or ()))


def set_preferences(
    session: Session,
    tenant: Tenant,
    customer: Customer,
    *,
    email: str | None | object = ...,
    channels_off: Iterable[str] | object = ...,
    muted: Iterable[str] | object = ...,
    channels: Iterable[str] = (),
    actor: str,
) -> Preferences:
    """Change what is given (``...`` keeps it); ``channels`` are the keys a customer may turn off. Audited when something changed.

    :raises InvalidInput: an email that is not one, an unknown channel, an event that cannot be muted.
    """
    problems = []
    if email is not ... and email is not None:
        email = str(email).strip()
        if not email:
            email = None
        elif len(email) > MAX_EMAIL_LENGTH or not looks_like_email(email):
            problems.append(FieldProblem("/email", _l("this is not an email address"), "invalid_email"))
    known = set(channels)
    if channels_off is not ...:
        channels_off = sorted(set(channels_off))  # type: ignore[arg-type]
        for index, key in enumerate(channels_off):
            if key not in known:
                problems.append(FieldProblem(f"/channels_off/{index}", _l("no channel %(key)s here", key=key), "unknown_channel"))
    if muted is not ...:
        muted = sorted(set(muted))  # type: ignore[arg-type]
        for index, event in enumerate(muted):
            if event not in OPTIONAL_EVENTS:
                problems.append(FieldProblem(f"/muted/{index}", _l("%(event)s messages cannot be turned off", event=event), "not_optional"))
    if problems:
        raise InvalidInput(_l("these notification preferences cannot be saved"), errors=problems)
    with tenant_scope(tenant.id), write_transaction(session):
        row = session.scalar(select(NotificationPreference).where(NotificationPreference.customer_id == customer.id).with_for_update())
        if row is None:
            row = NotificationPreference(customer_id=customer.id, email=None, channels_off=[], muted=[])
            session.add(row)
        before = {"email": row.email, "channels_off": list(row.channels_off or []), "muted": list(row.muted or [])}
        if email is not ...:
            row.email = email  # type: ignore[assignment]
        if channels_off is not ...:
            row.channels_off = list(channels_off)  # type: ignore[arg-type]
        if muted is not ...:
            row.muted = list(muted)  # type: ignore[arg-type]
        after = {"email": row.email, "channels_off": list(row.channels_off), "muted": list(row.muted)}
        if after != before:
            row.updated_at = utcnow()
            data = {"channels_off": after["channels_off"], "muted": after["muted"], "email_changed": after["email"] != before["email"]}
            audit_record(session, actor=actor, action="notifications.preferences_changed", subject_type="customer", subject_id=customer.id, data=data)
        return Preferences(email=row.email, channels_off=tuple(row.channels_off), muted=tuple(row.muted))


def mute(session: Session, tenant: Tenant, customer: Customer, event: str, *, actor: str) -> Preferences:
    """Mute one optional event for the customer (the one-click unsubscribe); muting it again changes nothing."""
    with tenant_scope(tenant.id):
        current = preferences_of(session, customer.id)
    return set_preferences(session, tenant, customer, muted=(*current.muted, event), actor=actor)


def _signature(secret_key: str, tenant_slug: str, customer_id: int, event: str) -> str:
    mac = hmac.new(secret_key.encode(), f"{UNSUBSCRIBE_SALT}|{tenant_slug}|{customer_id}|{event}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:SIGNATURE_CHARS]


def unsubscribe_token(secret_key: str, tenant_slug: str, customer_id: int, event: str) -> str:
    """The token of an unsubscribe link: ``<event>.<customer id>.<signature>``, short enough for one URL segment."""
    return f"{OPTIONAL_EVENTS.index(event)}.{customer_id}.{_signature(secret_key, tenant_slug, customer_id, event)}"


def read_unsubscribe_token(secret_key: str, token: str, tenant_slug: str) -> tuple[int, str] | None:
    """(customer id, event) of a token signed for ``tenant_slug``; None for anything else."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdecimal() or not parts[1].isdecimal() or len(parts[1]) > 12 or int(parts[0]) >= len(OPTIONAL_EVENTS):
        return None
    event, customer_id = OPTIONAL_EVENTS[int(parts[0])], int(parts[1])
    if not hmac.compare_digest(parts[2], _signature(secret_key, tenant_slug, customer_id, event)):
        return None
    return customer_id, event
