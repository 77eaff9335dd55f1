"""Erasure of a customer's personal data, asked by the customer (``POST /me/erasure``) or an owner (``POST
…/admin/customers/<id>/erase``): afterwards no text or JSON column of any table holds a personal value of theirs,
another customer's rows are as they were, counts and amounts are unchanged, and ``yuyue audit verify`` passes.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from customer_api_setup import id_number, iso, phone
from sqlalchemy import JSON, String, Text, func, inspect, select
from test_account_api import SANDBOX_SECRET, A, download, leave_a_trace_of_every_kind, shop, stock  # noqa: F401 - shop is a fixture

import yuyue_schemas
from yuyue.api.schemas.customer.privacy import OPENAPI_PATHS
from yuyue.bookings.models import Booking, BookingPerson
from yuyue.bookings.placement import SYSTEM
from yuyue.bookings.reviews import reply_to_feedback
from yuyue.cli import main
from yuyue.customers.models import Customer, PointsEntry
from yuyue.customers.operations import add_points
from yuyue.db import Model, all_tenants, tenant_scope, write_transaction
from yuyue.events.models import Delivery, DeliveryKind, DeliveryStatus, OutboxEvent
from yuyue.payments.builtin import sandbox_notification
from yuyue.payments.models import Payment, Refund
from yuyue.payments.operations import send_refunds
from yuyue.privacy.models import DataRequest
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


def every_text(session) -> list[tuple[str, str, str]]:
    """(table, column, text) for every string in every text and JSON column of every table, JSON walked to its strings."""
    found = []
    with all_tenants():
        for table in Model.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
            for row in session.execute(select(*columns)) if columns else []:
                for column, value in zip(columns, row, strict=True):
                    found += [(table.name, column.name, text) for text in strings(value)]
    return found


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [key, *strings(item)]]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def mentions(texts: list[tuple[str, str, str]], values: list[str]) -> list[tuple[str, str, str]]:
    """The texts that hold one of ``values``; a phone also when separators or a +86 are stored around its digits."""
    digits = [v for v in values if v.isdigit()]
    return [
        (table, column, text)
        for table, column, text in texts
        if any(v in text for v in values) or any(d in "".join(ch for ch in text if ch.isdigit()) for d in digits)
    ]


def totals(session) -> dict[str, Any]:
    """What statistics and accounting read: counts and amounts."""
    with all_tenants():
        return {
            "bookings": session.execute(
                select(Booking.status, func.count(), func.sum(Booking.price_amount), func.sum(Booking.party_size))
                .group_by(Booking.status)
                .order_by(Booking.status)
            ).all(),
            "people": session.scalar(select(func.count()).select_from(BookingPerson)),
            "payments": session.execute(select(Payment.status, Payment.amount, Payment.refunded_amount).order_by(Payment.id)).all(),
            "points": session.execute(
                select(PointsEntry.customer_id, func.sum(PointsEntry.delta)).group_by(PointsEntry.customer_id).order_by(PointsEntry.customer_id)
            ).all(),
        }


def rows_of(session, customer: Customer) -> dict[str, list]:
    """Every column of the rows naming ``customer`` (and their bookings' people), as committed."""
    session.expire_all()
    with tenant_scope(customer.tenant_id):
        bookings = select(Booking.id).where(Booking.customer_id == customer.id)
        found = {
            "customer": [session.get(Customer, customer.id)],
            "people": session.scalars(select(BookingPerson).where(BookingPerson.booking_id.in_(bookings))).all(),
        }
        for mapper in Model.registry.mappers:
            model = mapper.class_
            if "customer_id" in mapper.columns:
                found[model.__tablename__] = session.scalars(select(model).where(model.customer_id == customer.id).order_by(model.id)).all()
        return {name: [{c.key: getattr(row, c.key) for c in inspect(row).mapper.column_attrs} for row in rows] for name, rows in found.items()}


@pytest.fixture
def traced(session, tenants, alice, bob, shop):  # noqa: F811 - shop is the fixture imported above
    """Alice and Bob with a row of every kind, Alice's WeChat openid, a notification to Alice not yet sent, Alice's download made."""
    alices = leave_a_trace_of_every_kind(session, alice, "Annmark", 11)
    bobs = leave_a_trace_of_every_kind(session, bob, "Bobmark", 12)
    settle_refunds(session, tenants["tenant-a"], alice)
    with tenant_scope(alice.customer.tenant_id), write_transaction(session):
        session.get(Customer, alice.customer.id).wechat_openid = OPENID
        add_points(session, alice.customer, 1, "Annmark Profile helped")  # a reason that names her
        event = session.scalar(select(OutboxEvent).where(OutboxEvent.payload["booking"].as_string() == alices["booking"]).limit(1))
        session.add(
            Delivery(
                message_id="m-erasure-1",
                event_id=event.id,
                topic=event.topic,
                subscriber="notifications",
                kind=DeliveryKind.notification,
                target="sms",
                recipient=phone(1),
                payload={"text": "Annmark Profile, your visit is booked", "to": phone(1)},
            )
        )
    feedback = alice.post(f"{A}/me/feedback", json={"comment": "Annmark Feedback about the visit"})
    assert feedback.status_code == 201, feedback.get_json()
    reply_to_feedback(session, tenants["tenant-a"], feedback.get_json()["id"], reply="Annmark Reply to her", now=utcnow(), actor=SYSTEM)
    download(alice)
    personal = [
        "Annmark Feedback about the visit",
        "Annmark Reply to her",
        phone(1),
        "Annmark Profile",
        "Annmark Visitor",
        "Annmark Companion",
        "Annmark Waiter",
        "Annmark cancel reason",
        OPENID,
        alices["person"],
        alices["companion"],
        alices["email"],
    ]
    return {"alice": personal, "bob": [phone(2), "Bobmark Profile", "Bobmark Visitor", "Bobmark Companion", bobs["person"], bobs["companion"]]}


def settle_refunds(session, tenant, client) -> None:
    """The sandbox accepts and then confirms the refunds of the cancelled visits, so nothing is in progress."""
    send_refunds(session, tenant)
    with tenant_scope(tenant.id):
        refunds = session.execute(select(Refund.reference, Payment.reference, Refund.amount).join(Payment, Refund.payment_id == Payment.id)).all()
    for refund, payment, amount in refunds:
        headers, body = sandbox_notification(SANDBOX_SECRET, "refund.succeeded", payment, amount=amount, refund_reference=refund)
        assert client.post(f"{A}/payments/sandbox/notify", data=body, headers=headers).status_code == 200


def audit_verifies(app, monkeypatch, capsys) -> bool:
    monkeypatch.setenv("YUYUE_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    capsys.readouterr()
    code = main(["audit", "verify"])
    return code == 0 and capsys.readouterr().out.startswith("ok")


def test_after_erasure_no_text_anywhere_holds_a_personal_value_and_the_rest_stands(app, session, alice, bob, traced, monkeypatch, capsys):
    assert mentions(every_text(session), traced["alice"])  # the scan finds them before
    before, bobs_rows = totals(session), rows_of(session, bob.customer)

    erased = alice.post(f"{A}/me/erasure", json={"confirm": True})

    assert erased.status_code == 200, erased.get_json()
    assert erased.get_json()["kind"] == "erasure" and erased.get_json()["status"] == "completed"
    assert mentions(every_text(session), traced["alice"]) == []
    assert {v for v in traced["bob"] if mentions(every_text(session), [v])} == set(traced["bob"])
    assert rows_of(session, bob.customer) == bobs_rows
    assert totals(session) == before
    assert audit_verifies(app, monkeypatch, capsys)


def test_the_erasure_is_audited_and_its_sessions_end(session, alice, traced, problem):
    erased = alice.post(f"{A}/me/erasure", json={"confirm": True})

    schema = OPENAPI_PATHS["/api/v1/t/{tenant_slug}/me/erasure"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert yuyue_schemas.problems_against(schema, erased.get_json()) == []
    problem(alice.get(f"{A}/me/profile"), 401, "invalid_token")
    with tenant_scope(alice.customer.tenant_id):
        [record] = session.scalars(select(DataRequest).where(DataRequest.kind == "erasure")).all()
        assert (record.customer_id, record.requested_by, record.actor, record.reference) == (
            alice.customer.id,
            "customer",
            f"customer:{alice.customer.id}",
            erased.get_json()["reference"],
        )
        from yuyue.audit.models import AuditRecord

        audit = session.scalars(select(AuditRecord).where(AuditRecord.action == "customer.erased")).one()
        assert audit.data["request"] == record.reference and audit.subject_id == str(alice.customer.id)
        assert session.scalar(select(Delivery.status).where(Delivery.message_id == "m-erasure-1")) is DeliveryStatus.skipped


def test_the_download_is_recorded_as_a_data_request(session, alice):
    download(alice)

    with tenant_scope(alice.customer.tenant_id):
        [record] = session.scalars(select(DataRequest)).all()
    assert (record.kind, record.status, record.requested_by, record.customer_id) == ("download", "completed", "customer", alice.customer.id)


def test_logging_in_again_with_the_same_phone_makes_a_new_empty_customer(client, session, alice, traced):
    assert alice.post(f"{A}/me/erasure", json={"confirm": True}).status_code == 200
    from yuyue.customers.operations import customer_for_phone

    with tenant_scope(alice.customer.tenant_id):
        again = customer_for_phone(session, phone(1))
        assert again.id != alice.customer.id and again.name is None
        assert session.scalar(select(func.count()).select_from(Booking).where(Booking.customer_id == again.id)) == 0


def test_erasure_without_confirmation_is_refused_and_erases_nothing(session, alice, problem):
    for body in ({}, {"confirm": False}, {"confirm": "yes"}):
        answer = problem(alice.post(f"{A}/me/erasure", json=body), 422, "validation_failed")
        assert {e["pointer"] for e in answer["errors"]} <= {"", "/confirm"}
    assert alice.get(f"{A}/me/profile").status_code == 200


def test_a_booking_still_to_come_blocks_erasure_with_a_pointer_to_it(session, alice, entry, book, problem):
    booking = book(alice)

    refused = problem(alice.post(f"{A}/me/erasure", json={"confirm": True}), 409, "erasure_blocked")

    assert [(e["pointer"], e["code"]) for e in refused["errors"]] == [(f"/bookings/{booking['id']}", "booking_unfinished")]
    assert alice.get(f"{A}/me/profile").status_code == 200
    with tenant_scope(alice.customer.tenant_id):
        [record] = session.scalars(select(DataRequest).where(DataRequest.kind == "erasure")).all()
    assert (record.status, record.refusal, record.completed_at) == ("refused", "erasure_blocked", None)


def test_an_owner_erases_a_customer_with_a_reason(session, alice, traced, staff_client, problem):
    owner = staff_client("tenant-a", StaffRole.owner)

    erased = owner.post(f"{A}/admin/customers/{alice.customer.id}/erase", json={"reason": "asked by letter"})

    assert erased.status_code == 200, erased.get_json()
    body = erased.get_json()
    assert (body["requested_by"], body["reason"], body["customer"], body["status"]) == ("staff", "asked by letter", alice.customer.id, "completed")
    assert mentions(every_text(session), traced["alice"]) == []
    problem(owner.post(f"{A}/admin/customers/{alice.customer.id}/erase", json={"reason": "again"}), 409, "already_erased")
    listed = owner.get(f"{A}/admin/data-requests?kind=erasure").get_json()["data_requests"]
    assert [(r["reference"], r["requested_by"]) for r in listed] == [(body["reference"], "staff")]


@pytest.mark.parametrize("role", [StaffRole.manager, StaffRole.staff])
def test_only_an_owner_may_erase_a_customer(alice, staff_client, role, problem):
    problem(staff_client("tenant-a", role).post(f"{A}/admin/customers/{alice.customer.id}/erase", json={"reason": "no"}), 403, "forbidden")
    assert alice.get(f"{A}/me/profile").status_code == 200


def test_the_data_requests_page_by_cursor_and_filter(alice, staff_client, problem):
    for _ in range(3):
        download(alice)
    manager = staff_client("tenant-a", StaffRole.manager)

    first = manager.get(f"{A}/admin/data-requests?limit=2").get_json()
    second = manager.get(f"{A}/admin/data-requests?limit=2&cursor={first['next_cursor']}").get_json()

    assert len(first["data_requests"]) == 2 and len(second["data_requests"]) == 1 and second["next_cursor"] is None
    assert first["data_requests"][0]["id"] > first["data_requests"][1]["id"] > second["data_requests"][0]["id"]
    assert manager.get(f"{A}/admin/data-requests?kind=erasure").get_json()["data_requests"] == []
    for query, pointer in (("kind=delete", "/kind"), ("status=x", "/status"), ("cursor=zz", "/cursor"), ("limit=0", "/limit"), ("other=1", "/other")):
        assert {e["pointer"] for e in problem(manager.get(f"{A}/admin/data-requests?{query}"), 422, "validation_failed")["errors"]} == {pointer}


def test_retention_is_an_owners_setting(tenants, staff_client, problem):
    owner = staff_client("tenant-a", StaffRole.owner)
    assert owner.get(f"{A}/admin/privacy").get_json() == {"retention_days": None, "retention_action": "anonymise"}

    assert owner.put(f"{A}/admin/privacy", json={"retention_days": 365, "retention_action": "anonymise"}).get_json()["retention_days"] == 365
    assert owner.get(f"{A}/admin/privacy").get_json()["retention_days"] == 365
    for bad in ({"retention_days": 29}, {"retention_days": 3651}, {"retention_days": 365, "retention_action": "delete"}, {}, {"retention_days": "x"}):
        problem(owner.put(f"{A}/admin/privacy", json=bad), 422, "validation_failed")
    problem(staff_client("tenant-a", StaffRole.manager).put(f"{A}/admin/privacy", json={"retention_days": None}), 403, "forbidden")
    assert owner.put(f"{A}/admin/privacy", json={"retention_days": None}).get_json()["retention_days"] is None


def test_retention_erases_customers_whose_last_booking_ended_long_ago_and_no_one_else(session, tenants, alice, bob, entry, book):
    from yuyue.privacy.operations import erase_expired_customers, set_retention

    book(bob)  # Bob's visit is still to come
    set_retention(session, tenants["tenant-a"], 30, actor="test")

    assert erase_expired_customers(session, now=utcnow() + timedelta(days=31)).erased == 1  # Alice, who never booked

    with tenant_scope(tenants["tenant-a"].id):
        session.expire_all()
        assert session.get(Customer, alice.customer.id).erased_at is not None
        assert session.get(Customer, bob.customer.id).phone == phone(2)
        assert [(r.customer_id, r.requested_by) for r in session.scalars(select(DataRequest))] == [(alice.customer.id, "retention")]
    assert erase_expired_customers(session, now=utcnow() + timedelta(days=31)).erased == 0


def test_the_retention_run_is_a_daily_periodic_task(app):
    from yuyue.worker import make_queue

    queue = make_queue(app)
    assert "erase_expired_customers" in [task.name for task in queue.huey.read_periodic(datetime(2026, 12, 1, 4, 45))]
    assert queue.erase_expired_customers.call_local() == {"erased": 0, "blocked": 0}


def test_hostile_text_in_the_reason_is_kept_as_given(alice, staff_client):
    hostile = "<script>alert('x')</script> & \"Li\""
    erased = staff_client("tenant-a", StaffRole.owner).post(f"{A}/admin/customers/{alice.customer.id}/erase", json={"reason": hostile})
    assert erased.get_json()["reason"] == hostile and "<script>" not in erased.get_data(as_text=True).replace(json.dumps(hostile)[1:-1], "")


def test_staff_still_read_and_export_the_erased_customers_bookings(alice, traced, staff_client):
    owner = staff_client("tenant-a", StaffRole.owner)
    assert alice.post(f"{A}/me/erasure", json={"confirm": True}).status_code == 200

    for path in (
        "/admin/bookings",
        f"/admin/customers/{alice.customer.id}",
        "/admin/customers",
        "/admin/exports/bookings.csv",
        "/admin/customers/export?format=csv",
    ):
        response = owner.get(f"{A}{path}")
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        assert "Annmark Profile" not in response.get_data(as_text=True)
    page = owner.get(f"{A}/admin/customers/{alice.customer.id}").get_json()
    assert (page["name"], page["phone"], page["companions"], page["bans"]) == (None, None, [], [])
    assert page["bookings"]["count"] == 1 and page["points"]["balance"] == -1


def test_a_reason_that_names_the_customer_is_masked_in_the_audit_log_and_kept_on_the_ledger(session, alice, staff_client):
    from yuyue.audit.models import AuditRecord

    assert alice.put(f"{A}/me/profile", json={"name": "Li Lei"}).status_code == 200
    owner = staff_client("tenant-a", StaffRole.owner)

    page = owner.post(f"{A}/admin/customers/{alice.customer.id}/points", json={"delta": 3, "reason": f"Li Lei helped, call {phone(1)}"}).get_json()

    assert page["points"]["history"][0]["reason"] == f"Li Lei helped, call {phone(1)}"
    with tenant_scope(alice.customer.tenant_id):
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "customer.points_adjusted")).one()
        event = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "customer.points_adjusted")).one()
    assert record.data["reason"] == event.payload["reason"] == "L***** helped, call 138****0001"


def test_retention_leaves_a_customer_with_an_unsettled_payment_for_the_next_day_without_a_refusal(session, tenants, alice, staff_client):
    from yuyue.privacy.operations import erase_expired_customers, set_retention

    stock(session, tenants["tenant-a"])
    held = alice.post(
        f"{A}/bookings", json={"booking_type": "paid", "starts_at": iso(9), "answers": {"name": "Ann", "id_card": id_number(date(1990, 1, 2), 31)}}
    )
    assert alice.post(f"{A}/bookings/{held.get_json()['id']}/pay").status_code in (200, 201)
    set_retention(session, tenants["tenant-a"], 30, actor="test")

    report = erase_expired_customers(session, now=utcnow() + timedelta(days=60))

    assert (report.erased, report.blocked) == (0, 1)
    with tenant_scope(tenants["tenant-a"].id):
        assert session.scalars(select(DataRequest)).all() == []
