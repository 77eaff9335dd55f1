"""What erasing a customer's personal data changes, table by table: :data:`PERSONAL_DATA` is the one list of where a
customer's personal values live and what each becomes; the outbox is scrubbed by value (:func:`scrub_outbox`).

Rows are changed through the ORM's unit of work, so the audited ones (customers, bookings, waitlist entries, bans,
points) get their new digests in the chain (decisions §34) and ``yuyue audit verify`` still passes. What counts,
costs or decides who may book stays: statuses, slots, party sizes, prices, payments and refunds, points deltas.
A table added later (another area's customer text) joins the list with one :class:`PersonalData` line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, cast, false, or_, select
from sqlalchemy.orm import Session

from yuyue.bookings.models import Booking, BookingPerson, Feedback, WaitlistEntry
from yuyue.credits.models import CreditEntry
from yuyue.customers.models import Ban, BanSubject, Companion, Customer, LoginCode, PointsEntry, RefreshToken
from yuyue.events.models import Delivery, DeliveryAttempt, DeliveryStatus, NotificationPreference, OutboxEvent

__all__ = ["ERASED_TEXT", "PERSONAL_DATA", "ErasureSubject", "PersonalData", "erase_personal_data", "scrub_outbox"]

# What a required free-text column that mentioned the customer says afterwards.
ERASED_TEXT = "[erased]"
# A value this short is looked for as a whole string only: as part of other text it would match nearly anything.
SHORTEST_PART = 2
_PHONE_PREFIXES = ("+86", "0086", "86")


@dataclass
class ErasureSubject:
    """The customer being erased and every personal value of theirs, read before anything is changed.

    ``identifiers`` are values that name the person wherever they appear, inside other text too (name, phone in every
    spelling, ID numbers, WeChat openid, companions' names and phones, email); ``answers`` the free text of their forms,
    matched only as whole strings. ``bookings`` are the public ids of their bookings, which name their outbox events.
    """

    customer: Customer
    identifiers: set[str] = field(default_factory=set)
    answers: set[str] = field(default_factory=set)
    id_numbers: set[str] = field(default_factory=set)
    bookings: set[str] = field(default_factory=set)

    def mentioned_in(self, text: str) -> bool:
        return text in self.answers or text in self.identifiers or any(len(v) >= SHORTEST_PART and v in text for v in self.identifiers)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def without_text(value: Any) -> Any:
    """``value`` with every string replaced by None; numbers, booleans, keys and list lengths (how many people) stay."""
    if isinstance(value, str):
        return None
    if isinstance(value, Mapping):
        return {key: without_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_text(item) for item in value]
    return value


def without_mentions(value: Any, subject: ErasureSubject) -> Any:
    """``value`` with every string that mentions the subject replaced by None; everything else as it was."""
    if isinstance(value, str):
        return None if subject.mentioned_in(value) else value
    if isinstance(value, Mapping):
        return {key: without_mentions(item, subject) for key, item in value.items()}
    if isinstance(value, list):
        return [without_mentions(item, subject) for item in value]
    return value


def _text_unless_mentioning(text: str | None, subject: ErasureSubject) -> str | None:
    return ERASED_TEXT if text is not None and subject.mentioned_in(text) else text


def _phone_spellings(phone: str) -> set[str]:
    return {phone, *(prefix + phone for prefix in _PHONE_PREFIXES)}


def read_subject(session: Session, customer: Customer) -> ErasureSubject:
    """Every personal value of ``customer`` the tables hold, before erasure changes any."""
    subject = ErasureSubject(customer)
    people = session.scalars(select(BookingPerson).where(BookingPerson.booking_id.in_(_bookings_of(customer)))).all()
    companions = session.scalars(select(Companion).where(Companion.customer_id == customer.id)).all()
    for phone in [customer.phone, *(c.phone for c in companions), *(p.phone for p in people)]:
        if phone:
            subject.identifiers |= _phone_spellings(phone)
    subject.id_numbers = {n for n in [*(c.id_number for c in companions), *(p.id_number for p in people)] if n}
    names = [customer.name, *(c.name for c in companions), *(p.name for p in people)]
    preference = session.scalar(select(NotificationPreference).where(NotificationPreference.customer_id == customer.id))
    subject.identifiers |= {v for v in [*names, customer.wechat_openid, *subject.id_numbers, preference and preference.email] if v}
    for answers, booking in session.execute(select(Booking.answers, Booking.public_id).where(Booking.customer_id == customer.id)):
        subject.answers |= set(_strings(answers))
        subject.bookings.add(booking)
    for answers, people_json in session.execute(select(WaitlistEntry.answers, WaitlistEntry.people).where(WaitlistEntry.customer_id == customer.id)):
        subject.answers |= set(_strings(answers)) | set(_strings(people_json))
    # Their reviews' and feedback's texts and the replies to them, which events about the feedback carry whole.
    for texts in session.execute(select(Feedback.comment, Feedback.reply).where(Feedback.customer_id == customer.id)):
        subject.answers |= {text for text in texts if text}
    return subject


def _bookings_of(customer: Customer):
    return select(Booking.id).where(Booking.customer_id == customer.id).scalar_subquery()


def _bans_of(subject: ErasureSubject) -> ColumnElement[bool]:
    customer = subject.customer
    mine = [(Ban.subject_kind == BanSubject.customer) & (Ban.subject == str(customer.id))]
    if customer.phone:
        mine.append((Ban.subject_kind == BanSubject.phone) & (Ban.subject == customer.phone))
    if subject.id_numbers:
        mine.append((Ban.subject_kind == BanSubject.id_number) & Ban.subject.in_(sorted(subject.id_numbers)))
    return or_(*mine)


@dataclass(frozen=True)
class PersonalData:
    """Where one table holds a customer's personal data: its rows of the customer (``whose``) and what each column becomes.

    A value in ``erased`` is the column's new value, or a function of its old value and the subject. ``erased=None``
    deletes the rows: they are nothing but personal data (a companion, a login secret).
    """

    model: type
    whose: Callable[[ErasureSubject], ColumnElement[bool]]
    erased: Mapping[str, Any] | None = None


_SCRUBBED_ANSWERS = {"answers": lambda answers, subject: without_text(answers)}
PERSONAL_DATA: tuple[PersonalData, ...] = (
    PersonalData(Customer, lambda s: Customer.id == s.customer.id, {"name": None, "phone": None, "wechat_openid": None, "note": None, "tags": []}),
    PersonalData(Companion, lambda s: Companion.customer_id == s.customer.id),
    PersonalData(Booking, lambda s: Booking.customer_id == s.customer.id, {**_SCRUBBED_ANSWERS, "cancel_reason": None}),
    PersonalData(
        BookingPerson, lambda s: BookingPerson.booking_id.in_(_bookings_of(s.customer)), {"name": None, "id_number": None, "phone": None, "birth_date": None}
    ),
    PersonalData(WaitlistEntry, lambda s: WaitlistEntry.customer_id == s.customer.id, {**_SCRUBBED_ANSWERS, "people": lambda people, s: without_text(people)}),
    PersonalData(LoginCode, lambda s: LoginCode.phone == s.customer.phone if s.customer.phone else false()),
    PersonalData(RefreshToken, lambda s: RefreshToken.customer_id == s.customer.id),
    PersonalData(Ban, _bans_of),
    PersonalData(NotificationPreference, lambda s: NotificationPreference.customer_id == s.customer.id),
    PersonalData(PointsEntry, lambda s: PointsEntry.customer_id == s.customer.id, {"reason": _text_unless_mentioning}),
    PersonalData(CreditEntry, lambda s: CreditEntry.customer_id == s.customer.id, {"note": _text_unless_mentioning}),
    # The rating stays (the statistics keep it); the texts go, the staff's reason for hiding one only if it names them.
    PersonalData(Feedback, lambda s: Feedback.customer_id == s.customer.id, {"comment": None, "reply": None, "hidden_reason": _text_unless_mentioning}),
)


def erase_personal_data(session: Session, subject: ErasureSubject) -> dict[str, int]:
    """Apply :data:`PERSONAL_DATA` and :func:`scrub_outbox` in the caller's write transaction; the rows of the customer's per table.

    Every table's rows are chosen before any is changed, since the choice reads values (the phone, the bookings) that
    erasing changes.
    """
    chosen = [(part, session.scalars(select(part.model).where(part.whose(subject))).all()) for part in PERSONAL_DATA]
    counts: dict[str, int] = {}
    for part, rows in chosen:
        for row in rows:
            if part.erased is None:
                session.delete(row)
                continue
            for column, erased in part.erased.items():
                setattr(row, column, erased(getattr(row, column), subject) if callable(erased) else erased)
        counts[part.model.__tablename__] = len(rows)
    session.flush()
    counts.update(scrub_outbox(session, subject))
    return counts


def _json_text_contains(column, value: str) -> ColumnElement[bool]:
    """The JSON column's text holds ``value`` as stored: as is, or with non-ASCII characters escaped as JSON writes them."""
    spellings = {value, json.dumps(value)[1:-1]}
    return or_(*(cast(column, String).contains(spelling, autoescape=True) for spelling in spellings))


def scrub_outbox(session: Session, subject: ErasureSubject) -> dict[str, int]:
    """Take the subject's personal values out of the outbox: events, their deliveries and the journal of attempts.

    The subject's events are those naming one of their bookings, holding one of their identifiers (never chosen by
    name alone, which others may share), or staff's actions on them (``customer.*`` topics naming them). Their strings that mention the subject become null; a delivery not yet
    made is skipped (it would carry nothing to say, to a recipient erased), one made keeps its status with its
    payload and recipient scrubbed. Its cost is one text search of the tenant's outbox per value.
    """
    markers = subject.bookings | {v for v in subject.identifiers if len(v) >= 5}
    events = list(session.scalars(select(OutboxEvent).where(or_(false(), *(_json_text_contains(OutboxEvent.payload, m) for m in sorted(markers))))))
    # Staff's actions on the customer (points, bans, tags) name them by id; their reasons may name them too.
    about = session.scalars(select(OutboxEvent).where(OutboxEvent.topic.like("customer.%"), OutboxEvent.id.not_in([e.id for e in events]))).all()
    events += [event for event in about if isinstance(event.payload, Mapping) and event.payload.get("customer") == subject.customer.id]
    for event in events:
        event.payload = without_mentions(event.payload, subject)
    event_ids = [event.id for event in events]
    deliveries = session.scalars(select(Delivery).where(or_(Delivery.event_id.in_(event_ids), Delivery.recipient.in_(sorted(subject.identifiers))))).all()
    for delivery in deliveries:
        delivery.payload = without_mentions(delivery.payload, subject)
        delivery.recipient = None
        if delivery.status in (DeliveryStatus.pending, DeliveryStatus.sending):
            delivery.status, delivery.lease_until, delivery.last_error = DeliveryStatus.skipped, None, ERASED_TEXT
    attempts = session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_([d.id for d in deliveries]))).all()
    for attempt in attempts:
        attempt.request = without_mentions(attempt.request, subject)
        attempt.response_excerpt = _text_unless_mentioning(attempt.response_excerpt, subject)
        attempt.error = _text_unless_mentioning(attempt.error, subject)
    session.flush()
    return {"outbox_events": len(events), "deliveries": len(deliveries), "delivery_attempts": len(attempts)}
