"""The merchant's customers over HTTP: search, each role's view of phones and ID numbers, points, bans, tags and a note, the export."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from merchant_setup import at
from openpyxl import load_workbook
from sqlalchemy import select
from tenant_setup import id_number, make_booking_type, windows

from yuyue.api.auth import customer_tokens
from yuyue.audit.models import AuditRecord
from yuyue.bookings import operations as booking_operations
from yuyue.customers.models import BanSubject
from yuyue.customers.operations import ban, customer_for_phone
from yuyue.db import tenant_scope
from yuyue.events.models import OutboxEvent
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

A = "/api/v1/t/tenant-a/admin/customers"
B = "/api/v1/t/tenant-b/admin/customers"
LI_PHONE, WANG_PHONE, ZHAO_PHONE = "13812345678", "13900001111", "13700002222"
LI_ID, CHILD_ID = id_number(date(1990, 5, 1)), id_number(date(2015, 3, 1))


@pytest.fixture
def museum(session, tenant_of):
    """tenant-a's ``museum``, on the exhibition vertical's real-name form: each person on a booking with an ID number."""
    declared = plugin_host().verticals["exhibition"]
    return make_booking_type(
        session,
        tenant_of("tenant-a"),
        "museum",
        form=declared.form_schema,
        ui=declared.ui_schema,
        rules=windows(("09:00", "10:00"), ("10:00", "11:00"), capacity=30),
    )


def book_visit(session, tenant, phone: str, name: str, visitor_id: str, hour: int = 9):
    answers = {"visitor_name": name, "id_card": visitor_id, "mobile": phone}
    booking = booking_operations.book(session, form_registry(), tenant, booking_type_slug="museum", starts_at=at(hour), phone=phone, name=name, answers=answers)
    return booking if booking.voucher_code else booking_operations.confirm(session, tenant, booking.public_id)


@pytest.fixture
def customers(session, tenant_of, museum):
    """Li (a museum visit with his ID number, and a child as a saved companion), Wang and Zhao (no bookings), by name."""
    tenant = tenant_of("tenant-a")
    book_visit(session, tenant, LI_PHONE, "Li Lei", LI_ID)
    with tenant_scope(tenant.id):
        wang = customer_for_phone(session, WANG_PHONE, "Wang Fang")
        zhao = customer_for_phone(session, ZHAO_PHONE, "Zhao Min")
        li = customer_for_phone(session, LI_PHONE)
    return {"li": li, "wang": wang, "zhao": zhao}


@pytest.fixture
def li_with_companion(session, customers, app):
    """Li's child saved as his companion, through the customer API."""
    with app.test_request_context():
        token = customer_tokens(customers["li"])["access_token"]
    response = app.test_client().post(
        "/api/v1/t/tenant-a/me/companions", json={"name": "Li Xiaoming", "id_number": CHILD_ID}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return customers


@pytest.fixture
def owner(tenants, staff_client):
    return staff_client("tenant-a", StaffRole.owner)


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [row["name"] for row in response.get_json()["customers"]]


# --- search ------------------------------------------------------------------------------


def test_search_without_text_lists_every_customer_newest_first(manager, customers):
    assert names(manager.get(A)) == ["Zhao Min", "Wang Fang", "Li Lei"]


def test_search_finds_a_customer_by_part_of_the_name_in_any_case(manager, customers):
    assert names(manager.get(f"{A}?q=wang")) == ["Wang Fang"]


def test_search_finds_customers_by_digits_of_the_phone(manager, customers):
    assert names(manager.get(f"{A}?q=0000")) == ["Zhao Min", "Wang Fang"]
    assert names(manager.get(f"{A}?q=138%201234%205678")) == ["Li Lei"]
    assert names(manager.get(f"{A}?q=%2B8613812345678")) == ["Li Lei"]


def test_search_finds_a_customer_by_the_id_number_of_someone_on_their_bookings(manager, customers):
    assert names(manager.get(f"{A}?q={LI_ID}")) == ["Li Lei"]


def test_search_finds_a_customer_by_the_id_number_of_a_saved_companion(manager, li_with_companion):
    assert names(manager.get(f"{A}?q={CHILD_ID}")) == ["Li Lei"]
    assert names(manager.get(f"{A}?q={CHILD_ID[:-1]}")) == []  # an ID number matches only whole


def test_search_filters_by_tag_exactly(manager, customers):
    manager.patch(f"{A}/{customers['wang'].id}", json={"tags": ["VIP", "团体"]})
    manager.patch(f"{A}/{customers['zhao'].id}", json={"tags": ["VIP-candidate"]})

    assert names(manager.get(f"{A}?tag=VIP")) == ["Wang Fang"]
    assert names(manager.get(f"{A}?tag=团体")) == ["Wang Fang"]
    assert names(manager.get(f"{A}?tag=VIP&q=zhao")) == []


def test_search_pages_through_customers_with_a_cursor(manager, customers):
    first = manager.get(f"{A}?limit=2").get_json()
    second = manager.get(f"{A}?limit=2&cursor={first['next_cursor']}").get_json()

    assert [c["name"] for c in first["customers"]] == ["Zhao Min", "Wang Fang"]
    assert [c["name"] for c in second["customers"]] == ["Li Lei"] and second["next_cursor"] is None


def test_a_row_holds_bookings_points_and_whether_a_ban_holds(manager, customers):
    li = customers["li"].id
    manager.post(f"{A}/{li}/points", json={"delta": -3, "reason": "broke a chair"})
    manager.post(f"{A}/{li}/bans", json={"days": 7, "reason": "broke a chair"})

    row = next(row for row in manager.get(A).get_json()["customers"] if row["id"] == li)

    assert {key: row[key] for key in ("phone", "tags", "bookings", "points", "banned")} == {
        "phone": LI_PHONE,
        "tags": [],
        "bookings": 1,
        "points": -3,
        "banned": True,
    }
    assert not any(row["banned"] for row in manager.get(A).get_json()["customers"] if row["id"] != li)


# --- masking by role ---------------------------------------------------------------------


@pytest.mark.parametrize("role", [StaffRole.owner, StaffRole.manager])
def test_owners_and_managers_see_phones_and_id_numbers_in_full(staff_client, li_with_companion, role):
    reader = staff_client("tenant-a", role)
    li = li_with_companion["li"].id

    row = reader.get(f"{A}?q=Li").get_json()["customers"][0]
    page = reader.get(f"{A}/{li}").get_json()

    assert row["phone"] == page["phone"] == LI_PHONE
    assert page["companions"][0]["id_number"] == CHILD_ID
    assert page["companions"][0]["birth_date"] == "2015-03-01"


def test_other_staff_see_phones_and_id_numbers_masked(front_desk, manager, li_with_companion):
    li = li_with_companion["li"].id
    assert manager.post(f"{A}/{li}/bans", json={"days": 1, "reason": "late"}).status_code == 201

    row = front_desk.get(f"{A}?q=Li").get_json()["customers"][0]
    page = front_desk.get(f"{A}/{li}")
    body = page.get_json()

    assert row["phone"] == body["phone"] == "138****5678"
    assert body["companions"][0]["id_number"] == "*" * 14 + CHILD_ID[-4:]
    assert body["companions"][0]["birth_date"] is None  # digits the mask hides
    assert LI_PHONE not in page.get_data(as_text=True) and CHILD_ID not in page.get_data(as_text=True)


def test_masked_staff_still_find_a_customer_by_the_whole_phone_or_id_number(front_desk, li_with_companion):
    assert names(front_desk.get(f"{A}?q={LI_PHONE}")) == ["Li Lei"]
    assert names(front_desk.get(f"{A}?q={CHILD_ID}")) == ["Li Lei"]
    assert names(front_desk.get(f"{A}?q=5678")) == ["Li Lei"]  # the last four are shown anyway


def test_masked_staff_cannot_uncover_hidden_phone_digits_by_searching_for_them(front_desk, manager, customers):
    assert names(manager.get(f"{A}?q=81234")) == ["Li Lei"]
    assert names(front_desk.get(f"{A}?q=81234")) == []


def test_bans_on_an_id_number_are_shown_masked_to_other_staff(session, tenant_of, front_desk, owner, customers):
    with tenant_scope(tenant_of("tenant-a").id):
        ban(session, BanSubject.id_number, LI_ID, 30, "3 no-shows within 30 days", utcnow())

    shown = front_desk.get(f"{A}/{customers['li'].id}").get_json()["bans"]
    in_full = owner.get(f"{A}/{customers['li'].id}").get_json()["bans"]

    assert [(b["subject_kind"], b["subject"], b["active"]) for b in shown] == [("id_number", "*" * 14 + LI_ID[-4:], True)]
    assert in_full[0]["subject"] == LI_ID


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/points", {"delta": 5, "reason": "gift"}),
        ("post", "/bans", {"days": 1, "reason": "rude"}),
        ("post", "/bans/1/lift", {"reason": "sorry"}),
        ("patch", "", {"note": "likes Mondays"}),
    ],
)
def test_other_staff_may_read_but_not_act(front_desk, customers, problem, method, path, body):
    li = customers["li"].id

    problem(getattr(front_desk, method)(f"{A}/{li}{path}", json=body), 403, "forbidden")
    assert front_desk.get(f"{A}/{li}").status_code == 200


# --- a customer's page and what staff do -------------------------------------------------


def test_the_page_shows_bookings_no_shows_points_companions_and_credits(session, tenant_of, manager, clock, li_with_companion):
    tenant = tenant_of("tenant-a")
    visit = book_visit(session, tenant, LI_PHONE, "Li Lei", LI_ID, hour=10)
    clock(at(10, 30))
    booking_operations.mark_no_show(session, tenant, visit.public_id)

    page = manager.get(f"{A}/{li_with_companion['li'].id}").get_json()

    assert page["bookings"]["count"] == 2
    assert [b["starts_at"] for b in page["bookings"]["recent"]] == [at(10).isoformat(), at(9).isoformat()]
    assert page["no_shows"] == {"count": 1, "bookings": [page["bookings"]["recent"][0]]}
    assert page["no_shows"]["bookings"][0]["status"] == "no_show"
    assert [c["name"] for c in page["companions"]] == ["Li Xiaoming"]
    assert page["credits"]["balance"] == 0 and "customer" not in page["credits"]
    assert page["points"] == {"balance": 0, "history": []} and page["bans"] == [] and page["note"] is None


def test_points_adjustment_is_a_ledger_line_with_its_reason_audited_and_announced(session, tenant_of, manager, customers):
    li = customers["li"].id

    first = manager.post(f"{A}/{li}/points", json={"delta": 10, "reason": "birthday gift"})
    second = manager.post(f"{A}/{li}/points", json={"delta": -4, "reason": "broke a locker"})

    assert first.status_code == second.status_code == 201
    points = second.get_json()["points"]
    assert points["balance"] == 6
    assert [(line["delta"], line["reason"]) for line in points["history"]] == [(-4, "broke a locker"), (10, "birthday gift")]
    with tenant_scope(tenant_of("tenant-a").id):
        audited = session.scalars(select(AuditRecord).where(AuditRecord.action == "customer.points_adjusted").order_by(AuditRecord.id)).all()
        announced = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "customer.points_adjusted")).all()
    assert [(r.subject_id, r.data["delta"], r.data["reason"]) for r in audited] == [(str(li), 10, "birthday gift"), (str(li), -4, "broke a locker")]
    assert len(announced) == 2 and audited[0].actor.startswith("staff:")


def test_an_imposed_ban_refuses_the_customers_booking_and_a_lifted_one_lets_them_book_again(museum, manager, signed_in_customer, problem):
    ann = signed_in_customer(1)
    answers = {"visitor_name": "Ann", "id_card": id_number(date(1988, 8, 8)), "mobile": "13800000001"}
    request = {"booking_type": "museum", "starts_at": at(9).isoformat(), "answers": answers}

    banned = manager.post(f"{A}/{ann.customer.id}/bans", json={"days": 30, "reason": "abusive calls"})
    assert banned.status_code == 201, banned.get_data(as_text=True)
    ban = banned.get_json()["bans"][0]
    assert (ban["subject_kind"], ban["active"], ban["reason"]) == ("customer", True, "abusive calls")
    problem(ann.post("/api/v1/t/tenant-a/bookings", json=request), 409, "banned")

    lifted = manager.post(f"{A}/{ann.customer.id}/bans/{ban['id']}/lift", json={"reason": "apologised"})

    assert lifted.status_code == 200, lifted.get_data(as_text=True)
    assert lifted.get_json()["bans"][0]["active"] is False
    assert ann.post("/api/v1/t/tenant-a/bookings", json=request).status_code == 201


def test_a_ban_may_end_at_a_given_moment(manager, customers):
    until = (utcnow() + timedelta(days=3)).replace(microsecond=0).astimezone(at(9).tzinfo)

    response = manager.post(f"{A}/{customers['li'].id}/bans", json={"until": until.isoformat(), "reason": "cooling off"})

    assert response.status_code == 201
    assert response.get_json()["bans"][0]["ends_at"] == until.isoformat()


def test_lifting_is_audited_with_its_reason(session, tenant_of, manager, customers):
    li = customers["li"].id
    ban = manager.post(f"{A}/{li}/bans", json={"days": 2, "reason": "rude"}).get_json()["bans"][0]

    manager.post(f"{A}/{li}/bans/{ban['id']}/lift", json={"reason": "a misunderstanding"})

    with tenant_scope(tenant_of("tenant-a").id):
        record = session.scalar(select(AuditRecord).where(AuditRecord.action == "customer.ban_lifted"))
    assert (record.data["ban"], record.data["reason"]) == (ban["id"], "a misunderstanding")


def test_a_ban_that_has_ended_cannot_be_lifted_again(manager, customers, problem):
    li = customers["li"].id
    ban = manager.post(f"{A}/{li}/bans", json={"days": 2, "reason": "rude"}).get_json()["bans"][0]
    manager.post(f"{A}/{li}/bans/{ban['id']}/lift", json={"reason": "forgiven"})

    problem(manager.post(f"{A}/{li}/bans/{ban['id']}/lift", json={"reason": "again"}), 409, "ban_not_in_force")


def test_a_ban_of_another_customer_is_not_found_under_this_one(manager, customers, problem):
    ban = manager.post(f"{A}/{customers['wang'].id}/bans", json={"days": 2, "reason": "rude"}).get_json()["bans"][0]

    problem(manager.post(f"{A}/{customers['li'].id}/bans/{ban['id']}/lift", json={"reason": "wrong one"}), 404, "ban_not_found")


def test_tags_and_note_are_replaced_and_cleared(manager, customers):
    li = customers["li"].id

    tagged = manager.patch(f"{A}/{li}", json={"tags": ["VIP", " VIP ", "wheelchair"], "note": "prefers the east gate"}).get_json()
    retagged = manager.patch(f"{A}/{li}", json={"tags": ["regular"]}).get_json()
    cleared = manager.patch(f"{A}/{li}", json={"tags": [], "note": None}).get_json()

    assert (tagged["tags"], tagged["note"]) == (["VIP", "wheelchair"], "prefers the east gate")
    assert (retagged["tags"], retagged["note"]) == (["regular"], "prefers the east gate")
    assert (cleared["tags"], cleared["note"]) == ([], None)


def test_hostile_text_is_stored_as_given_and_json_escaped(manager, customers):
    li = customers["li"].id
    note = '</script><script>alert("x")</script>\n\'; DROP TABLE customers; --'
    tag = "<img src=x onerror=alert(1)>"

    response = manager.patch(f"{A}/{li}", json={"tags": [tag], "note": note})

    assert response.status_code == 200
    assert (response.get_json()["note"], response.get_json()["tags"]) == (note, [tag])
    assert json.dumps(note)[1:-1] in response.get_data(as_text=True)  # quotes and the newline escaped
    again = manager.get(f"{A}/{li}").get_json()
    assert (again["note"], again["tags"]) == (note, [tag])


# --- export --------------------------------------------------------------------------------


def test_xlsx_export_holds_the_rows_a_search_finds(manager, customers):
    manager.patch(f"{A}/{customers['wang'].id}", json={"tags": ["VIP", "=cmd|' /C calc'!A0"]})

    response = manager.get(f"{A}/export?format=xlsx&q=Wang")

    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="customers-tenant-a-')
    rows = list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))
    assert rows[0] == ("编号", "姓名", "手机号", "标签", "预约数", "积分", "禁约中", "注册时间")
    assert rows[1][:7] == (customers["wang"].id, "Wang Fang", WANG_PHONE, "VIP, =cmd|' /C calc'!A0", 0, 0, "否")
    assert len(rows) == 2


def test_csv_export_is_masked_for_other_staff_and_defuses_formulas(front_desk, manager, customers):
    manager.patch(f"{A}/{customers['zhao'].id}", json={"tags": ["=1+2"]})

    response = front_desk.get(f"{A}/export?format=csv")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, *rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert header[:3] == ["编号", "姓名", "手机号"]
    assert [(row[1], row[2]) for row in rows] == [("Zhao Min", "137****2222"), ("Wang Fang", "139****1111"), ("Li Lei", "138****5678")]
    assert rows[0][3] == "'=1+2"


def test_export_refuses_an_unknown_format(manager, customers, problem):
    body = problem(manager.get(f"{A}/export?format=pdf"), 422, "validation_failed")

    assert [e["pointer"] for e in body["errors"]] == ["/format"]


# --- validation and isolation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, body, pointers",
    [
        ("post", "/points", {"delta": 0, "reason": "nothing"}, ["/delta"]),
        ("post", "/points", {"delta": 100_001, "reason": ""}, ["/delta", "/reason"]),
        ("post", "/points", {"delta": 5}, ["/reason"]),
        ("post", "/bans", {"days": 0, "reason": "x"}, ["/days"]),
        ("post", "/bans", {"until": "tomorrow", "reason": "x"}, ["/until"]),
        ("patch", "", {"tags": ["x" * 31]}, ["/tags/0"]),
        ("patch", "", {"tags": ['say "hi"']}, ["/tags/0"]),
        ("patch", "", {"tags": [str(n) for n in range(21)]}, ["/tags"]),
        ("patch", "", {"note": "x" * 2001}, ["/note"]),
        ("patch", "", {"name": "New name"}, ["/name"]),
    ],
)
def test_invalid_bodies_are_refused_with_a_pointer_at_each_field(manager, customers, problem, method, path, body, pointers):
    response = getattr(manager, method)(f"{A}/{customers['li'].id}{path}", json=body)

    found = problem(response, 422, "validation_failed")
    assert sorted({e["pointer"] for e in found["errors"]}) == pointers


def test_a_ban_with_both_an_end_and_a_length_is_refused(manager, customers, problem):
    until = (utcnow() + timedelta(days=1)).isoformat()

    problem(manager.post(f"{A}/{customers['li'].id}/bans", json={"until": until, "days": 1, "reason": "x"}), 422, "validation_failed")


def test_a_ban_ending_in_the_past_is_refused(manager, customers, problem):
    until = (utcnow() - timedelta(days=1)).isoformat()

    body = problem(manager.post(f"{A}/{customers['li'].id}/bans", json={"until": until, "reason": "x"}), 422, "validation_failed")
    assert [e["pointer"] for e in body["errors"]] == ["/until"]


@pytest.mark.parametrize("query, pointer", [("limit=0", "/limit"), ("cursor=nonsense", "/cursor"), ("sort=name", "/sort"), ("q=" + "x" * 101, "/q")])
def test_invalid_search_parameters_are_refused_with_a_pointer(manager, customers, problem, query, pointer):
    body = problem(manager.get(f"{A}?{query}"), 422, "validation_failed")

    assert [e["pointer"] for e in body["errors"]] == [pointer]


def test_another_tenants_customer_is_not_found(session, tenant_of, manager, manager_b, customers, problem):
    with tenant_scope(tenant_of("tenant-b").id):
        bee = customer_for_phone(session, "13600000000", "Bee")

    problem(manager.get(f"{A}/{bee.id}"), 404, "customer_not_found")
    problem(manager.post(f"{A}/{bee.id}/points", json={"delta": 1, "reason": "x"}), 404, "customer_not_found")
    problem(manager_b.get(f"{B}/{customers['li'].id}"), 404, "customer_not_found")
    assert names(manager.get(f"{A}?q=Bee")) == []
