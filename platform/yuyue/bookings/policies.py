"""Booking policies enforced as data: bans, identity quotas, minors, cancellation terms, reschedules, no-show bans.

A booking type's ``policies`` (validated against yuyue-schemas ``policies``) say
what a venue enforces; the functions here enforce it inside the operation's
transaction, so no view or API handler can skip a rule. Refusals are
:class:`~yuyue.errors.Refused` whose ``code`` names the rule.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl
from sqlalchemy import ColumnElement, and_, or_, select, text
from sqlalchemy.orm import Session
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from yuyue.behaviour import CancellationTerms, RescheduleTerms
from yuyue.bookings.models import ACTIVE_STATUSES, Booking, BookingPerson, BookingStatus
from yuyue.catalog.models import BookingType
from yuyue.customers.models import Ban, BanSubject, Customer
from yuyue.customers.operations import active_bans, normalize_id_number, normalize_phone
from yuyue.db import current_tenant_id
from yuyue.errors import FieldProblem, InvalidInput, Message, Refused
from yuyue.tenancy.models import Tenant

__all__ = [
    "DEFAULT_ADULT_AGE",
    "CancellationTerms",
    "RescheduleTerms",
    "advisory_lock_id",
    "age_on",
    "bans_after_no_show",
    "birth_date_of",
    "cancellation_terms",
    "check_booking",
    "check_cancellation_limits",
    "counts_bookings",
    "identity_keys",
    "is_minor",
    "lock_identities",
    "reschedule_terms",
]

DEFAULT_ADULT_AGE = 18
# Scopes whose quotas count the people on a booking, and the BookingPerson column each counts.
_PERSON_SCOPES = {"id_number": BookingPerson.id_number, "phone": BookingPerson.phone}


class Person(Protocol):
    """What the policies read of someone on a booking (``yuyue.forms.people.Person`` fits)."""

    @property
    def name(self) -> str | None: ...
    @property
    def id_number(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def birth_date(self) -> date | None: ...


# --------------------------------------------------------------------------
# Age
# --------------------------------------------------------------------------


def birth_date_of(person: Person) -> date | None:
    """The birth date a GB 11643 ID number carries, else the one given; ``None`` if neither is known.

    The ID number wins: it is checked against the holder at the gate, a typed
    birth date is not.
    """
    if person.id_number:
        try:
            return ric.get_birth_date(person.id_number)
        except ValidationError:
            pass
    return person.birth_date


def age_on(birth_date: date, day: date) -> int:
    """Completed years on ``day``; someone born on 29 February turns a year older on 1 March."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def is_minor(policies: Mapping[str, Any] | None, person: Person, on: date) -> bool:
    """Whether ``person`` is under the policies' adult age on the slot's local date ``on``.

    Someone whose birth date is unknown counts as an adult: real-name venues
    require an ID number, and a guess would refuse people wrongly.
    """
    born = birth_date_of(person)
    if born is None:
        return False
    adult_age = ((policies or {}).get("minors") or {}).get("adult_age", DEFAULT_ADULT_AGE)
    return age_on(born, on) < adult_age


# --------------------------------------------------------------------------
# Booking
# --------------------------------------------------------------------------


def check_booking(
    session: Session,
    *,
    policies: Mapping[str, Any] | None,
    customer: Customer,
    people: Sequence[Person],
    local_date: date,
    party_size: int,
    now: datetime,
    booking_type_id: int,
    exclude_booking_id: int | None = None,
) -> None:
    """Refuse a booking (or a reschedule to ``local_date``) that a ban or a policy forbids.

    Checks, in order: ``banned``, ``too_many_minors``, ``minor_without_adult``,
    ``persons_limit_exceeded``, ``quota_exceeded``. Counting takes one query
    per quota scope in use (bans take one more), whatever the number of
    people. ``exclude_booking_id`` leaves the booking being rescheduled out of
    the counts. Call :func:`lock_identities` first in the same transaction.

    :raises Refused: with the code of the first rule that refuses.
    """
    policies = policies or {}
    _check_bans(session, customer, people, now)
    _check_minors(policies, people, local_date)
    if not counts_bookings(policies):
        return
    counted = _counted_bookings(policies, booking_type_id, exclude_booking_id)
    rules = policies.get("quotas") or []
    persons_limit = policies.get("max_persons_per_account_per_day")
    customer_rules = [rule for rule in rules if rule["scope"] == "customer"]
    if customer_rules or persons_limit is not None:
        _check_account(session, counted, customer, customer_rules, persons_limit, local_date, party_size)
    problems: list[FieldProblem] = []
    for scope, column in _PERSON_SCOPES.items():
        scope_rules = [rule for rule in rules if rule["scope"] == scope]
        if scope_rules:
            problems.extend(_person_quota_problems(session, counted, column, scope, scope_rules, people, local_date))
    if problems:
        raise Refused(_l("booking limit reached: %(message)s", message=problems[0].message), code="quota_exceeded", errors=problems)


def _check_bans(session: Session, customer: Customer, people: Sequence[Person], now: datetime) -> None:
    phones = [person.phone for person in people if person.phone] + ([customer.phone] if customer.phone else [])
    bans = active_bans(session, customer_id=customer.id, id_numbers=[p.id_number for p in people if p.id_number], phones=phones, now=now)
    if not bans:
        return
    # Bans hold normalised numbers; compare people's numbers the same way to point at the banned one.
    banned = {(ban.subject_kind, ban.subject): ban for ban in bans}
    problems = []
    for ban in bans:
        if ban.subject_kind is BanSubject.customer or (ban.subject_kind is BanSubject.phone and ban.subject == _normalized(normalize_phone, customer.phone)):
            problems.append(
                FieldProblem(
                    "",
                    _l("this account may not book until %(ends_at)s (%(reason)s)", ends_at=ban.ends_at.isoformat(timespec="minutes"), reason=ban.reason),
                    "banned",
                )
            )
    for index, person in enumerate(people):
        for kind, value in (
            (BanSubject.id_number, _normalized(normalize_id_number, person.id_number)),
            (BanSubject.phone, _normalized(normalize_phone, person.phone)),
        ):
            ban = banned.get((kind, value))
            if ban is not None:
                until = ban.ends_at.isoformat(timespec="minutes")
                problems.append(
                    FieldProblem(f"/people/{index}/{kind.value}", _l("may not book until %(until)s (%(reason)s)", until=until, reason=ban.reason), "banned")
                )
    first = bans[0]
    raise Refused(
        _l("booking is suspended until %(ends_at)s: %(reason)s", ends_at=first.ends_at.isoformat(timespec="minutes"), reason=first.reason),
        code="banned",
        errors=problems,
    )


def _normalized(normalize: Callable[[str], str], value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalize(value)
    except InvalidInput:
        return None


def too_many_minors(limit: int, adult_age: int, on: date, pointers: Sequence[str]) -> Refused:
    """The refusal (``too_many_minors``) of a booking naming more people under ``adult_age`` on ``on`` than ``limit``, one problem at each of them.

    Shared by the booking type's ``minors`` policy and the verticals' limit (:mod:`yuyue.bookings.limits`).
    """
    return Refused(
        _l("a booking may include at most %(limit)s people under %(adult_age)s; this one has %(count)s", limit=limit, adult_age=adult_age, count=len(pointers)),
        code="too_many_minors",
        errors=[FieldProblem(pointer, _l("under %(adult_age)s on %(on)s", adult_age=adult_age, on=on), "too_many_minors") for pointer in pointers],
    )


def _check_minors(policies: Mapping[str, Any], people: Sequence[Person], local_date: date) -> None:
    rules = policies.get("minors")
    if not rules:
        return
    minors = [index for index, person in enumerate(people) if is_minor(policies, person, local_date)]
    if not minors:
        return
    adult_age = rules.get("adult_age", DEFAULT_ADULT_AGE)
    limit = rules.get("max_minors_per_booking")
    if limit is not None and len(minors) > limit:
        raise too_many_minors(limit, adult_age, local_date, [_age_pointer(people, index) for index in minors])
    if rules.get("require_adult") and len(minors) == len(people):
        raise Refused(
            _l("people under %(adult_age)s must be booked together with an adult", adult_age=adult_age),
            code="minor_without_adult",
            errors=[
                FieldProblem(
                    "/people",
                    _l("add an accompanying adult (aged %(adult_age)s or over on %(local_date)s)", adult_age=adult_age, local_date=local_date),
                    "minor_without_adult",
                )
            ],
        )


def _age_pointer(people: Sequence[Person], index: int) -> str:
    return f"/people/{index}/id_number" if people[index].id_number else f"/people/{index}/birth_date"


def _counted_bookings(policies: Mapping[str, Any], booking_type_id: int, exclude_booking_id: int | None) -> list[ColumnElement[bool]]:
    """Conditions on :class:`Booking` for the bookings a quota counts: active, of this booking type or its vertical."""
    if policies.get("across_booking_types"):
        vertical = select(BookingType.vertical).where(BookingType.id == booking_type_id).scalar_subquery()
        of_type = Booking.booking_type_id.in_(select(BookingType.id).where(BookingType.vertical == vertical))
    else:
        of_type = Booking.booking_type_id == booking_type_id
    conditions = [Booking.status.in_(ACTIVE_STATUSES), of_type]
    if exclude_booking_id is not None:
        conditions.append(Booking.id != exclude_booking_id)
    return conditions


def _window(rules: Iterable[Mapping[str, Any]], local_date: date) -> tuple[date, date]:
    """The dates any of ``rules`` may look at: a rolling window of N days around a date reaches N-1 days each way."""
    reach = max((rule["days"] - 1 if rule["period"] == "rolling_days" else 0) for rule in rules)
    return local_date - timedelta(days=reach), local_date + timedelta(days=reach)


def _most_in_window(rule: Mapping[str, Any], dates: Sequence[date], local_date: date) -> tuple[int, Message]:
    """The most existing bookings that share a counting period with one on ``local_date``, and that period in words.

    For a rolling period every run of ``days`` consecutive days containing
    ``local_date`` is tried, so booking out of date order cannot slip past it.
    """
    if rule["period"] == "day":
        return sum(1 for day in dates if day == local_date), _l("on %(date)s", date=local_date)
    days = rule["days"]
    best, best_start = -1, local_date
    for offset in range(days):
        start = local_date - timedelta(days=days - 1 - offset)
        count = sum(1 for day in dates if start <= day < start + timedelta(days=days))
        if count > best:
            best, best_start = count, start
    return best, _l("between %(first)s and %(last)s", first=best_start, last=best_start + timedelta(days=days - 1))


_SCOPE_WORDS = {"id_number": _l("ID number"), "phone": _l("phone number"), "customer": _l("account")}


def _limit_words(rule: Mapping[str, Any]) -> Message:
    if rule["period"] == "day":
        return _nl("%(num)s booking per %(scope)s a day", "%(num)s bookings per %(scope)s a day", rule["max_bookings"], scope=_SCOPE_WORDS[rule["scope"]])
    return _nl(
        "%(num)s booking per %(scope)s in any %(days)s days",
        "%(num)s bookings per %(scope)s in any %(days)s days",
        rule["max_bookings"],
        scope=_SCOPE_WORDS[rule["scope"]],
        days=rule["days"],
    )


def _check_account(
    session: Session,
    counted: list[ColumnElement[bool]],
    customer: Customer,
    rules: list[Mapping[str, Any]],
    persons_limit: int | None,
    local_date: date,
    party_size: int,
) -> None:
    low, high = _window([*rules, {"period": "day"}], local_date)
    rows = session.execute(
        select(Booking.local_date, Booking.party_size).where(Booking.customer_id == customer.id, Booking.local_date.between(low, high), *counted)
    ).all()
    if persons_limit is not None:
        persons = sum(size for day, size in rows if day == local_date)
        if persons + party_size > persons_limit:
            raise Refused(
                _l("an account may book for at most %(limit)s people a day; %(booked)s already booked", limit=persons_limit, booked=persons)
                if persons
                else _l("an account may book for at most %(limit)s people a day", limit=persons_limit),
                code="persons_limit_exceeded",
                errors=[
                    FieldProblem(
                        "/party_size",
                        _l("at most %(more)s more on %(local_date)s", more=persons_limit - persons, local_date=local_date),
                        "persons_limit_exceeded",
                    )
                ],
            )
    dates = [day for day, _ in rows]
    for rule in rules:
        count, period = _most_in_window(rule, dates, local_date)
        if count + 1 > rule["max_bookings"]:
            message = _nl(
                "this account already has %(num)s booking %(period)s; the limit is %(limit)s",
                "this account already has %(num)s bookings %(period)s; the limit is %(limit)s",
                count,
                period=period,
                limit=_limit_words(rule),
            )
            raise Refused(
                _l("booking limit reached: %(message)s", message=message), code="quota_exceeded", errors=[FieldProblem("", message, "quota_exceeded")]
            )


def _person_quota_problems(
    session: Session,
    counted: list[ColumnElement[bool]],
    column: Any,
    scope: str,
    rules: list[Mapping[str, Any]],
    people: Sequence[Person],
    local_date: date,
) -> list[FieldProblem]:
    first_index: dict[str, int] = {}
    for index, person in enumerate(people):
        value = getattr(person, scope)
        if value and value not in first_index:
            first_index[value] = index
    if not first_index:
        return []
    low, high = _window(rules, local_date)
    rows = session.execute(
        select(column, Booking.id, BookingPerson.local_date)
        .join(Booking, Booking.id == BookingPerson.booking_id)
        .where(column.in_(sorted(first_index)), BookingPerson.local_date.between(low, high), *counted)
        .distinct()
    ).all()
    dates: dict[str, list[date]] = defaultdict(list)
    for value, _, day in rows:
        dates[value].append(day)
    problems = []
    for value, index in first_index.items():
        for rule in rules:
            count, period = _most_in_window(rule, dates[value], local_date)
            if count + 1 > rule["max_bookings"]:
                who = people[index].name or _SCOPE_WORDS[scope]
                message = _nl(
                    "%(who)s already has %(num)s booking %(period)s; the limit is %(limit)s",
                    "%(who)s already has %(num)s bookings %(period)s; the limit is %(limit)s",
                    count,
                    who=who,
                    period=period,
                    limit=_limit_words(rule),
                )
                problems.append(FieldProblem(f"/people/{index}/{scope}", message, "quota_exceeded"))
                break
    return problems


# --------------------------------------------------------------------------
# Concurrency
# --------------------------------------------------------------------------


def counts_bookings(policies: Mapping[str, Any] | None) -> bool:
    """Whether ``policies`` limit the bookings a person or an account may hold (quotas, persons per account and day)."""
    policies = policies or {}
    return bool(policies.get("quotas")) or policies.get("max_persons_per_account_per_day") is not None


def identity_keys(customer: Customer, people: Iterable[Person], policies: Mapping[str, Any] | None) -> list[str]:
    """The keys :func:`lock_identities` should lock for a booking under ``policies``: its account, ID numbers and phones.

    None when the policies count no bookings: then there is nothing two
    concurrent bookings of one person could both miss.
    """
    if not counts_bookings(policies):
        return []
    keys = [f"customer:{customer.id}"]
    for person in people:
        if person.id_number:
            keys.append(f"id_number:{person.id_number}")
        if person.phone:
            keys.append(f"phone:{person.phone}")
    return keys


def lock_identities(session: Session, keys: Iterable[str]) -> None:
    """Serialise concurrent bookings that share an identity, until the transaction ends.

    On PostgreSQL under READ COMMITTED two transactions could both count zero
    bookings for one ID number and both insert; a transaction-scoped advisory
    lock per (tenant, key) makes the second wait for the first to commit.
    Locks are taken in sorted order so two bookings sharing several keys
    cannot deadlock. On SQLite this does nothing: ``BEGIN IMMEDIATE`` already
    lets one writer in at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    tenant_id = current_tenant_id()
    for lock_id in sorted({advisory_lock_id(tenant_id, key) for key in keys if key}):
        session.execute(text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": lock_id})


def advisory_lock_id(tenant_id: int, key: str) -> int:
    """A stable signed 64-bit number for (tenant, key): the same in every process and release, unlike ``hash()``."""
    digest = hashlib.blake2b(f"{tenant_id}\x1f{key}".encode(), digest_size=8, person=b"yuyue.identity").digest()
    return int.from_bytes(digest, "big", signed=True)


# --------------------------------------------------------------------------
# Cancellation
# --------------------------------------------------------------------------


def cancellation_terms(policies: Mapping[str, Any] | None, starts_at: datetime, now: datetime) -> CancellationTerms:
    """The terms for cancelling, ``now``, a booking whose slot starts at ``starts_at``.

    Cancelling exactly at the deadline is still on time. A deadline with no
    ``late`` action refuses late cancellations. Once the slot has started it is
    too late to cancel under any policy: that booking is a no-show or a visit.
    """
    rules = (policies or {}).get("cancellation") or {}
    deadline_hours = rules.get("deadline_hours")
    deadline = None if deadline_hours is None else starts_at - timedelta(hours=deadline_hours)
    if now >= starts_at:
        return CancellationTerms(allowed=False, late=True, code="cancellation_closed", deadline=deadline)
    if deadline is None or now <= deadline:
        return CancellationTerms(allowed=True, late=False, deadline=deadline)
    late = rules.get("late") or {"action": "refuse"}
    action = late["action"]
    if action == "refuse":
        return CancellationTerms(allowed=False, late=True, code="cancellation_closed", deadline=deadline)
    return CancellationTerms(
        allowed=True,
        late=True,
        points=late.get("points", 0) if action == "deduct_points" else 0,
        fee_percent=late.get("fee_percent", 0) if action == "fee" else 0,
        counts_as_no_show=action == "no_show",
        code=f"late_{action}",
        deadline=deadline,
    )


def check_cancellation_limits(session: Session, policies: Mapping[str, Any] | None, customer: Customer, now: datetime, *, time_zone: str | None = None) -> None:
    """Refuse a customer's cancellation past ``max_per_day`` or ``max_per_week`` (``cancellation_limit``).

    Counts the account's cancelled bookings in the tenant, by when they were
    cancelled (``released_at``), per calendar day and Monday-to-Sunday week in
    ``time_zone`` (default: the tenant's). Call it before the booking being
    cancelled is marked cancelled.
    """
    rules = (policies or {}).get("cancellation") or {}
    per_day, per_week = rules.get("max_per_day"), rules.get("max_per_week")
    if per_day is None and per_week is None:
        return
    zone = ZoneInfo(time_zone or session.get(Tenant, current_tenant_id()).time_zone)
    today = now.astimezone(zone).date()
    day_start = datetime.combine(today, time(), zone)
    week_start = datetime.combine(today - timedelta(days=today.weekday()), time(), zone)
    cancelled = session.scalars(
        select(Booking.released_at).where(
            Booking.customer_id == customer.id,
            Booking.status == BookingStatus.cancelled,
            Booking.released_at >= (day_start if per_week is None else week_start),
            Booking.released_at <= now,
        )
    ).all()
    today_count = sum(1 for at in cancelled if at >= day_start)
    if per_day is not None and today_count >= per_day:
        raise Refused(
            _nl(
                "an account may cancel at most %(num)s booking a day; %(today)s cancelled today",
                "an account may cancel at most %(num)s bookings a day; %(today)s cancelled today",
                per_day,
                today=today_count,
            ),
            code="cancellation_limit",
        )
    if per_week is not None and len(cancelled) >= per_week:
        raise Refused(
            _nl(
                "an account may cancel at most %(num)s booking a week; %(week)s cancelled this week",
                "an account may cancel at most %(num)s bookings a week; %(week)s cancelled this week",
                per_week,
                week=len(cancelled),
            ),
            code="cancellation_limit",
        )


# --------------------------------------------------------------------------
# Reschedule
# --------------------------------------------------------------------------


def reschedule_terms(policies: Mapping[str, Any] | None, booking: Any, now: datetime) -> RescheduleTerms:
    """Whether ``booking`` may move now: not when moved too often (``reschedule_limit``) or too late (``reschedule_closed``).

    Like cancelling, moving exactly at the deadline is allowed, and a booking
    whose slot has started can never be moved.
    """
    rules = (policies or {}).get("reschedule") or {}
    deadline_hours = rules.get("deadline_hours")
    deadline = booking.starts_at - timedelta(hours=deadline_hours) if deadline_hours is not None else None
    limit = rules.get("max_per_booking")
    if limit is not None and booking.reschedule_count >= limit:
        times = "once" if limit == 1 else f"{limit} times"
        message = f"a booking may be rescheduled at most {times}" if limit else "bookings of this type cannot be rescheduled"
        return RescheduleTerms(allowed=False, code="reschedule_limit", message=message, deadline=deadline)
    if now >= booking.starts_at or (deadline is not None and now > deadline):
        hours = f"{deadline_hours:g} hours " if deadline_hours else ""
        return RescheduleTerms(
            allowed=False, code="reschedule_closed", message=f"a booking can be rescheduled only up to {hours}before it starts", deadline=deadline
        )
    return RescheduleTerms(allowed=True, deadline=deadline)


# --------------------------------------------------------------------------
# No-shows
# --------------------------------------------------------------------------


def bans_after_no_show(
    session: Session,
    policies: Mapping[str, Any] | None,
    customer: Customer,
    id_numbers: Iterable[str | None],
    now: datetime,
) -> list[tuple[BanSubject, str, int, str]]:
    """The bans a no-show earns: ``(subject kind, subject, days, reason)`` for the operation to create.

    Call it after the no-show is flushed. No-shows are bookings with status
    ``no_show`` or flagged ``counts_as_no_show`` (late cancellations), counted
    by slot start within each rule's window; for each subject (the account, each
    ID number) the matching rule with the longest ban wins. A subject already
    banned at least that long gets nothing more. A customer ban's subject is
    the customer id as a string.
    """
    rules = ((policies or {}).get("no_show") or {}).get("bans") or []
    if not rules:
        return []
    no_show = or_(Booking.status == BookingStatus.no_show, Booking.counts_as_no_show.is_(True))
    earliest = now - timedelta(days=max(rule["within_days"] for rule in rules))
    starts: dict[tuple[BanSubject, str], list[datetime]] = defaultdict(list)
    if any(rule["scope"] == "customer" for rule in rules):
        subject = (BanSubject.customer, str(customer.id))
        starts[subject] = list(session.scalars(select(Booking.starts_at).where(Booking.customer_id == customer.id, no_show, Booking.starts_at > earliest)))
    id_numbers = sorted({number for number in id_numbers if number})
    if id_numbers and any(rule["scope"] == "id_number" for rule in rules):
        rows = session.execute(
            select(BookingPerson.id_number, Booking.id, Booking.starts_at)
            .join(Booking, Booking.id == BookingPerson.booking_id)
            .where(BookingPerson.id_number.in_(id_numbers), no_show, Booking.starts_at > earliest)
            .distinct()
        ).all()
        for number, _, starts_at in rows:
            starts[(BanSubject.id_number, number)].append(starts_at)
    earned: dict[tuple[BanSubject, str], tuple[int, str]] = {}
    for (kind, subject), times in starts.items():
        for rule in rules:
            if rule["scope"] != kind.value:
                continue
            count = sum(1 for at in times if at > now - timedelta(days=rule["within_days"]))
            if count >= rule["count"] and rule["ban_days"] > earned.get((kind, subject), (0, ""))[0]:
                earned[(kind, subject)] = (rule["ban_days"], f"{count} no-shows within {rule['within_days']} days")
    if not earned:
        return []
    banned_until = _banned_until(session, list(earned), now)
    return [
        (kind, subject, days, reason)
        for (kind, subject), (days, reason) in earned.items()
        if banned_until.get((kind, subject)) is None or banned_until[(kind, subject)] < now + timedelta(days=days)
    ]


def _banned_until(session: Session, subjects: list[tuple[BanSubject, str]], now: datetime) -> dict[tuple[BanSubject, str], datetime]:
    by_kind: dict[BanSubject, list[str]] = defaultdict(list)
    for kind, subject in subjects:
        by_kind[kind].append(subject)
    matches = or_(*(and_(Ban.subject_kind == kind, Ban.subject.in_(values)) for kind, values in by_kind.items()))
    until: dict[tuple[BanSubject, str], datetime] = {}
    for kind, subject, ends_at in session.execute(select(Ban.subject_kind, Ban.subject, Ban.ends_at).where(matches, Ban.ends_at > now)):
        until[(kind, subject)] = max(ends_at, until.get((kind, subject), ends_at))
    return until
