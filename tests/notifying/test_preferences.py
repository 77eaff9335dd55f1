"""A customer's notification preferences: through the API, on the site's page, and by the one-click unsubscribe link of an optional email."""

from __future__ import annotations

import re

import pytest
from notifying_setup import sign_in
from sqlalchemy import select
from tenant_setup import phone

from yuyue.audit.models import AuditRecord
from yuyue.customers.operations import customer_for_phone
from yuyue.db import tenant_scope
from yuyue.notifying.preferences import preferences_of, read_unsubscribe_token, unsubscribe_token
from yuyue.provisioning.operations import get_tenant

ME = "/api/v1/t/tenant-a/me/notifications"
SECRET = "test-secret-key-of-at-least-32-bytes"


@pytest.fixture
def ann(signed_in_customer):
    return signed_in_customer(1)


def test_a_customer_who_never_chose_hears_everything_on_every_channel(ann):
    assert ann.get(ME).get_json() == {
        "email": None,
        "channels": [{"key": "log", "on": True, "address_kind": "phone"}],
        "channels_off": [],
        "muted": [],
        "optional_events": ["booking.reminder", "booking.no_show"],
    }


def test_a_customer_sets_an_email_mutes_reminders_and_turns_a_channel_off(ann, session):
    answer = ann.put(ME, json={"email": "ann@example.com", "muted": ["booking.reminder"], "channels_off": ["log"]}).get_json()
    assert (answer["email"], answer["muted"], answer["channels_off"]) == ("ann@example.com", ["booking.reminder"], ["log"])
    assert answer["channels"] == [{"key": "log", "on": False, "address_kind": "phone"}]
    # A field left out keeps its value.
    assert ann.put(ME, json={"muted": []}).get_json()["email"] == "ann@example.com"
    with tenant_scope(get_tenant(session, "tenant-a").id):
        assert (
            session.scalars(select(AuditRecord.action).where(AuditRecord.action == "notifications.preferences_changed")).all()
            == ["notifications.preferences_changed"] * 2
        )


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"email": "not an address"}, "/email"),
        ({"email": "a@b"}, "/email"),
        ({"muted": ["booking.confirmed"]}, "/muted/0"),
        ({"channels_off": ["fax"]}, "/channels_off/0"),
        ({"email": "x" * 250 + "@example.com"}, "/email"),
    ],
)
def test_preferences_that_cannot_be_kept_are_refused_with_a_pointer(ann, problem, body, pointer):
    refused = problem(ann.put(ME, json=body), 422)
    assert pointer in {error["pointer"] for error in refused["errors"]}


def test_preferences_are_for_a_logged_in_customer(client, tenants, problem):
    problem(client.get(ME), 401)
    problem(client.put(ME, json={"muted": []}), 401)


def test_the_unsubscribe_token_names_one_tenant_customer_and_event():
    token = unsubscribe_token(SECRET, "tenant-a", 7, "booking.reminder")
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}", token)
    assert read_unsubscribe_token(SECRET, token, "tenant-a") == (7, "booking.reminder")
    assert read_unsubscribe_token(SECRET, token, "tenant-b") is None
    assert read_unsubscribe_token("another-secret-key-of-32-bytes-or-more", token, "tenant-a") is None
    assert read_unsubscribe_token(SECRET, token.replace(".7.", ".8."), "tenant-a") is None
    assert read_unsubscribe_token(SECRET, "9.7.abc", "tenant-a") is None


def _customer(session, n=1):
    with tenant_scope(get_tenant(session, "tenant-a").id):
        return customer_for_phone(session, phone(n))


def test_the_unsubscribe_page_changes_nothing_until_its_button_is_pressed(app, client, tenants, session):
    customer = _customer(session)
    url = f"/t/tenant-a/unsubscribe/{unsubscribe_token(app.config['SECRET_KEY'], 'tenant-a', customer.id, 'booking.reminder')}"
    page = client.get(url)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "预约前提醒" in page.get_data(as_text=True)  # "Reminders before a booking", in the tenant's first language
    with tenant_scope(customer.tenant_id):
        assert preferences_of(session, customer.id).muted == ()

    # The mail client's RFC 8058 one-click POST: no session, no CSRF token.
    done = app.test_client().post(url, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    with tenant_scope(customer.tenant_id):
        assert preferences_of(session, customer.id).muted == ("booking.reminder",)
    assert app.test_client().post(url).status_code == 200  # twice is the same


def test_an_unsubscribe_link_of_another_tenant_or_a_forged_one_is_not_found(app, client, tenants, session):
    customer = _customer(session)
    token = unsubscribe_token(app.config["SECRET_KEY"], "tenant-a", customer.id, "booking.reminder")
    assert client.get(f"/t/tenant-b/unsubscribe/{token}").status_code == 404
    assert client.post(f"/t/tenant-a/unsubscribe/{token[:-2]}xx").status_code == 404
    assert client.post("/t/tenant-a/unsubscribe/" + "a" * 61).status_code == 404


def test_the_preferences_page_asks_for_a_login_then_saves_with_the_csrf_token(app, client, tenants, session):
    assert client.get("/t/tenant-a/me/notifications").status_code == 302
    customer = _customer(session)
    sign_in(client, tenants["tenant-a"], customer)
    page = client.get("/t/tenant-a/me/notifications")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)

    # Without the token: refused, nothing kept.
    assert client.post("/t/tenant-a/me/notifications", data={"email": "ann@example.com"}).status_code == 400
    saved = client.post("/t/tenant-a/me/notifications", data={"csrf_token": token, "email": "ann@example.com", "channel:log": "1"})
    assert saved.status_code == 200
    with tenant_scope(customer.tenant_id):
        assert preferences_of(session, customer.id).email == "ann@example.com"
        # The optional messages' boxes were left unchecked: muted.
        assert preferences_of(session, customer.id).muted == ("booking.no_show", "booking.reminder")


def test_the_account_page_links_the_preferences(app, client, tenants, session):
    sign_in(client, tenants["tenant-a"], _customer(session))
    assert 'href="/t/tenant-a/me/notifications"' in client.get("/t/tenant-a/me/bookings").get_data(as_text=True)
