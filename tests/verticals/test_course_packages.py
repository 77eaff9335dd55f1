"""Class packages: a student's credits pay for classes when the course tenant turns ``pay_with_credits`` on.

Packages are made and sold through the merchant API, taken through the
customer API; balances are read at ``/me/credits`` and by staff at
``/admin/customers/<id>/credits``. tenant-a gets the settings a test sets;
tenant-b keeps the defaults (classes paid with money, no credits needed).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from verticals_setup import CONFIGURED, DEFAULTS, SLOT_DAY, answers, at, post_booking

from yuyue.bookings.models import Booking
from yuyue.credits.models import CreditEntry
from yuyue.db import tenant_scope
from yuyue.provisioning.operations import get_tenant
from yuyue.tenancy.models import StaffRole
from yuyue.worker import expire_all_credits

COURSE = "course"
TEN_CLASSES = {"zh-Hans": "10次课卡", "zh-Hant": "10次課卡", "en": "Ten classes"}


@pytest.fixture
def classes(offer):
    offer(COURSE)


@pytest.fixture
def manager(set_settings, staff_client):
    return staff_client(CONFIGURED, StaffRole.manager)


@pytest.fixture
def package(manager):
    """``package("two", credits=2)``: a package of tenant-a made through the merchant API (free unless priced)."""

    def make(code: str = "trial", credits: int = 2, **settings) -> dict:
        body = {"code": code, "name": TEN_CLASSES, "credits": credits, **settings}
        response = manager.post(f"/api/v1/t/{CONFIGURED}/admin/packages", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def paying_with_credits(classes, set_settings):
    set_settings(COURSE, pay_with_credits=True, max_bookings_per_week=50)


@pytest.fixture
def credits_clock(clock, monkeypatch):
    """``credits_clock(moment)``: booking operations and the credit ledger both read ``moment`` as now."""

    def set_now(moment):
        clock(moment)
        monkeypatch.setattr("yuyue.credits.operations.utcnow", lambda: moment)

    return set_now


def take(client, code: str = "trial"):
    return client.post(f"/api/v1/t/{CONFIGURED}/me/credits", json={"package": code})


def taken(client, code: str = "trial") -> dict:
    response = take(client, code)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def my_credits(client, tenant: str = CONFIGURED) -> dict:
    response = client.get(f"/api/v1/t/{tenant}/me/credits")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def cancel(client, booking: dict):
    response = client.post(f"/api/v1/t/{CONFIGURED}/bookings/{booking['id']}/cancel", json={})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- paying with credits -------------------------------------------------------------


def test_a_class_paid_with_credits_costs_nothing_and_takes_one_credit(paying_with_credits, package, customer, booked):
    package(credits=2)
    alice = customer(1)
    taken(alice)

    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE))

    assert (booking["status"], booking["price_amount"]) == ("confirmed", 0)
    credits = my_credits(alice)
    assert credits["balance"] == 1
    assert [(line["reason"], line["delta"], line["booking"]) for line in credits["history"]] == [("booking", -1, booking["id"]), ("purchase", 2, None)]


def test_the_last_credit_books_a_class_and_the_next_class_is_refused(paying_with_credits, package, customer, booked, book, problem):
    package(credits=2)
    alice = customer(1)
    taken(alice)
    booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=9)
    booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=10)

    body = problem(book(alice, CONFIGURED, COURSE, answers(COURSE), hour=11), 409, "insufficient_credits")

    assert [error["pointer"] for error in body["errors"]] == ["/booking_type"]
    assert my_credits(alice)["balance"] == 0


def test_a_class_takes_the_credits_per_class_set(classes, set_settings, package, customer, book, booked, problem):
    set_settings(COURSE, pay_with_credits=True, credits_per_class=2)
    package(credits=3)
    alice = customer(1)
    taken(alice)

    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=9)
    problem(book(alice, CONFIGURED, COURSE, answers(COURSE), hour=10), 409, "insufficient_credits")

    assert [(line["reason"], line["delta"]) for line in my_credits(alice)["history"]] == [("booking", -2), ("purchase", 3)]
    assert booking["price_amount"] == 0


def test_a_tenant_that_keeps_the_default_needs_no_credits(paying_with_credits, customer, booked):
    bob = customer(2, DEFAULTS)

    booked(bob, DEFAULTS, COURSE, answers(COURSE, 2))

    assert my_credits(bob, DEFAULTS) == {"balance": 0, "packages": [], "history": []}


def test_credits_expiring_first_are_spent_first(paying_with_credits, package, customer, booked):
    package("forever", credits=1)
    package("month", credits=1, valid_days=30)
    alice = customer(1)
    taken(alice, "forever")
    taken(alice, "month")

    booked(alice, CONFIGURED, COURSE, answers(COURSE))

    assert [(p["package"], p["remaining"]) for p in my_credits(alice)["packages"]] == [("forever", 1)]


def test_credits_of_a_package_for_another_booking_type_do_not_pay(paying_with_credits, offer, package, customer, book, problem):
    offer("activity")
    package(credits=3, booking_types=["activity"])
    alice = customer(1)
    taken(alice)

    problem(book(alice, CONFIGURED, COURSE, answers(COURSE)), 409, "insufficient_credits")


# --- expiry --------------------------------------------------------------------------


def test_expired_credits_no_longer_pay_and_show_as_expired(paying_with_credits, package, customer, book, booked, credits_clock, problem):
    package(credits=2, valid_days=3)
    alice = customer(1)
    assert taken(alice)["packages"][0]["expires_at"] is not None  # three days from now; the classes are a week ahead

    credits_clock(at(8, day=SLOT_DAY - timedelta(days=5)))
    booked(alice, CONFIGURED, COURSE, answers(COURSE))
    credits_clock(at(8, day=SLOT_DAY - timedelta(days=3)))
    problem(book(alice, CONFIGURED, COURSE, answers(COURSE), hour=10), 409, "insufficient_credits")

    credits = my_credits(alice)
    assert credits["balance"] == 0
    assert [(p["remaining"], p["expired"]) for p in credits["packages"]] == [(1, True)]


def test_the_worker_writes_off_expired_credits_once(paying_with_credits, package, customer, credits_clock, session):
    package(credits=2, valid_days=3)
    alice = customer(1)
    taken(alice)
    later = at(0, day=SLOT_DAY)

    assert (expire_all_credits(session, now=later), expire_all_credits(session, now=later)) == (1, 0)

    credits_clock(later)
    credits = my_credits(alice)
    assert (credits["balance"], credits["packages"]) == (0, [])
    assert [(line["reason"], line["delta"]) for line in credits["history"]] == [("expire", -2), ("purchase", 2)]


# --- cancelling and no-shows ---------------------------------------------------------


def test_cancelling_on_time_gives_the_credit_back(paying_with_credits, package, customer, booked, credits_clock):
    package(credits=1)
    alice = customer(1)
    taken(alice)
    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=10)
    credits_clock(at(4))  # the default deadline is 6 hours before

    assert cancel(alice, booking)["cancellation"]["terms"] == "on_time"

    credits = my_credits(alice)
    assert credits["balance"] == 1
    assert [line["reason"] for line in credits["history"]] == ["cancel_refund", "booking", "purchase"]


def test_cancelling_late_forfeits_the_credit(paying_with_credits, package, customer, booked, credits_clock):
    package(credits=1)
    alice = customer(1)
    taken(alice)
    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=10)
    credits_clock(at(4, 1))

    assert cancel(alice, booking)["cancellation"]["late"] is True

    credits = my_credits(alice)
    assert credits["balance"] == 0
    assert [(line["reason"], line["delta"], line["booking"]) for line in credits["history"][:1]] == [("late_forfeit", 0, booking["id"])]


def test_a_tenant_that_does_not_forfeit_gives_credits_back_after_a_late_cancellation(classes, set_settings, package, customer, booked, credits_clock):
    set_settings(COURSE, pay_with_credits=True, late_cancel_forfeits_credits=False)
    package(credits=1)
    alice = customer(1)
    taken(alice)
    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=10)
    credits_clock(at(9, 30))

    cancel(alice, booking)

    assert my_credits(alice)["balance"] == 1


def test_a_staff_cancellation_gives_the_credit_back_even_late(paying_with_credits, package, customer, booked, credits_clock, staff_client):
    package(credits=1)
    alice = customer(1)
    taken(alice)
    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=10)
    credits_clock(at(9, 30))

    response = staff_client(CONFIGURED).post(f"/api/v1/t/{CONFIGURED}/admin/bookings/{booking['id']}/cancel", json={"reason": "coach ill"})

    assert response.status_code == 200, response.get_json()
    assert my_credits(alice)["balance"] == 1


def test_a_no_show_forfeits_the_credit(paying_with_credits, package, customer, booked, credits_clock, staff_client):
    package(credits=1)
    alice = customer(1)
    taken(alice)
    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=10)
    credits_clock(at(10, 30))

    response = staff_client(CONFIGURED).post(f"/api/v1/t/{CONFIGURED}/admin/bookings/{booking['id']}/no-show")

    assert response.status_code == 200, response.get_json()
    credits = my_credits(alice)
    assert (credits["balance"], credits["history"][0]["reason"]) == (0, "no_show")


def test_a_class_booked_before_credits_were_turned_on_gives_nothing_back(classes, set_settings, package, customer, booked, credits_clock):
    alice = customer(1)
    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=10)
    set_settings(COURSE, pay_with_credits=True)
    package(credits=1)
    taken(alice)

    cancel(alice, booking)

    assert [line["reason"] for line in my_credits(alice)["history"]] == ["purchase"]


# --- packages for customers and at the front desk -----------------------------------------


def test_a_priced_package_is_sold_at_the_front_desk_not_taken(paying_with_credits, package, customer, staff_client, problem):
    package("ten", credits=10, price_amount=80000, valid_days=90)
    alice = customer(1)

    problem(take(alice, "ten"), 409, "package_not_free")
    sale = staff_client(CONFIGURED).post(
        f"/api/v1/t/{CONFIGURED}/admin/package-sales", json={"phone": alice.customer.phone, "package": "ten", "note": "微信收款"}
    )

    assert sale.status_code == 201, sale.get_json()
    assert (sale.get_json()["customer"]["id"], sale.get_json()["balance"]) == (alice.customer.id, 10)
    assert my_credits(alice)["packages"][0]["package"] == "ten"


def test_a_package_sold_to_a_new_phone_creates_the_customer(package, staff_client):
    package("ten", credits=10, price_amount=80000)

    sale = staff_client(CONFIGURED).post(f"/api/v1/t/{CONFIGURED}/admin/package-sales", json={"phone": "13912345678", "name": "王芳", "package": "ten"})

    assert sale.status_code == 201, sale.get_json()
    assert sale.get_json()["customer"]["name"] == "王芳"


def test_customers_see_only_packages_on_sale_in_their_language(package, manager, client):
    package("trial", credits=1)
    package("old", credits=5)
    manager.patch(f"/api/v1/t/{CONFIGURED}/admin/packages/old", json={"active": False})

    listed = client.get(f"/api/v1/t/{CONFIGURED}/packages?lang=en").get_json()["packages"]

    assert [(p["code"], p["name"]) for p in listed] == [("trial", "Ten classes")]


def test_an_inactive_package_cannot_be_taken_or_sold(package, manager, customer, staff_client, problem):
    package("old", credits=5)
    manager.patch(f"/api/v1/t/{CONFIGURED}/admin/packages/old", json={"active": False})

    problem(take(customer(1), "old"), 404, "package_not_found")
    problem(
        staff_client(CONFIGURED).post(f"/api/v1/t/{CONFIGURED}/admin/package-sales", json={"phone": "13912345678", "package": "old"}), 409, "package_inactive"
    )


def test_a_package_code_is_unique_within_a_tenant(package, manager, problem):
    package("trial")

    problem(manager.post(f"/api/v1/t/{CONFIGURED}/admin/packages", json={"code": "trial", "name": "again", "credits": 1}), 409, "code_taken")


def test_a_package_limited_to_an_unknown_booking_type_is_refused(manager, problem):
    body = {"code": "x", "name": "x", "credits": 1, "booking_types": ["yoga", "nope"]}

    response = problem(manager.post(f"/api/v1/t/{CONFIGURED}/admin/packages", json=body), 422, "validation_failed")

    assert [error["pointer"] for error in response["errors"]] == ["/booking_types/0", "/booking_types/1"]


def test_plain_staff_may_sell_but_not_define_packages_nor_adjust(staff_client, problem, customer):
    staff = staff_client(CONFIGURED)

    problem(staff.post(f"/api/v1/t/{CONFIGURED}/admin/packages", json={"code": "x", "name": "x", "credits": 1}), 403, "forbidden")
    problem(staff.post(f"/api/v1/t/{CONFIGURED}/admin/customers/{customer(1).customer.id}/credits", json={"delta": 1, "reason": "gift"}), 403, "forbidden")


# --- merchant adjustments -------------------------------------------------------------


def test_a_manager_adds_and_takes_credits_with_a_reason(package, manager, customer, problem):
    package(credits=2)
    alice = customer(1)
    taken(alice)
    url = f"/api/v1/t/{CONFIGURED}/admin/customers/{alice.customer.id}/credits"

    added = manager.post(url, json={"delta": 3, "reason": "补偿停课"})
    refused = manager.post(url, json={"delta": -6, "reason": "mistake"})
    removed = manager.post(url, json={"delta": -5, "reason": "refunded at the desk"})

    assert (added.status_code, added.get_json()["balance"]) == (201, 5)
    problem(refused, 409, "insufficient_credits")
    assert (removed.status_code, removed.get_json()["balance"]) == (201, 0)
    history = manager.get(url).get_json()["history"]
    assert [(line["reason"], line["delta"], line["note"]) for line in history[:3]] == [
        ("adjust", -3, "refunded at the desk"),
        ("adjust", -2, "refunded at the desk"),
        ("adjust", 3, "补偿停课"),
    ]


def test_credits_staff_add_may_expire(manager, customer, problem):
    alice = customer(1)
    url = f"/api/v1/t/{CONFIGURED}/admin/customers/{alice.customer.id}/credits"

    added = manager.post(url, json={"delta": 1, "reason": "gift", "expires_at": at(12).isoformat()})
    problem(manager.post(url, json={"delta": 1, "reason": "gift", "expires_at": "2001-01-01T00:00:00+08:00"}), 422, "validation_failed")

    assert added.get_json()["packages"][0]["expires_at"] == at(12).isoformat()


def test_a_zero_adjustment_is_invalid(manager, customer, problem):
    url = f"/api/v1/t/{CONFIGURED}/admin/customers/{customer(1).customer.id}/credits"

    problem(manager.post(url, json={"delta": 0, "reason": "nothing"}), 422, "validation_failed")


def test_another_tenants_customer_has_no_credits_here(manager, customer, problem):
    bob = customer(2, DEFAULTS)

    problem(manager.get(f"/api/v1/t/{CONFIGURED}/admin/customers/{bob.customer.id}/credits"), 404, "customer_not_found")


def test_every_change_of_credits_is_audited(paying_with_credits, package, customer, booked, manager, session):
    from yuyue.audit.models import AuditRecord

    package(credits=2)
    alice = customer(1)
    taken(alice)
    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=10)
    cancel(alice, booking)
    manager.post(f"/api/v1/t/{CONFIGURED}/admin/customers/{alice.customer.id}/credits", json={"delta": 1, "reason": "gift"})

    with tenant_scope(get_tenant(session, CONFIGURED).id):
        actions = [r.action for r in session.query(AuditRecord).order_by(AuditRecord.seq) if r.action.startswith(("credits.", "package."))]
    assert actions == ["package.created", "credits.purchase", "credits.booking", "credits.cancel_refund", "credits.adjust"]


# --- races ----------------------------------------------------------------------------


def test_concurrent_bookings_with_one_credit_let_one_through(app, paying_with_credits, package, customer, session):
    package(credits=1)
    alice = customer(1)
    taken(alice)
    attempts = [(day, hour) for day in (SLOT_DAY, SLOT_DAY + timedelta(days=1)) for hour in (9, 10, 11)]
    start = threading.Barrier(len(attempts))
    statuses = []
    token = alice.environ_base["HTTP_AUTHORIZATION"]

    def attempt(day, hour):
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = token
        start.wait()
        response = post_booking(client, CONFIGURED, COURSE, answers(COURSE), hour=hour, day=day)
        statuses.append((response.status_code, (response.get_json() or {}).get("code")))

    threads = [threading.Thread(target=attempt, args=pair) for pair in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(statuses, key=str) == sorted([(201, None)] + [(409, "insufficient_credits")] * (len(attempts) - 1), key=str)
    session.commit()
    with tenant_scope(get_tenant(session, CONFIGURED).id):
        spent = [e.delta for e in session.query(CreditEntry).filter(CreditEntry.delta < 0)]
        booked_ids = session.query(Booking.id).count()
    assert (spent, booked_ids) == ([-1], 1)
    assert my_credits(alice)["balance"] == 0


def test_numbers_with_a_fraction_part_are_not_whole_credits(manager, customer, problem):
    url = f"/api/v1/t/{CONFIGURED}/admin/customers/{customer(1).customer.id}/credits"

    adjusted = problem(manager.post(url, json={"delta": 2.0, "reason": "gift"}), 422, "validation_failed")
    created = problem(manager.post(f"/api/v1/t/{CONFIGURED}/admin/packages", json={"code": "x", "name": "x", "credits": 1.0, "price_amount": 0.0}), 422)

    assert [error["pointer"] for error in adjusted["errors"]] == ["/delta"]
    assert [error["pointer"] for error in created["errors"]] == ["/credits", "/price_amount"]
