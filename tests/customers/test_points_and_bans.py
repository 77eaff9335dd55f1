"""The points ledger and bans on customers, ID numbers and phones."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from yuyue.audit.models import AuditRecord
from yuyue.customers.models import BanSubject
from yuyue.customers.operations import active_bans, add_points, ban, customer_for_phone, points_balance
from yuyue.db import db, tenant_scope
from yuyue.errors import Conflict, InvalidInput, NotFound

NOW = datetime(2024, 10, 1, 9, 0, tzinfo=UTC)
VISITOR = "110101199003071233"  # a valid GB 11643 number
OTHER_VISITOR = "110101198501011239"


def test_the_balance_is_the_sum_of_the_ledger(session, customer):
    assert points_balance(session, customer) == 0
    add_points(session, customer, 10, "checked_in")
    add_points(session, customer, 5, "review")
    add_points(session, customer, -3, "redeemed", require_balance=True)
    assert points_balance(session, customer) == 12


def test_points_changes_are_audited(session, customer):
    entry = add_points(session, customer, 10, "checked_in")
    record = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
    assert (record.action, record.subject_id, record.data) == (
        "points.added",
        str(customer.id),
        {"entry_id": entry.id, "delta": 10, "reason": "checked_in", "booking_id": None},
    )


def test_spending_more_points_than_the_balance_is_refused(session, customer):
    add_points(session, customer, 5, "checked_in")
    with pytest.raises(Conflict) as error:
        add_points(session, customer, -6, "redeemed", require_balance=True)
    assert error.value.code == "insufficient_points"
    assert points_balance(session, customer) == 5


def test_a_late_cancellation_penalty_may_leave_a_debt(session, customer):
    add_points(session, customer, -10, "late_cancellation")
    assert points_balance(session, customer) == -10


@pytest.mark.parametrize(("delta", "reason", "pointer"), [(0, "x", "/delta"), (1.5, "x", "/delta"), (True, "x", "/delta"), (1, "", "/reason")])
def test_invalid_points_changes_are_refused(session, customer, delta, reason, pointer):
    with pytest.raises(InvalidInput) as error:
        add_points(session, customer, delta, reason)
    assert error.value.errors[0].pointer == pointer


def test_a_ban_lasts_the_given_number_of_days(session, customer):
    entry = ban(session, BanSubject.customer, str(customer.id), 30, "3 no-shows", NOW)
    assert (entry.starts_at, entry.ends_at) == (NOW, NOW + timedelta(days=30))
    assert active_bans(session, customer_id=customer.id, now=NOW + timedelta(days=29)) == [entry]
    assert active_bans(session, customer_id=customer.id, now=NOW + timedelta(days=30)) == []
    assert active_bans(session, customer_id=customer.id, now=NOW - timedelta(seconds=1)) == []


def test_bans_are_audited_without_the_full_id_number(session, customer):
    entry = ban(session, BanSubject.id_number, VISITOR, 180, "5 no-shows in 30 days", NOW)
    record = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
    assert (record.action, record.subject_id) == ("ban.created", str(entry.id))
    assert record.data["subject"] == VISITOR[:6] + "********" + VISITOR[-4:]
    assert record.data["ends_at"] == "2025-03-30T09:00:00.000000+00:00"


def test_an_id_number_ban_stops_every_account_that_books_that_visitor(session, customer):
    ban(session, BanSubject.id_number, VISITOR, 180, "no-shows", NOW)
    other = customer_for_phone(session, "13900139000")
    assert len(active_bans(session, customer_id=other.id, id_numbers=[OTHER_VISITOR, " " + VISITOR], now=NOW)) == 1


def test_a_phone_ban_matches_any_spelling_of_the_number(session, customer):
    ban(session, BanSubject.phone, "+86 139 0013 9000", 7, "abuse", NOW)
    assert len(active_bans(session, phones=["13900139000"], now=NOW)) == 1


def test_active_bans_collects_every_kind_in_one_query(session, customer):
    bans = [
        ban(session, BanSubject.customer, str(customer.id), 30, "no-shows", NOW),
        ban(session, BanSubject.id_number, VISITOR, 60, "no-shows", NOW),
        ban(session, BanSubject.phone, "13900139000", 90, "abuse", NOW),
        ban(session, BanSubject.phone, "13700137000", 90, "unrelated", NOW),
    ]
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        found = active_bans(session, customer_id=customer.id, id_numbers=[VISITOR], phones=["13900139000", "not a phone"], now=NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert [s.split()[0] for s in statements if not s.startswith("BEGIN")] == ["SELECT"]
    assert found == [bans[2], bans[1], bans[0]]


def test_active_bans_with_nothing_to_match_is_empty(session, customer):
    assert active_bans(session, now=NOW) == []


def test_bans_of_another_tenant_do_not_apply(session, customer, make_tenant):
    ban(session, BanSubject.id_number, VISITOR, 30, "no-shows", NOW)
    other = make_tenant("scenic")
    with tenant_scope(other.id):
        assert active_bans(session, id_numbers=[VISITOR], now=NOW) == []


@pytest.mark.parametrize(
    ("kind", "subject", "days", "pointer"),
    [
        (BanSubject.id_number, VISITOR[:-1] + "0", 30, "/subject"),
        (BanSubject.phone, "x", 30, "/subject"),
        (BanSubject.customer, "abc", 30, "/subject"),
        (BanSubject.phone, "13900139000", 0, "/days"),
    ],
)
def test_invalid_bans_are_refused(session, customer, kind, subject, days, pointer):
    with pytest.raises(InvalidInput) as error:
        ban(session, kind, subject, days, "x", NOW)
    assert error.value.errors[0].pointer == pointer


def test_banning_an_unknown_customer_is_not_found(session, customer):
    with pytest.raises(NotFound):
        ban(session, BanSubject.customer, str(customer.id + 1000), 30, "x", NOW)


def test_a_naive_now_is_refused(session, customer):
    with pytest.raises(ValueError, match="aware"):
        active_bans(session, customer_id=customer.id, now=datetime(2024, 1, 1))  # noqa: DTZ001


def test_concurrent_spending_cannot_take_the_same_points_twice(app, session, tenant, customer):
    add_points(session, customer, 5, "checked_in")
    threads = 6
    start = threading.Barrier(threads)
    outcomes: list[str] = []

    def spend() -> None:
        with app.app_context(), tenant_scope(tenant.id):
            start.wait()
            try:
                add_points(db.session, customer, -5, "redeemed", require_balance=True)
                outcomes.append("spent")
            except Conflict as error:
                outcomes.append(error.code)
            finally:
                db.session.remove()

    pool = [threading.Thread(target=spend) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert sorted(outcomes) == ["insufficient_points"] * (threads - 1) + ["spent"]
    assert points_balance(session, customer) == 0
