"""Merging two records of one person over HTTP: everything moves to the survivor once, quotas count the merged history,
the other record is gone (its logins with it), and every refusal is a clear problem."""

from __future__ import annotations

from datetime import date

import pytest
from merchant_setup import NAME_FORM, NAME_UI, at, windows
from sqlalchemy import func, select
from tenant_setup import id_number, make_booking_type, phone

from yuyue.api.auth import customer_tokens
from yuyue.audit.models import AuditRecord
from yuyue.bookings import operations as booking_operations
from yuyue.customers.models import Customer
from yuyue.customers.operations import customer_for_phone
from yuyue.db import all_tenants, tenant_scope, write_transaction
from yuyue.events.models import OutboxEvent
from yuyue.notifying.preferences import unsubscribe_token
from yuyue.tenancy.models import StaffRole

A = "/api/v1/t/tenant-a"
TWIN_ID, OTHER_ID = id_number(date(2015, 3, 1)), id_number(date(2012, 6, 1))


@pytest.fixture
def entry(session, tenant_of):
    """tenant-a's ``entry``, two slots of 20 places; a customer may book twice a day."""
    policies = {"quotas": [{"scope": "customer", "max_bookings": 2, "period": "day"}]}
    return make_booking_type(
        session,
        tenant_of("tenant-a"),
        "entry",
        rules=windows(("09:00", "10:00"), ("10:00", "11:00"), capacity=20),
        form=NAME_FORM,
        ui=NAME_UI,
        policies=policies,
    )


@pytest.fixture
def customer(app, session, tenants):
    """``customer(1)``: a client logged in as the customer with phone(1), with ``.customer`` and ``.refresh_token``."""

    def make(n: int):
        with tenant_scope(tenants["tenant-a"].id):
            row = customer_for_phone(session, phone(n))
        with app.test_request_context():
            tokens = customer_tokens(row)
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tokens['access_token']}"
        client.customer, client.refresh_token = row, tokens["refresh_token"]
        return client

    return make


def book(client, hour: int) -> dict:
    response = client.post(f"{A}/bookings", json={"booking_type": "entry", "starts_at": at(hour).isoformat(), "answers": {"name": "Li Lei"}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def merge(manager, survivor_id: int, other_id, reason="same person, two phones"):
    return manager.post(f"{A}/admin/customers/{survivor_id}/merge", json={"from": other_id, "reason": reason})


def merged(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def live_customers(session) -> int:
    session.commit()
    with all_tenants():
        return session.scalar(select(func.count()).select_from(Customer).where(Customer.merged_into_id.is_(None)))


@pytest.fixture
def two_records(customer, manager, entry):
    """Li twice: phone(1) with a booking, a saved child (no relation) and a tag; phone(2) with a booking, the same child
    (with relation and phone), another companion, points, credits, a ban, a tag and a note."""
    mine, theirs = customer(1), customer(2)
    book(mine, 9)
    book(theirs, 10)
    assert mine.post(f"{A}/me/companions", json={"name": "Li Xiaoming", "id_number": TWIN_ID}).status_code == 201
    assert theirs.post(f"{A}/me/companions", json={"name": "Xiaoming", "id_number": TWIN_ID, "relation": "son", "phone": phone(9)}).status_code == 201
    assert theirs.post(f"{A}/me/companions", json={"name": "Li Na", "id_number": OTHER_ID}).status_code == 201
    assert theirs.put(f"{A}/me/notifications", json={"muted": ["booking.reminder"]}).status_code == 200
    staff = f"{A}/admin/customers"
    assert manager.patch(f"{staff}/{mine.customer.id}", json={"tags": ["VIP"], "note": "prefers mornings"}).status_code == 200
    assert manager.patch(f"{staff}/{theirs.customer.id}", json={"tags": ["VIP", "团体"], "note": "<b>allergic</b>"}).status_code == 200
    assert manager.post(f"{staff}/{theirs.customer.id}/points", json={"delta": 30, "reason": "welcome"}).status_code == 201
    assert manager.post(f"{staff}/{theirs.customer.id}/credits", json={"delta": 5, "reason": "package sold at the desk"}).status_code == 201
    assert manager.post(f"{staff}/{theirs.customer.id}/bans", json={"days": 3, "reason": "broke a chair"}).status_code == 201
    return mine, theirs


# --- what moves ----------------------------------------------------------------------------


def test_a_merge_moves_bookings_points_credits_and_bans_to_the_survivor(manager, two_records):
    mine, theirs = two_records

    page = merged(merge(manager, mine.customer.id, theirs.customer.id))

    assert page["id"] == mine.customer.id
    assert page["bookings"]["count"] == 2
    assert page["points"]["balance"] == 30
    assert page["credits"]["balance"] == 5
    assert [(ban["subject_kind"], ban["subject"], ban["reason"]) for ban in page["bans"]] == [("customer", str(mine.customer.id), "broke a chair")]


def test_companions_with_one_id_number_become_one_keeping_the_survivors_and_filling_its_gaps(manager, two_records):
    mine, theirs = two_records

    page = merged(merge(manager, mine.customer.id, theirs.customer.id))

    by_id = {c["id_number"]: c for c in page["companions"]}
    assert len(page["companions"]) == 2 and by_id.keys() == {TWIN_ID, OTHER_ID}
    assert (by_id[TWIN_ID]["name"], by_id[TWIN_ID]["relation"], by_id[TWIN_ID]["phone"]) == ("Li Xiaoming", "son", phone(9))
    assert sorted(c["id_number"] for c in mine.get(f"{A}/me/companions").get_json()["companions"]) == sorted([TWIN_ID, OTHER_ID])


def test_tags_are_united_and_notes_joined_as_given(manager, two_records):
    mine, theirs = two_records

    page = merged(merge(manager, mine.customer.id, theirs.customer.id))

    assert page["tags"] == ["VIP", "团体"]
    assert page["note"] == "prefers mornings\n\n<b>allergic</b>"


def test_the_other_record_is_gone_and_nothing_of_it_is_left_or_counted_twice(session, manager, two_records, tenants):
    mine, theirs = two_records
    before = live_customers(session)

    merged(merge(manager, mine.customer.id, theirs.customer.id))

    assert live_customers(session) == before - 1
    assert manager.get(f"{A}/admin/customers/{theirs.customer.id}").status_code == 404
    rows = manager.get(f"{A}/admin/customers").get_json()["customers"]
    assert [(row["id"], row["bookings"], row["points"]) for row in rows] == [(mine.customer.id, 2, 30)]
    with tenant_scope(tenants["tenant-a"].id):
        left = session.get(Customer, theirs.customer.id, populate_existing=True)
    assert (left.phone, left.name, left.wechat_openid, left.tags, left.note, left.merged_into_id) == (None, None, None, [], None, mine.customer.id)


def test_a_record_merged_away_cannot_be_acted_on_or_merged_again(manager, two_records, problem):
    mine, theirs = two_records
    merged(merge(manager, mine.customer.id, theirs.customer.id))

    problem(manager.post(f"{A}/admin/customers/{theirs.customer.id}/points", json={"delta": 1, "reason": "x"}), 404, "customer_not_found")
    problem(merge(manager, mine.customer.id, theirs.customer.id), 404, "customer_not_found")
    problem(merge(manager, theirs.customer.id, mine.customer.id), 404, "customer_not_found")


def test_records_merged_earlier_point_at_the_final_survivor(session, manager, customer, tenants):
    first, second, third = customer(1), customer(2), customer(3)
    merged(merge(manager, second.customer.id, first.customer.id))

    merged(merge(manager, third.customer.id, second.customer.id))

    session.commit()
    with tenant_scope(tenants["tenant-a"].id):
        assert session.get(Customer, first.customer.id, populate_existing=True).merged_into_id == third.customer.id


def test_the_others_notification_choices_are_kept_by_the_survivor(manager, two_records):
    mine, theirs = two_records

    merged(merge(manager, mine.customer.id, theirs.customer.id))

    assert mine.get(f"{A}/me/notifications").get_json()["muted"] == ["booking.reminder"]


def test_the_other_records_logins_end_and_the_survivors_go_on(manager, customer):
    mine, theirs = customer(1), customer(2)

    merged(merge(manager, mine.customer.id, theirs.customer.id))

    assert theirs.get(f"{A}/me/profile").status_code == 401
    assert theirs.post(f"{A}/auth/refresh", json={"refresh_token": theirs.refresh_token}).status_code == 401
    assert mine.get(f"{A}/me/profile").status_code == 200
    assert mine.post(f"{A}/auth/refresh", json={"refresh_token": mine.refresh_token}).status_code == 200


def test_a_ban_on_the_other_record_now_stops_the_survivor(manager, two_records, problem):
    mine, theirs = two_records

    merged(merge(manager, mine.customer.id, theirs.customer.id))

    problem(mine.post(f"{A}/auth/refresh", json={"refresh_token": mine.refresh_token}), 403, "banned")


def test_an_unsubscribe_link_sent_to_the_other_record_mutes_the_survivor(app, session, manager, customer, tenants):
    mine, theirs = customer(1), customer(2)
    link = f"/t/tenant-a/unsubscribe/{unsubscribe_token(app.config['SECRET_KEY'], 'tenant-a', theirs.customer.id, 'booking.reminder')}"
    merged(merge(manager, mine.customer.id, theirs.customer.id))

    assert app.test_client().post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200

    assert mine.get(f"{A}/me/notifications").get_json()["muted"] == ["booking.reminder"]


# --- login identity ------------------------------------------------------------------------


@pytest.fixture
def wechat_only(session, tenants):
    """A customer who came through the mini-program: a WeChat openid and a name, no phone."""
    with tenant_scope(tenants["tenant-a"].id), write_transaction(session):
        row = Customer(wechat_openid="o-wx-li", name="Li (WeChat)")
        session.add(row)
    return row


def test_a_survivor_without_a_phone_takes_the_others_and_a_login_with_it_reaches_the_survivor(session, manager, customer, entry, wechat_only, tenants):
    theirs = customer(2)
    book(theirs, 9)

    page = merged(merge(manager, wechat_only.id, theirs.customer.id))

    assert (page["phone"], page["name"], page["bookings"]["count"]) == (phone(2), "Li (WeChat)", 1)
    with tenant_scope(tenants["tenant-a"].id):
        assert customer_for_phone(session, phone(2)).id == wechat_only.id


def test_a_survivor_with_a_phone_keeps_it_and_the_others_phone_is_free_again(session, manager, customer, entry, tenants):
    mine, theirs = customer(1), customer(2)

    page = merged(merge(manager, mine.customer.id, theirs.customer.id))

    assert page["phone"] == phone(1)
    with tenant_scope(tenants["tenant-a"].id):
        assert customer_for_phone(session, phone(2)).id not in (mine.customer.id, theirs.customer.id)


def test_the_survivor_takes_a_wechat_openid_it_lacks(session, manager, customer, wechat_only, tenants):
    mine = customer(1)

    merged(merge(manager, mine.customer.id, wechat_only.id))

    session.commit()
    with tenant_scope(tenants["tenant-a"].id):
        assert session.get(Customer, mine.customer.id, populate_existing=True).wechat_openid == "o-wx-li"


# --- policies count the merged history ---------------------------------------------------------


def test_a_quota_counts_the_bookings_of_both_records_after_the_merge(manager, customer, entry, problem):
    mine, theirs = customer(1), customer(2)
    book(mine, 9)
    book(theirs, 10)

    merged(merge(manager, mine.customer.id, theirs.customer.id))

    refused = problem(
        mine.post(f"{A}/bookings", json={"booking_type": "entry", "starts_at": at(10).isoformat(), "answers": {"name": "Li Lei"}}), 409, "quota_exceeded"
    )
    assert refused["errors"]


def test_without_the_merge_the_same_booking_is_accepted(customer, entry):
    """The quota test's control: one record with one booking may book again."""
    mine, theirs = customer(1), customer(2)
    book(mine, 9)
    book(theirs, 10)

    book(mine, 10)


def test_no_shows_of_the_other_record_count_on_the_survivors_page(session, manager, customer, entry, clock, tenant_of):
    mine, theirs = customer(1), customer(2)
    missed = book(theirs, 9)
    clock(at(9, 30))
    booking_operations.mark_no_show(session, tenant_of("tenant-a"), missed["id"])

    page = merged(merge(manager, mine.customer.id, theirs.customer.id))

    assert page["no_shows"]["count"] == 1 and [b["id"] for b in page["no_shows"]["bookings"]] == [missed["id"]]


# --- audit and event -----------------------------------------------------------------------


def test_a_merge_is_audited_and_announced_with_both_ids_and_no_personal_value(session, manager, two_records, tenants):
    mine, theirs = two_records

    merged(merge(manager, mine.customer.id, theirs.customer.id, reason="two phones"))

    session.commit()
    with tenant_scope(tenants["tenant-a"].id):
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "customer.merged")).one()
        event = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "customer.merged")).one()
    assert record.data == event.payload
    assert (event.payload["customer"], event.payload["merged"], event.payload["reason"]) == (mine.customer.id, theirs.customer.id, "two phones")
    assert event.payload["moved"]["bookings"] == 1 and event.payload["moved"]["companions"] == 2 and event.payload["moved"]["bans"] == 1
    assert (event.payload["taken"], event.payload["dropped"]) == ([], ["phone"])
    text = str(event.payload)
    assert phone(2) not in text and TWIN_ID not in text and "allergic" not in text


# --- refusals ------------------------------------------------------------------------------


def test_a_customer_cannot_be_merged_into_itself(manager, customer, problem):
    mine = customer(1)

    body = problem(merge(manager, mine.customer.id, mine.customer.id), 422, "validation_failed")

    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [("/from", "merge_into_itself")]


def test_a_missing_other_record_is_a_404_at_from(manager, customer, problem):
    body = problem(merge(manager, customer(1).customer.id, 999_999), 404, "customer_not_found")

    assert [e["pointer"] for e in body["errors"]] == ["/from"]


def test_a_missing_survivor_is_a_404(manager, customer, problem):
    problem(merge(manager, 999_999, customer(1).customer.id), 404, "customer_not_found")


def test_a_record_of_another_tenant_cannot_be_merged_and_stays(session, manager, customer, tenants, problem):
    mine = customer(1)
    with tenant_scope(tenants["tenant-b"].id):
        elsewhere = customer_for_phone(session, phone(1))

    body = problem(merge(manager, mine.customer.id, elsewhere.id), 404, "customer_not_found")

    assert [e["pointer"] for e in body["errors"]] == ["/from"]
    with tenant_scope(tenants["tenant-b"].id):
        assert customer_for_phone(session, phone(1)).id == elsewhere.id


def test_another_tenants_manager_cannot_merge_this_tenants_customers(manager_b, customer, problem):
    mine, theirs = customer(1), customer(2)

    answer = manager_b.post(f"/api/v1/t/tenant-b/admin/customers/{mine.customer.id}/merge", json={"from": theirs.customer.id, "reason": "x"})

    problem(answer, 404, "customer_not_found")


def test_plain_staff_may_not_merge(front_desk, customer, problem):
    problem(merge(front_desk, customer(1).customer.id, customer(2).customer.id), 403)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"reason": "x"}, "/from"),
        ({"from": 2}, "/reason"),
        ({"from": "2", "reason": "x"}, "/from"),
        ({"from": 0, "reason": "x"}, "/from"),
        ({"from": 2**31, "reason": "x"}, "/from"),
        ({"from": 2, "reason": ""}, "/reason"),
        ({"from": 2, "reason": "x" * 201}, "/reason"),
        ({"from": 2, "reason": "x", "into": 3}, "/into"),
    ],
)
def test_a_body_that_is_not_a_merge_is_a_422_at_its_pointer(manager, customer, problem, body, pointer):
    body = problem(manager.post(f"{A}/admin/customers/{customer(1).customer.id}/merge", json=body), 422)

    assert pointer in [e["pointer"] for e in body["errors"]]


def test_tags_that_together_exceed_the_limit_refuse_the_merge_and_change_nothing(manager, customer, problem):
    mine, theirs = customer(1), customer(2)
    manager.patch(f"{A}/admin/customers/{mine.customer.id}", json={"tags": [f"a{n}" for n in range(15)]})
    manager.patch(f"{A}/admin/customers/{theirs.customer.id}", json={"tags": [f"b{n}" for n in range(15)]})

    problem(merge(manager, mine.customer.id, theirs.customer.id), 409, "merged_tags_too_many")

    assert manager.get(f"{A}/admin/customers/{theirs.customer.id}").status_code == 200


def test_notes_that_together_exceed_the_limit_refuse_the_merge(manager, customer, problem):
    mine, theirs = customer(1), customer(2)
    manager.patch(f"{A}/admin/customers/{mine.customer.id}", json={"note": "m" * 1500})
    manager.patch(f"{A}/admin/customers/{theirs.customer.id}", json={"note": "t" * 1500})

    problem(merge(manager, mine.customer.id, theirs.customer.id), 409, "merged_note_too_long")


def test_the_answer_is_in_the_readers_language(manager, customer):
    mine = customer(1)

    answer = manager.post(
        f"{A}/admin/customers/{mine.customer.id}/merge", json={"from": mine.customer.id, "reason": "x"}, headers={"Accept-Language": "zh-Hans"}
    )

    assert answer.get_json()["errors"][0]["message"] == "同一人的另一条顾客记录的编号"


@pytest.mark.parametrize("role", [StaffRole.manager, StaffRole.owner])
def test_managers_and_owners_may_merge(staff_client, customer, role):
    client = staff_client("tenant-a", role)

    assert merge(client, customer(1).customer.id, customer(2).customer.id).status_code == 200


@pytest.mark.parametrize("erased_side", ["survivor", "other"])
def test_an_erased_record_neither_merges_nor_is_merged_into(manager, customer, problem, erased_side):
    survivor, other = customer(1), customer(2)
    erased = survivor if erased_side == "survivor" else other
    assert erased.post("/api/v1/t/tenant-a/me/erasure", json={"confirm": True}).status_code == 200

    body = problem(merge(manager, survivor.customer.id, other.customer.id), 409, "customer_erased")

    assert [e["pointer"] for e in body["errors"]] == (["/from"] if erased_side == "other" else [""])
