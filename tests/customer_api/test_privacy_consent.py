"""Consent to a booking type's privacy notice through the customer API: shown with the booking type, required to book and to
join the waitlist, refused when it is to an older version, recorded once, and nothing asked of a type without a notice."""

from __future__ import annotations

import pytest
from customer_api_setup import iso
from sqlalchemy import select

from yuyue.audit.models import AuditRecord
from yuyue.bookings.models import Consent
from yuyue.db import tenant_scope
from yuyue.tenancy.models import StaffRole

A = "/api/v1/t/tenant-a"
NOTICE = {"zh-Hans": "我们只用您的信息办理预约。", "en": "<b>We</b> use your details only for your booking."}


@pytest.fixture
def manager(staff_client, tenants):
    return staff_client("tenant-a", StaffRole.manager)


@pytest.fixture
def noticed(entry, manager):
    """Booking type ``entry`` with version 1 of its privacy notice."""
    assert manager.put(f"{A}/admin/booking-types/entry/privacy-notice", json={"text": NOTICE}).status_code == 200


def consents(session, tenants) -> list[Consent]:
    with tenant_scope(tenants["tenant-a"].id):
        return list(session.scalars(select(Consent).order_by(Consent.id).execution_options(populate_existing=True)))


def test_the_booking_type_shows_its_notice_in_the_readers_language(client, noticed):
    english = client.get(f"{A}/booking-types/entry?lang=en").get_json()["privacy_notice"]
    chinese = client.get(f"{A}/booking-types/entry?lang=zh-Hans").get_json()["privacy_notice"]

    assert (english["version"], english["text"]) == (1, NOTICE["en"])
    assert chinese["text"] == NOTICE["zh-Hans"]


def test_a_booking_type_without_a_notice_shows_none(client, entry):
    assert client.get(f"{A}/booking-types/entry").get_json()["privacy_notice"] is None


def test_booking_without_consent_is_a_422_at_the_consent(alice, noticed, booking_request, problem, session, tenants):
    body = problem(alice.post(f"{A}/bookings", json=booking_request()), 422, "consent_required")

    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [("/privacy_consent", "consent_required")]
    assert alice.get(f"{A}/me/bookings").get_json()["bookings"] == []
    assert consents(session, tenants) == []


def test_consent_to_an_older_version_is_a_409_naming_the_current_one(alice, noticed, manager, booking_request, problem):
    manager.put(f"{A}/admin/booking-types/entry/privacy-notice", json={"text": "Changed terms"})

    body = problem(alice.post(f"{A}/bookings", json=booking_request(privacy_consent={"version": 1})), 409, "consent_outdated")

    assert body["current_version"] == 2
    assert [e["pointer"] for e in body["errors"]] == ["/privacy_consent/version"]
    assert alice.get(f"{A}/me/bookings").get_json()["bookings"] == []


def test_consent_to_a_version_that_never_existed_is_outdated_too(alice, noticed, booking_request, problem):
    assert problem(alice.post(f"{A}/bookings", json=booking_request(privacy_consent={"version": 7})), 409, "consent_outdated")["current_version"] == 1


def test_a_booking_with_consent_records_it_once(alice, noticed, book, session, tenants):
    booking = book(alice, privacy_consent={"version": 1})

    (consent,) = consents(session, tenants)
    assert (consent.notice_version, consent.channel.value, consent.customer_id) == (1, "api", alice.customer.id)
    assert consent.booking_id is not None and consent.waitlist_entry_id is None
    with tenant_scope(tenants["tenant-a"].id):
        record = session.scalar(select(AuditRecord).where(AuditRecord.subject_id == booking["id"]))
    assert record.data["privacy_consent"] == {"version": 1, "channel": "api"}


def test_a_guest_books_with_consent(client, noticed, book, session, tenants):
    book(client, phone="13800000077", privacy_consent={"version": 1})

    assert [c.notice_version for c in consents(session, tenants)] == [1]


def test_a_retry_with_the_same_key_records_no_second_consent(alice, noticed, booking_request, session, tenants):
    body, headers = booking_request(privacy_consent={"version": 1}), {"Idempotency-Key": "consent-once"}

    assert alice.post(f"{A}/bookings", json=body, headers=headers).status_code == 201
    assert alice.post(f"{A}/bookings", json=body, headers=headers).status_code == 200
    assert len(consents(session, tenants)) == 1


def test_without_a_notice_nothing_is_asked_and_a_consent_sent_is_not_recorded(alice, entry, book, session, tenants):
    book(alice)
    book(alice, hour=10, privacy_consent={"version": 1})

    assert consents(session, tenants) == []


def test_after_the_notice_is_withdrawn_booking_needs_no_consent(alice, noticed, manager, book, session, tenants):
    manager.delete(f"{A}/admin/booking-types/entry/privacy-notice")

    book(alice)

    assert consents(session, tenants) == []


@pytest.mark.parametrize(
    ("consent", "where"),
    [
        ({}, "/privacy_consent/version"),
        ({"version": 0}, "/privacy_consent/version"),
        ({"version": "1"}, "/privacy_consent/version"),
        ({"version": 2**31}, "/privacy_consent/version"),
        ({"version": 1, "agreed": True}, "/privacy_consent/agreed"),
        (True, "/privacy_consent"),
        (1, "/privacy_consent"),
    ],
)
def test_a_malformed_consent_is_a_422_at_its_field(alice, noticed, booking_request, problem, consent, where):
    body = problem(alice.post(f"{A}/bookings", json=booking_request(privacy_consent=consent)), 422)

    assert any(e["pointer"] == where for e in body["errors"]), body


# --- the waitlist ------------------------------------------------------------------------------


@pytest.fixture
def full_slot(make_type, manager, book, alice):
    """Type ``entry`` with one place a slot and a notice; Alice holds the 09:00 place."""
    make_type(capacity=1)
    manager.put(f"{A}/admin/booking-types/entry/privacy-notice", json={"text": NOTICE})
    return book(alice, privacy_consent={"version": 1})


def join(client, **fields):
    return client.post(f"{A}/waitlist", json={"booking_type": "entry", "starts_at": iso(9), "answers": {"name": "Bob"}, **fields})


def test_joining_the_waitlist_needs_consent_too(bob, full_slot, problem):
    problem(join(bob), 422, "consent_required")


def test_the_consent_given_on_joining_belongs_to_the_booking_the_place_becomes(alice, bob, manager, full_slot, session, tenants):
    waiting = join(bob, privacy_consent={"version": 1}).get_json()
    (_, given) = consents(session, tenants)
    assert (given.waitlist_entry_id, given.booking_id) == (waiting["id"], None)

    alice.post(f"{A}/bookings/{full_slot['id']}/cancel")
    booking = bob.post(f"{A}/waitlist/{waiting['id']}/accept").get_json()

    shown = manager.get(f"{A}/admin/bookings/{booking['id']}").get_json()["privacy_consents"]
    assert [(c["id"], c["version"]) for c in shown] == [(given.id, 1)]


def test_the_consent_problems_are_in_the_readers_language(alice, noticed, booking_request, problem):
    body = problem(alice.post(f"{A}/bookings?lang=zh-Hant", json=booking_request()), 422, "consent_required")

    assert body["detail"] == "預約前請同意隱私聲明"
    assert body["errors"][0]["message"] == "請同意第 1 版隱私聲明"
