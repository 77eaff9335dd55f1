"""The customer's own account through the API: profile, editing a companion, points, bans, and the download of their data.

Each route refuses bad input field by field, answers a missing or another tenant's token with 401,
and shows a customer their own rows only: another customer's companion is as absent as a missing one.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from bad_inputs import bad_inputs, case
from customer_api_setup import NAME, ZONE, id_number, iso, phone, pointers, windows
from sqlalchemy import select
from tenant_setup import make_booking_type

import yuyue_schemas
from yuyue.api.schemas.customer import PREFIX
from yuyue.api.schemas.customer.account import OPENAPI_PATHS as ACCOUNT_PATHS
from yuyue.api.schemas.customer.account import PROFILE_CHANGE
from yuyue.api.schemas.customer.me import COMPANION_CHANGE
from yuyue.api.schemas.customer.me import OPENAPI_PATHS as ME_PATHS
from yuyue.bookings.models import Booking, CheckIn
from yuyue.credits.operations import create_package
from yuyue.customers.models import BanSubject
from yuyue.customers.operations import add_points, ban
from yuyue.db import tenant_scope, write_transaction
from yuyue.payments.builtin import sandbox_notification
from yuyue.payments.operations import set_payment_provider
from yuyue.provisioning.operations import get_tenant
from yuyue.types import utcnow

A = "/api/v1/t/tenant-a"
B = "/api/v1/t/tenant-b"
HOSTILE = "<script>alert('x')</script> & \"Li\""
SANDBOX_SECRET = "sandbox-secret-of-the-account-tests"


def companion_id_number(serial: int, born: date = date(2012, 3, 4)) -> str:
    return id_number(born, serial)


def described(body: Any, path: str, method: str, status: int = 200, paths: dict = ACCOUNT_PATHS) -> None:
    """The answer matches the schema the OpenAPI document gives it, with no key it leaves out."""
    schema = paths[f"{PREFIX}{path}"][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    assert yuyue_schemas.problems_against(schema, body) == []
    assert body.keys() <= schema["properties"].keys(), body.keys() - schema["properties"].keys()


def in_tenant(session, slug: str = "tenant-a"):
    return tenant_scope(get_tenant(session, slug).id)


# --- profile --------------------------------------------------------------------------------------


def test_the_profile_shows_the_phone_the_customer_logs_in_with(alice):
    profile = alice.get(f"{A}/me/profile")

    assert profile.status_code == 200
    assert (profile.get_json()["phone"], profile.get_json()["name"], profile.get_json()["wechat_linked"]) == (phone(1), None, False)
    described(profile.get_json(), "/me/profile", "get")


def test_the_name_is_stored_as_given_and_shown_back(alice):
    changed = alice.put(f"{A}/me/profile", json={"name": HOSTILE})

    assert changed.status_code == 200 and changed.get_json()["name"] == HOSTILE
    assert alice.get(f"{A}/me/profile").get_json()["name"] == HOSTILE
    described(changed.get_json(), "/me/profile", "put")


PROFILE_CASES = [*bad_inputs(PROFILE_CHANGE, {"name": "Li Lei"}), case("name: only spaces", {"name": "x"}, "/name", name="   ")]


@pytest.mark.parametrize("bad", PROFILE_CASES, ids=str)
def test_a_bad_profile_is_refused_at_its_field_and_changes_nothing(alice, problem, bad):
    alice.put(f"{A}/me/profile", json={"name": "Li Lei"})

    assert bad.pointer in pointers(problem(alice.put(f"{A}/me/profile", json=bad.body), 422, "validation_failed"))
    assert alice.get(f"{A}/me/profile").get_json()["name"] == "Li Lei"


def test_the_phone_is_not_changed_through_the_profile(alice, problem):
    body = problem(alice.put(f"{A}/me/profile", json={"name": "Li", "phone": phone(9)}), 422, "validation_failed")

    assert "/phone" in pointers(body)
    assert alice.get(f"{A}/me/profile").get_json()["phone"] == phone(1)


@pytest.mark.parametrize("route", ["/me/profile", "/me/points", "/me/bans", "/me/data"])
def test_the_account_routes_need_a_token_of_this_tenant(client, signed_in_customer, problem, route):
    other_tenants = signed_in_customer(1, tenant="tenant-b")

    problem(client.get(f"{A}{route}"), 401, "unauthorized")
    problem(other_tenants.get(f"{A}{route}"), 401, "invalid_token")
    problem(other_tenants.put(f"{A}/me/profile", json={"name": "Mallory"}), 401, "invalid_token")


# --- editing a companion --------------------------------------------------------------------------


@pytest.fixture
def companion(alice) -> dict:
    """Alice's companion Li Xiaoming, with a phone and a relation."""
    added = alice.post(f"{A}/me/companions", json={"name": "Li Xiaoming", "id_number": companion_id_number(1), "phone": phone(7), "relation": "son"})
    assert added.status_code == 201
    return added.get_json()


def test_a_companion_is_edited_in_place_with_its_id_number_shown_in_full(alice, companion):
    new_number = companion_id_number(2, born=date(2013, 7, 8))
    changed = alice.put(
        f"{A}/me/companions/{companion['id']}", json={"name": "Li Xiaohong", "id_number": new_number, "phone": phone(8), "relation": "daughter"}
    )

    assert changed.status_code == 200, changed.get_json()
    expected = {"id": companion["id"], "name": "Li Xiaohong", "id_number": new_number, "phone": phone(8), "relation": "daughter", "birth_date": "2013-07-08"}
    assert changed.get_json() == expected
    assert alice.get(f"{A}/me/companions").get_json()["companions"] == [expected]
    described(changed.get_json(), "/me/companions/{companion_id}", "put", paths=ME_PATHS)


def test_fields_left_out_of_an_edit_are_cleared(alice, companion):
    changed = alice.put(f"{A}/me/companions/{companion['id']}", json={"name": "Li Xiaoming", "id_number": companion["id_number"]})

    assert changed.status_code == 200
    assert (changed.get_json()["phone"], changed.get_json()["relation"]) == (None, None)


def test_a_hostile_companion_name_is_stored_as_given(alice, companion):
    changed = alice.put(f"{A}/me/companions/{companion['id']}", json={"name": HOSTILE, "id_number": companion["id_number"]})

    assert changed.get_json()["name"] == HOSTILE


VALID_COMPANION = {"name": "Li Xiaoming", "id_number": companion_id_number(1), "phone": phone(7), "relation": "son"}
COMPANION_CASES = [
    *bad_inputs(COMPANION_CHANGE, VALID_COMPANION),
    case(
        "id_number: wrong check character",
        VALID_COMPANION,
        "/id_number",
        id_number=VALID_COMPANION["id_number"][:-1] + ("1" if VALID_COMPANION["id_number"][-1] == "0" else "0"),
    ),
    case("id_number: not an ID number", VALID_COMPANION, "/id_number", id_number="ABC"),
    case("phone: not a phone number", VALID_COMPANION, "/phone", phone="12"),
    case("name: only spaces", VALID_COMPANION, "/name", name="   "),
    case("relation: only spaces", VALID_COMPANION, "/relation", relation="  "),
]


@pytest.mark.parametrize("bad", COMPANION_CASES, ids=str)
def test_a_bad_companion_edit_is_refused_at_its_field_and_changes_nothing(alice, companion, problem, bad):
    response = alice.put(f"{A}/me/companions/{companion['id']}", json=bad.body)

    assert bad.pointer in pointers(problem(response, 422, "validation_failed"))
    assert alice.get(f"{A}/me/companions").get_json()["companions"] == [companion]


def test_every_problem_of_an_edit_is_reported_at_once(alice, companion, problem):
    response = alice.put(f"{A}/me/companions/{companion['id']}", json={"name": " ", "id_number": "110105", "phone": "x"})

    assert pointers(problem(response, 422, "validation_failed")) == {"/name", "/id_number", "/phone"}


def test_an_id_number_another_companion_has_is_a_conflict(alice, companion, problem):
    other = alice.post(f"{A}/me/companions", json={"name": "Li Xiaohong", "id_number": companion_id_number(3)}).get_json()

    response = alice.put(f"{A}/me/companions/{companion['id']}", json={"name": "Li Xiaoming", "id_number": other["id_number"]})

    assert pointers(problem(response, 409, "companion_exists")) == {"/id_number"}
    assert alice.get(f"{A}/me/companions").get_json()["companions"] == [companion, other]


def test_another_customers_companion_is_not_found_and_unchanged(alice, bob, companion, problem):
    response = bob.put(f"{A}/me/companions/{companion['id']}", json={"name": "Mallory", "id_number": companion_id_number(4)})

    problem(response, 404, "companion_not_found")
    assert alice.get(f"{A}/me/companions").get_json()["companions"] == [companion]


def test_a_missing_companion_is_not_found(alice, problem):
    problem(alice.put(f"{A}/me/companions/2147483647", json=VALID_COMPANION), 404, "companion_not_found")


def test_another_tenants_companion_is_not_found_and_its_token_is_refused(alice, signed_in_customer, problem):
    elsewhere = signed_in_customer(1, tenant="tenant-b")
    theirs = elsewhere.post(f"{B}/me/companions", json=VALID_COMPANION).get_json()

    problem(alice.put(f"{A}/me/companions/{theirs['id']}", json={**VALID_COMPANION, "name": "Mallory"}), 404, "companion_not_found")
    problem(alice.put(f"{B}/me/companions/{theirs['id']}", json={**VALID_COMPANION, "name": "Mallory"}), 401, "invalid_token")
    assert elsewhere.get(f"{B}/me/companions").get_json()["companions"] == [theirs]


# --- points ---------------------------------------------------------------------------------------


def test_points_show_the_balance_and_the_ledger_newest_first_in_pages(session, alice, bob):
    with in_tenant(session):
        for delta, reason in ((10, "welcome"), (-3, "late_cancellation"), (5, "adjust")):
            add_points(session, alice.customer, delta, reason)
        add_points(session, bob.customer, 99, "bob's points")

    first = alice.get(f"{A}/me/points?limit=2").get_json()
    second = alice.get(f"{A}/me/points?limit=2&cursor={first['next_cursor']}").get_json()

    assert first["balance"] == second["balance"] == 12
    assert [(e["delta"], e["reason"]) for e in first["entries"]] == [(5, "adjust"), (-3, "late_cancellation")]
    assert [(e["delta"], e["reason"]) for e in second["entries"]] == [(10, "welcome")]
    assert second["next_cursor"] is None
    described(first, "/me/points", "get")


def test_a_points_line_names_its_booking(session, alice, entry, book):
    booked = book(alice)
    with in_tenant(session):
        row_id = session.scalar(select(Booking.id).where(Booking.public_id == booked["id"]))
        add_points(session, alice.customer, -5, "late_cancellation", booking_id=row_id)

    assert alice.get(f"{A}/me/points").get_json()["entries"][0]["booking"] == booked["id"]


@pytest.mark.parametrize(
    ("query", "pointer"), [("limit=0", "/limit"), ("limit=101", "/limit"), ("limit=ten", "/limit"), ("cursor=nonsense", "/cursor"), ("cursor=%00", "/cursor")]
)
def test_a_bad_page_of_points_is_refused_at_its_parameter(alice, problem, query, pointer):
    assert pointer in pointers(problem(alice.get(f"{A}/me/points?{query}"), 422, "validation_failed"))


# --- bans -----------------------------------------------------------------------------------------


def test_the_bans_on_the_customer_their_phone_and_their_id_numbers_are_listed_with_their_end(session, alice, bob, companion):
    now = utcnow()
    with in_tenant(session):
        ban(session, BanSubject.customer, alice.customer, 3, "three no-shows", now)
        ban(session, BanSubject.phone, phone(1), 10, "abuse at the desk", now)
        ban(session, BanSubject.id_number, companion["id_number"], 30, HOSTILE, now + timedelta(days=2))
        ban(session, BanSubject.customer, alice.customer, 1, "long over", now - timedelta(days=10))
        ban(session, BanSubject.customer, bob.customer, 5, "bob's ban", now)

    body = alice.get(f"{A}/me/bans").get_json()

    listed = [(b["subject_kind"], b["subject"], b["reason"], b["in_force"]) for b in body["bans"]]
    assert listed == [
        ("customer", None, "three no-shows", True),
        ("phone", phone(1), "abuse at the desk", True),
        ("id_number", companion["id_number"], HOSTILE, False),
    ]
    assert datetime.fromisoformat(body["bans"][1]["ends_at"]).astimezone(ZONE).date() == (now + timedelta(days=10)).astimezone(ZONE).date()
    described(body, "/me/bans", "get")


def test_a_customer_without_bans_has_none_listed(alice):
    assert alice.get(f"{A}/me/bans").get_json() == {"bans": []}


# --- the download of their data -------------------------------------------------------------------

PEOPLE_FORM = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "x-field": "text", "x-person": "name", "minLength": 1},
        "id_card": {"type": "string", "x-field": "id_card", "x-person": "id_number", "format": "cn-id-card"},
    },
    "required": ["name", "id_card"],
}
PEOPLE_UI = {"order": ["name", "id_card"], "fields": {}}


def stock(session, tenant) -> None:
    """What the tenant sells: a priced real-name visit (sandbox payments), a one-place class to wait for, and a free trial package."""
    set_payment_provider(session, tenant, "sandbox", config={"secret": SANDBOX_SECRET})
    make_booking_type(session, tenant, "paid", name=NAME, form=PEOPLE_FORM, ui=PEOPLE_UI, price_amount=2000, rules=windows(("09:00", "10:00")))
    make_booking_type(session, tenant, "small", name=NAME, rules=windows(("09:00", "10:00"), capacity=1))
    create_package(session, tenant, code="trial", name={"en": "Trial class"}, credits=1, actor="test")


def leave_a_trace_of_every_kind(session, client, marker: str, serial: int, *, tenant: str = "tenant-a") -> dict[str, str]:
    """Through the API (and, for points, bans and check-ins, the operations and a row), one row of every kind for ``client``'s customer.

    ``marker`` is in every text the customer chose, so a download can be searched for it.
    """
    base = f"/api/v1/t/{tenant}"
    person_id = companion_id_number(serial, born=date(1990, 1, 2))
    saved_id = companion_id_number(serial, born=date(2011, 2, 3))
    assert client.put(f"{base}/me/profile", json={"name": f"{marker} Profile"}).status_code == 200
    held = client.post(f"{base}/bookings", json={"booking_type": "paid", "starts_at": iso(9), "answers": {"name": f"{marker} Visitor", "id_card": person_id}})
    assert held.status_code == 201, held.get_json()
    booking = held.get_json()
    payment = client.post(f"{base}/bookings/{booking['id']}/pay").get_json()
    headers, body = sandbox_notification(SANDBOX_SECRET, "payment.succeeded", payment["reference"], amount=2000)
    assert client.post(f"{base}/payments/sandbox/notify", data=body, headers=headers).status_code == 200
    assert client.post(f"{base}/bookings/{booking['id']}/cancel", json={"reason": f"{marker} cancel reason"}).status_code == 200
    waited = client.post(f"{base}/waitlist", json={"booking_type": "small", "starts_at": iso(9), "answers": {"name": f"{marker} Waiter"}})
    assert waited.status_code == 201, waited.get_json()
    companion = client.post(f"{base}/me/companions", json={"name": f"{marker} Companion", "id_number": saved_id, "relation": "son"})
    assert companion.status_code == 201
    assert client.post(f"{base}/me/credits", json={"package": "trial"}).status_code == 201
    assert client.put(f"{base}/me/notifications", json={"email": f"{marker.lower()}@example.com"}).status_code == 200
    with in_tenant(session, tenant), write_transaction(session):
        row_id = session.scalar(select(Booking.id).where(Booking.public_id == booking["id"]))
        add_points(session, client.customer, -2, f"{marker} points")
        ban(session, BanSubject.id_number, saved_id, 7, f"{marker} ban", utcnow())
        session.add(CheckIn(booking_id=row_id, method="manual", place=f"{marker} gate"))
    return {
        "booking": booking["id"],
        "payment": payment["reference"],
        "person": person_id,
        "companion": saved_id,
        "email": f"{marker.lower()}@example.com",
    }


def take_the_small_class(client, base: str = A) -> None:
    """Someone takes the small class's only place, so the customers of a test wait for it."""
    taken = client.post(f"{base}/bookings", json={"booking_type": "small", "starts_at": iso(9), "answers": {"name": "Filler"}})
    assert taken.status_code == 201, taken.get_json()


@pytest.fixture
def shop(session, tenants, signed_in_customer) -> None:
    """Tenant A's stock, its small class taken by customer 9."""
    stock(session, tenants["tenant-a"])
    take_the_small_class(signed_in_customer(9))


def download(client, base: str = A) -> tuple[Any, dict]:
    response = client.get(f"{base}/me/data")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response, json.loads(response.get_data(as_text=True))


def test_the_download_is_an_attachment_named_for_the_tenant_and_the_day(alice):
    response, data = download(alice)

    today = utcnow().astimezone(ZONE).date().isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="yuyue-data-tenant-a-{today}.json"'
    assert response.headers["Cache-Control"] == "no-store" and response.mimetype == "application/json"
    assert data["format_version"] == 1 and data["generated_at"].startswith(today)
    assert data["login_identities"] == [{"kind": "phone", "value": phone(1)}]
    described(data, "/me/data", "get")


def test_the_download_holds_one_of_every_kind_of_row(session, alice, shop):
    trace = leave_a_trace_of_every_kind(session, alice, "Annmark", 11)

    _, data = download(alice)

    assert data["profile"]["name"] == "Annmark Profile"
    [booking] = data["bookings"]
    assert booking["id"] == trace["booking"] and booking["booking_type"]["slug"] == "paid"
    assert booking["answers"] == {"name": "Annmark Visitor", "id_card": trace["person"]}
    assert [(p["name"], p["id_number"]) for p in booking["people"]] == [("Annmark Visitor", trace["person"])]
    assert booking["cancel_reason"] == "Annmark cancel reason" and booking["status"] == "cancelled"
    [payment] = booking["payments"]
    assert (payment["reference"], payment["amount"], payment["status"]) == (trace["payment"], 2000, "refunded")
    assert [refund["amount"] for refund in payment["refunds"]] == [2000]
    assert [(check_in["method"], check_in["place"]) for check_in in booking["check_ins"]] == [("manual", "Annmark gate")]
    [waiting] = data["waitlist"]
    assert (waiting["booking_type"]["slug"], waiting["answers"]) == ("small", {"name": "Annmark Waiter"})
    [companion] = data["companions"]
    assert (companion["name"], companion["id_number"], companion["relation"]) == ("Annmark Companion", trace["companion"], "son")
    assert data["points"]["balance"] == -2 and [e["reason"] for e in data["points"]["entries"]] == ["Annmark points"]
    assert [p["code"] for p in data["credits"]["packages"]] == ["trial"]
    assert [(e["reason"], e["delta"], e["package"]) for e in data["credits"]["entries"]] == [("purchase", 1, "trial")]
    assert data["notification_preferences"]["email"] == trace["email"]
    assert [(b["subject_kind"], b["subject"], b["reason"]) for b in data["bans"]] == [("id_number", trace["companion"], "Annmark ban")]
    assert data["login_identities"] == [{"kind": "phone", "value": phone(1)}]
    described(data, "/me/data", "get")


def test_another_customers_rows_never_appear_in_a_download(session, alice, bob, shop, signed_in_customer, tenants):
    leave_a_trace_of_every_kind(session, alice, "Annmark", 11)
    bobs = leave_a_trace_of_every_kind(session, bob, "Bobmark", 12)
    # The same phone as Alice's at another tenant is another customer there.
    stock(session, tenants["tenant-b"])
    take_the_small_class(signed_in_customer(9, tenant="tenant-b"), B)
    theirs = leave_a_trace_of_every_kind(session, signed_in_customer(1, tenant="tenant-b"), "Cidmark", 13, tenant="tenant-b")

    _, data = download(alice)

    text = json.dumps(data, ensure_ascii=False)
    assert "Annmark" in text
    for foreign in ("Bobmark", "bobmark", "Cidmark", "cidmark", *bobs.values(), *theirs.values()):
        assert foreign not in text, foreign
