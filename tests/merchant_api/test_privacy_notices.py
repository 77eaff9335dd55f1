"""A booking type's privacy notice over the merchant API: versions that are never changed, withdrawal, who may set it, bounds, and the consents listed by version."""

from __future__ import annotations

import hashlib

import pytest
from merchant_setup import at
from sqlalchemy import select

from yuyue.audit.canonical import canonical_json
from yuyue.audit.models import AuditRecord
from yuyue.bookings.consents import PrivacyConsent
from yuyue.catalog.privacy_notices import MAX_NOTICE_LENGTH
from yuyue.db import tenant_scope
from yuyue.events.models import OutboxEvent
from yuyue.events.webhooks import WEBHOOK_TOPICS

A = "/api/v1/t/tenant-a/admin/booking-types"
NOTICE = {"zh-Hans": "我们只用您的信息办理预约。", "en": "We use your details only for your booking."}
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


@pytest.fixture
def entry(make_type):
    return make_type("tenant-a")


def put(client, text, slug="entry"):
    return client.put(f"{A}/{slug}/privacy-notice", json={"text": text})


def test_a_booking_type_has_no_notice_until_one_is_published(manager, entry):
    body = manager.get(f"{A}/entry/privacy-notice").get_json()

    assert body == {"booking_type": "entry", "current": None, "versions": [], "version_count": 0}


def test_every_changed_text_is_a_new_version_and_the_old_ones_stay(manager, entry):
    first = put(manager, NOTICE).get_json()
    second = put(manager, {**NOTICE, "en": "We keep your details for a year."}).get_json()

    assert first["current"]["version"] == 1
    assert second["current"] == second["versions"][0]
    assert [(v["version"], v["text"]["en"]) for v in second["versions"]] == [(2, "We keep your details for a year."), (1, NOTICE["en"])]
    assert second["version_count"] == 2
    assert second["current"]["created_by"].startswith("staff:")


def test_the_same_text_again_publishes_nothing(manager, entry):
    put(manager, NOTICE)

    again = put(manager, dict(NOTICE)).get_json()

    assert (again["current"]["version"], again["version_count"]) == (1, 1)


def test_withdrawing_keeps_the_history_and_a_new_notice_continues_the_numbering(manager, entry):
    put(manager, NOTICE)

    assert manager.delete(f"{A}/entry/privacy-notice").status_code == 204
    withdrawn = manager.get(f"{A}/entry/privacy-notice").get_json()
    again = put(manager, "One text for every language").get_json()

    assert withdrawn["current"] is None
    assert [(v["version"], v["withdrawn"]) for v in withdrawn["versions"]] == [(2, True), (1, False)]
    assert (again["current"]["version"], again["current"]["text"]) == (3, "One text for every language")


def test_withdrawing_when_there_is_no_notice_changes_nothing(manager, entry):
    assert manager.delete(f"{A}/entry/privacy-notice").status_code == 204
    assert manager.get(f"{A}/entry/privacy-notice").get_json()["version_count"] == 0


def test_hostile_text_is_stored_and_answered_exactly_as_given(manager, entry):
    body = put(manager, {"en": HOSTILE}).get_json()

    assert body["current"]["text"] == {"en": HOSTILE}


def test_publishing_is_audited_with_the_texts_digest_and_announced(manager, entry, session, tenant_of):
    put(manager, NOTICE)
    manager.delete(f"{A}/entry/privacy-notice")

    with tenant_scope(tenant_of("tenant-a").id):
        records = session.scalars(select(AuditRecord).where(AuditRecord.action.like("privacy_notice.%")).order_by(AuditRecord.seq)).all()
        topics = session.scalars(select(OutboxEvent.topic).where(OutboxEvent.topic.like("privacy_notice.%")).order_by(OutboxEvent.id)).all()
    assert [(r.action, r.subject_id, r.data["version"]) for r in records] == [
        ("privacy_notice.published", "entry", 1),
        ("privacy_notice.withdrawn", "entry", 2),
    ]
    assert records[0].data["text_sha256"] == hashlib.sha256(canonical_json(NOTICE).encode()).hexdigest()
    assert records[1].data["text_sha256"] is None
    assert topics == ["privacy_notice.published", "privacy_notice.withdrawn"]
    assert set(topics) <= WEBHOOK_TOPICS.keys()  # endpoints subscribe to them by name


def test_staff_read_the_notice_but_only_managers_change_it(manager, front_desk, entry, problem):
    put(manager, NOTICE)

    assert front_desk.get(f"{A}/entry/privacy-notice").get_json()["current"]["version"] == 1
    problem(put(front_desk, "changed"), 403)
    problem(front_desk.delete(f"{A}/entry/privacy-notice"), 403)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ({}, "/text"),
        ("", "/text"),
        ({"fr": "Bonjour"}, "/text"),
        ({"en": ""}, "/text"),
        ({"en": "x" * (MAX_NOTICE_LENGTH + 1)}, "/text"),
        ("x" * (MAX_NOTICE_LENGTH + 1), "/text"),
        (["a list"], "/text"),
        ({"en": "a NUL \x00 inside"}, "/text/en"),
    ],
)
def test_a_notice_that_is_not_bounded_localized_text_is_a_422_at_its_field(manager, entry, problem, text, where):
    body = problem(put(manager, text), 422)

    assert any(e["pointer"].startswith(where) for e in body["errors"]), body
    assert manager.get(f"{A}/entry/privacy-notice").get_json()["version_count"] == 0


def test_the_longest_notice_per_language_is_accepted(manager, entry):
    text = {"en": "x" * MAX_NOTICE_LENGTH, "zh-Hans": "字" * MAX_NOTICE_LENGTH}

    assert put(manager, text).status_code == 200


def test_another_booking_types_notice_is_its_own(manager, make_type, entry):
    make_type("tenant-a", "other")
    put(manager, NOTICE)

    assert manager.get(f"{A}/other/privacy-notice").get_json()["current"] is None


def test_an_unknown_booking_type_is_a_404(manager, tenants, problem):
    problem(manager.get(f"{A}/missing/privacy-notice"), 404, "booking_type_not_found")
    problem(put(manager, NOTICE, slug="missing"), 404, "booking_type_not_found")
    problem(manager.get(f"{A}/missing/privacy-notice/consents"), 404, "booking_type_not_found")


# --- consents --------------------------------------------------------------------------------


@pytest.fixture
def consented(manager, entry, book):
    """Three bookings of ``entry``: one under version 1 of the notice, two under version 2."""
    put(manager, NOTICE)
    first = book("tenant-a", at(9), "13800000001", privacy_consent=PrivacyConsent(1))
    put(manager, "Version two")
    later = [book("tenant-a", at(9), f"1380000000{n}", privacy_consent=PrivacyConsent(2)) for n in (2, 3)]
    return [first, *later]


def test_consents_are_listed_newest_first_with_their_booking_and_customer(manager, consented):
    consents = manager.get(f"{A}/entry/privacy-notice/consents").get_json()["consents"]

    assert [(c["version"], c["booking"], c["channel"]) for c in consents] == [
        (2, consented[2].public_id, "api"),
        (2, consented[1].public_id, "api"),
        (1, consented[0].public_id, "api"),
    ]
    assert consents[2]["customer"] == consented[0].customer_id
    assert consents[0]["waitlist_entry"] is None


def test_consents_of_one_version(manager, consented):
    consents = manager.get(f"{A}/entry/privacy-notice/consents?version=1").get_json()["consents"]

    assert [c["booking"] for c in consents] == [consented[0].public_id]


def test_consents_come_in_pages(manager, consented):
    first = manager.get(f"{A}/entry/privacy-notice/consents?limit=2").get_json()
    second = manager.get(f"{A}/entry/privacy-notice/consents?limit=2&cursor={first['next_cursor']}").get_json()

    assert [c["booking"] for c in first["consents"] + second["consents"]] == [b.public_id for b in reversed(consented)]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("version=0", "/version"),
        ("version=abc", "/version"),
        ("version=99999999999", "/version"),
        ("limit=0", "/limit"),
        ("cursor=nope", "/cursor"),
        ("sort=id", "/sort"),
    ],
)
def test_a_bad_consent_query_is_a_422_at_its_parameter(manager, entry, problem, query, where):
    body = problem(manager.get(f"{A}/entry/privacy-notice/consents?{query}"), 422)

    assert [e["pointer"] for e in body["errors"]] == [where]


def test_the_booking_shows_its_consent_to_staff(manager, consented):
    booking = manager.get(f"/api/v1/t/tenant-a/admin/bookings/{consented[0].public_id}").get_json()

    assert [(c["version"], c["channel"]) for c in booking["privacy_consents"]] == [(1, "api")]


def test_the_customers_page_shows_their_consents(manager, consented):
    page = manager.get(f"/api/v1/t/tenant-a/admin/customers/{consented[0].customer_id}").get_json()

    assert [(c["booking_type"], c["version"], c["booking"]) for c in page["privacy_consents"]] == [("entry", 1, consented[0].public_id)]


def test_a_booking_type_without_a_notice_has_no_consents(manager, entry, book):
    booking = book("tenant-a", at(9), "13800000001", privacy_consent=PrivacyConsent(1))

    assert manager.get(f"{A}/entry/privacy-notice/consents").get_json() == {"consents": [], "next_cursor": None}
    assert manager.get(f"/api/v1/t/tenant-a/admin/bookings/{booking.public_id}").get_json()["privacy_consents"] == []
