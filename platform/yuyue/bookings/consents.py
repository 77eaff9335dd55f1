"""Consent to a booking type's privacy notice: required to book when it has one, recorded with the booking, read by staff and the customer.

The check reads only the booking type's ``privacy_notice_version``, which the booking loads anyway; the record
is one row inserted in the booking's transaction, with ids and a version, no personal value
(:class:`yuyue.bookings.models.Consent`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yuyue.bookings.models import Booking, Consent, ConsentChannel
from yuyue.catalog.models import BookingType
from yuyue.errors import Conflict, FieldProblem, InvalidInput

__all__ = [
    "ConsentLine",
    "PrivacyConsent",
    "booking_consents",
    "consents_of_customer",
    "consents_page",
    "link_waitlist_consent",
    "record_consent",
    "require_consent",
]

POINTER = "/privacy_consent"


@dataclass(frozen=True)
class PrivacyConsent:
    """What a booking request says the customer agreed to: a notice ``version`` (None: nothing), and where they agreed."""

    version: int | None
    channel: ConsentChannel = ConsentChannel.api

    def audit_data(self) -> dict[str, dict[str, object]]:
        """What the audit record of the booking (or waitlist entry) it was given with keeps of it."""
        return {"privacy_consent": {"version": self.version, "channel": self.channel.value}}


def require_consent(booking_type: BookingType, consent: PrivacyConsent | None) -> int | None:
    """The notice version the request agrees to, checked against the booking type's current one; None when it has no notice.

    A consent sent for a booking type without a notice is not an error (the merchant may have withdrawn it while the
    customer read it) and is not recorded: there was nothing to agree to.

    :raises InvalidInput: ``consent_required`` at ``/privacy_consent`` when the booking type has a notice and no consent came.
    :raises Conflict: ``consent_outdated`` at ``/privacy_consent/version`` when the consent is to another version; the
        problem's ``current_version`` says which one to show and send.
    """
    current = booking_type.privacy_notice_version
    if current is None:
        return None
    agreed = consent.version if consent is not None else None
    if agreed is None:
        raise InvalidInput(
            _l("agree to the privacy notice to book"),
            code="consent_required",
            errors=[FieldProblem(POINTER, _l("agree to version %(version)s of the privacy notice", version=current), "consent_required")],
        )
    if agreed != current:
        raise Conflict(
            _l("the privacy notice changed: read version %(version)s and agree to it again", version=current),
            code="consent_outdated",
            errors=[FieldProblem(f"{POINTER}/version", _l("the current version is %(version)s", version=current), "consent_outdated")],
            extensions={"current_version": current},
        )
    return current


def record_consent(
    session: Session,
    given: PrivacyConsent,
    customer_id: int,
    booking_type_id: int,
    given_at: datetime,
    *,
    booking_id: int | None = None,
    entry_id: int | None = None,
) -> Consent:
    """Add the row of a checked consent in the caller's write transaction: the booking's, or the waitlist entry's (``entry_id``)."""
    consent = Consent(
        customer_id=customer_id,
        booking_type_id=booking_type_id,
        notice_version=given.version,
        booking_id=booking_id,
        waitlist_entry_id=entry_id,
        channel=given.channel,
        given_at=given_at,
    )
    session.add(consent)
    return consent


def link_waitlist_consent(session: Session, entry_id: int, booking_id: int) -> None:
    """The consent given on joining the waitlist now belongs to the booking its place became as well."""
    session.execute(update(Consent).where(Consent.waitlist_entry_id == entry_id, Consent.booking_id.is_(None)).values(booking_id=booking_id))


def booking_consents(session: Session, booking_ids: list[int]) -> dict[int, list[Consent]]:
    """The consents of each booking, oldest first, in one query (in the caller's tenant scope)."""
    grouped: dict[int, list[Consent]] = {}
    if booking_ids:
        for consent in session.scalars(select(Consent).where(Consent.booking_id.in_(booking_ids)).order_by(Consent.id)):
            grouped.setdefault(consent.booking_id, []).append(consent)
    return grouped


@dataclass(frozen=True)
class ConsentLine:
    """A consent with the slug of the booking type whose notice it agreed to and its booking's public id (None while on a waitlist)."""

    consent: Consent
    booking_type: str
    booking: str | None


def consents_of_customer(session: Session, customer_id: int, *, limit: int | None = None) -> list[ConsentLine]:
    """The customer's consents newest first (``limit`` of them), in the caller's tenant scope."""
    query = (
        select(Consent, BookingType.slug, Booking.public_id)
        .join(BookingType, BookingType.id == Consent.booking_type_id)
        .outerjoin(Booking, Booking.id == Consent.booking_id)
        .where(Consent.customer_id == customer_id)
        .order_by(Consent.id.desc())
    )
    return [ConsentLine(*row) for row in session.execute(query if limit is None else query.limit(limit))]


def consents_page(session: Session, booking_type: BookingType, *, version: int | None, before_id: int | None, limit: int) -> list[tuple[Consent, str | None]]:
    """Up to ``limit`` consents to ``booking_type``'s notice (one ``version`` or all), newest first, before id ``before_id``, each with its booking's public id."""
    query = (
        select(Consent, Booking.public_id)
        .outerjoin(Booking, Booking.id == Consent.booking_id)
        .where(Consent.booking_type_id == booking_type.id)
        .order_by(Consent.id.desc())
        .limit(limit)
    )
    if version is not None:
        query = query.where(Consent.notice_version == version)
    if before_id is not None:
        query = query.where(Consent.id < before_id)
    return [(consent, public_id) for consent, public_id in session.execute(query)]
