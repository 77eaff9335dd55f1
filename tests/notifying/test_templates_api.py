"""The merchant's wording of notifications: every template listed, overrides checked in a sandbox when saved, previewed with sample data, used when sent."""

from __future__ import annotations

import logging

import pytest
from notifying_setup import BERLIN, iso
from sqlalchemy import select
from tenant_setup import phone

from yuyue.audit.models import AuditRecord
from yuyue.db import tenant_scope
from yuyue.events.channels import channels
from yuyue.notifying.templates import CUSTOMER_EVENTS, NOTIFIED_EVENTS, TEMPLATE_LOCALES
from yuyue.tenancy.models import StaffRole

BASE = "/api/v1/t/gallery/admin/notifications/templates"
CONFIRMED = f"{BASE}/booking.confirmed/log/en"


@pytest.fixture
def manager(gallery, staff_client):
    return staff_client("gallery", StaffRole.manager)


def test_every_event_channel_and_locale_is_listed_as_default_until_overridden(app, manager):
    listed = manager.get(BASE).get_json()["templates"]
    assert len(listed) == len(NOTIFIED_EVENTS) * len(channels(app).keys) * len(TEMPLATE_LOCALES)
    assert {(t["event"], t["locale"]) for t in listed} >= {(event, locale) for event in CUSTOMER_EVENTS for locale in TEMPLATE_LOCALES}
    assert not any(t["overridden"] for t in listed)

    assert manager.put(CONFIRMED, json={"subject": "Welcome, {{ customer.name }}"}).status_code == 200
    overridden = [t for t in manager.get(BASE).get_json()["templates"] if t["overridden"]]
    assert [(t["event"], t["channel"], t["locale"]) for t in overridden] == [("booking.confirmed", "log", "en")]


def test_one_template_shows_the_merchants_source_and_the_default(manager):
    shown = manager.get(CONFIRMED).get_json()
    assert shown["template"] == {"subject": None, "body": None, "html": None}
    assert "Booking confirmed" in shown["default"]["subject"] and shown["default"]["html"] is None


def test_a_saved_template_is_what_the_customer_receives(client, manager, entry_type, gallery, deliver):
    entry_type(gallery)
    manager.put(CONFIRMED, json={"subject": "See you at {{ slot.time }}, {{ customer.name or 'friend' }}", "body": "Code {{ booking.voucher_code }}"})
    response = client.post(
        "/api/v1/t/gallery/bookings", json={"booking_type": "entry", "starts_at": iso(9, zone=BERLIN), "answers": {"name": "Li"}, "phone": phone(1)}
    )
    assert response.status_code == 201
    [payload] = deliver(gallery)
    assert payload["subject"] == "See you at 09:00, friend"
    assert payload["text"] == f"Code {response.get_json()['voucher']['code']}\n"


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("Hello\n{{ customer.name }\n", 2),  # a syntax error, on line 2
        ("Hello\n\n{{ booking.nonexistent_field }}", 3),  # an unknown variable
        ("{{ booking.__class__ }}", None),  # outside the sandbox
    ],
)
def test_a_template_that_does_not_render_is_refused_with_its_line(manager, problem, body, line):
    refused = problem(manager.put(CONFIRMED, json={"body": body}), 422, "template_invalid")
    [error] = refused["errors"]
    assert error["pointer"] == "/body"
    if line:
        assert error["message"].startswith(f"line {line}: ")
    assert manager.get(CONFIRMED).get_json()["template"]["body"] is None


def test_a_template_whose_message_would_be_huge_is_refused(manager, problem):
    refused = problem(manager.put(CONFIRMED, json={"body": "{% for i in range(100000) %}spam spam spam {% endfor %}"}), 422, "template_invalid")
    assert "longer than" in refused["errors"][0]["message"]


def test_a_source_too_long_is_refused_before_it_is_rendered(manager, problem):
    problem(manager.put(CONFIRMED, json={"subject": "x" * 201}), 422, "validation_failed")


def test_a_preview_renders_a_draft_or_the_saved_template_with_sample_data(manager):
    draft = manager.post(f"{CONFIRMED}/preview", json={"subject": "Hi {{ customer.name }}"}).get_json()
    assert draft["subject"] == "Hi Li Lei"
    assert draft["text"].startswith("Gallery: Sample booking on ")

    manager.put(CONFIRMED, json={"subject": "Saved {{ booking.voucher_code }}"})
    assert manager.post(f"{CONFIRMED}/preview").get_json()["subject"] == "Saved ABCDE23456"


def test_a_chinese_preview_is_in_chinese(manager):
    shown = manager.post(f"{BASE}/booking.reminder/log/zh-Hans/preview").get_json()
    assert shown["subject"].startswith("预约提醒：示例预约，")


def test_deleting_an_override_goes_back_to_the_default(manager, problem):
    manager.put(CONFIRMED, json={"subject": "Mine"})
    assert manager.delete(CONFIRMED).status_code == 204
    assert manager.get(CONFIRMED).get_json()["overridden"] is False
    problem(manager.delete(CONFIRMED), 404, "template_not_found")


@pytest.mark.parametrize("path", [f"{BASE}/booking.created/log/en", f"{BASE}/booking.confirmed/fax/en", f"{BASE}/booking.confirmed/log/fr"])
def test_a_template_of_no_event_channel_or_locale_is_not_found(manager, problem, path):
    problem(manager.get(path), 404, "template_not_found")


def test_plain_staff_may_not_change_the_wording(gallery, staff_client, problem):
    problem(staff_client("gallery").put(CONFIRMED, json={"subject": "x"}), 403)


def test_saving_and_deleting_are_audited(manager, session, gallery):
    manager.put(CONFIRMED, json={"subject": "Mine"})
    manager.delete(CONFIRMED)
    with tenant_scope(gallery.id):
        actions = list(session.scalars(select(AuditRecord.action).where(AuditRecord.action.like("notifications.%")).order_by(AuditRecord.seq)))
    assert actions == ["notifications.template_saved", "notifications.template_deleted"]


def test_a_template_that_fails_when_sent_falls_back_to_the_default_and_is_logged(client, manager, entry_type, gallery, deliver, caplog):
    entry_type(gallery)
    # Renders with the sample's 5 points; a real booking's confirmation has none to divide by.
    assert manager.put(CONFIRMED, json={"subject": "{{ 100 // terms.points }}"}).status_code == 200
    client.post("/api/v1/t/gallery/bookings", json={"booking_type": "entry", "starts_at": iso(9, zone=BERLIN), "answers": {"name": "Li"}, "phone": phone(1)})
    with caplog.at_level(logging.WARNING, logger="yuyue.notifications"):
        [payload] = deliver(gallery)
    assert payload["subject"].startswith("Booking confirmed: Visit on ")
    assert "the default was sent" in caplog.text
