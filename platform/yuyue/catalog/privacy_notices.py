"""The privacy notice of a booking type's form: published in versions that are never changed, withdrawn by a version of its own.

A booking of a type with a notice needs the customer's consent to its current version
(:mod:`yuyue.bookings.consents`); the booking type's ``privacy_notice_version`` names that version,
so the booking reads it with the row it reads anyway. Every change is audited and announced.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import yuyue_schemas
from yuyue.audit.canonical import canonical_json
from yuyue.catalog.models import BookingType, PrivacyNotice
from yuyue.catalog.operations import get_booking_type
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import FieldProblem, InvalidInput, schema_field_problems
from yuyue.events.operations import record_change
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

__all__ = ["MAX_NOTICE_LENGTH", "MAX_VERSIONS_SHOWN", "current_notice", "notice_versions", "set_privacy_notice", "withdraw_privacy_notice"]

# Characters per language: a notice is a page or two of terms, not a book.
MAX_NOTICE_LENGTH = 10_000
# The newest versions a notice's history shows.
MAX_VERSIONS_SHOWN = 100


def notice_text_problems(text: Any) -> list[FieldProblem]:
    """What is wrong with ``text`` as a notice: localized text, each language at most :data:`MAX_NOTICE_LENGTH` characters; at ``/text``."""
    problems = schema_field_problems(yuyue_schemas.problems("localized-text", text), "/text")
    if problems:
        return problems
    texts = {"": text} if isinstance(text, str) else text
    return [
        FieldProblem(f"/text/{language}" if language else "/text", _l("at most %(limit)s characters", limit=MAX_NOTICE_LENGTH), "maxLength")
        for language, value in texts.items()
        if len(value) > MAX_NOTICE_LENGTH
    ]


def current_notice(session: Session, booking_type: BookingType) -> PrivacyNotice | None:
    """The version customers agree to now, or None when the booking type asks for no consent."""
    if booking_type.privacy_notice_version is None:
        return None
    with tenant_scope(booking_type.tenant_id):
        return session.scalar(
            select(PrivacyNotice).where(PrivacyNotice.booking_type_id == booking_type.id, PrivacyNotice.version == booking_type.privacy_notice_version)
        )


def notice_versions(session: Session, booking_type: BookingType) -> tuple[list[PrivacyNotice], int]:
    """The newest :data:`MAX_VERSIONS_SHOWN` versions, newest first, and how many there are."""
    with tenant_scope(booking_type.tenant_id):
        mine = PrivacyNotice.booking_type_id == booking_type.id
        versions = list(session.scalars(select(PrivacyNotice).where(mine).order_by(PrivacyNotice.version.desc()).limit(MAX_VERSIONS_SHOWN)))
        return versions, session.scalar(select(func.count()).select_from(PrivacyNotice).where(mine)) or 0


def set_privacy_notice(session: Session, tenant: Tenant, slug: str, text: Any, *, actor: str) -> BookingType:
    """Publish ``text`` as the next version of booking type ``slug``'s notice; the same text as the current version publishes nothing.

    From then on a booking must agree to the new version: a client that showed an older one is refused.

    :raises InvalidInput: if ``text`` is not localized text within :data:`MAX_NOTICE_LENGTH`.
    :raises NotFound: if ``tenant`` has no booking type ``slug``.
    """
    problems = notice_text_problems(text)
    if problems:
        raise InvalidInput(_l("the privacy notice cannot be saved as given"), errors=problems)
    with tenant_scope(tenant.id), write_transaction(session):
        booking_type = _locked(session, tenant, slug)
        current = current_notice(session, booking_type)
        if current is None or current.text != text:
            _publish(session, booking_type, text, actor, "privacy_notice.published")
    return booking_type


def withdraw_privacy_notice(session: Session, tenant: Tenant, slug: str, *, actor: str) -> BookingType:
    """Stop asking for consent to booking type ``slug``'s notice; the history keeps every version and the withdrawal.

    :raises NotFound: if ``tenant`` has no booking type ``slug``.
    """
    with tenant_scope(tenant.id), write_transaction(session):
        booking_type = _locked(session, tenant, slug)
        if booking_type.privacy_notice_version is not None:
            _publish(session, booking_type, None, actor, "privacy_notice.withdrawn")
    return booking_type


def _locked(session: Session, tenant: Tenant, slug: str) -> BookingType:
    """The booking type, its row locked (on PostgreSQL) so concurrent publishers take turns over the next version number."""
    get_booking_type(session, tenant, slug)
    query = select(BookingType).where(BookingType.slug == slug).with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one()


def _publish(session: Session, booking_type: BookingType, text: Any, actor: str, action: str) -> None:
    latest = session.scalar(select(func.max(PrivacyNotice.version)).where(PrivacyNotice.booking_type_id == booking_type.id)) or 0
    notice = PrivacyNotice(booking_type_id=booking_type.id, version=latest + 1, text=text, created_by=actor, created_at=utcnow())
    session.add(notice)
    booking_type.privacy_notice_version = None if text is None else notice.version
    session.flush()
    # The digest lets the chain vouch for the wording customers agreed to without copying pages of text into it.
    digest = None if text is None else hashlib.sha256(canonical_json(text).encode()).hexdigest()
    payload = {"booking_type": booking_type.slug, "version": notice.version, "text_sha256": digest}
    record_change(session, actor=actor, action=action, subject_type="booking_type", subject_id=booking_type.slug, payload=payload)
