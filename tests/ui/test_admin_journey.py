"""The admin's day in Chromium, end to end: the owner builds and publishes a booking type, a customer books it through
the API, and the booking is on the desk, paid at the counter, admitted at the door once (a second scan is refused) and
in the desk's export with every answer."""

from __future__ import annotations

import csv
import io
import json
import sys
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from tenant_setup import id_number
from test_builder_page import ID_CARD_KEY, build_and_publish_yoga, log_in

from yuyue.payments.operations import set_payment_provider

sys.path.insert(0, str(Path(__file__).parent.parent / "admin"))
from desk_setup import set_clock  # noqa: E402

STUDENT_ID = id_number(date(2008, 9, 1))
# The refusal of a second scan, as the door reads it in zh-Hans.
ALREADY_USED = "已使用"
ANSWERS = {"student_name": "韩梅梅", "mobile": "13900000007", "level": "beginner", "kind": "student", "school": "第一中学", ID_CARD_KEY: STUDENT_ID}


@pytest.fixture
def paid_at_the_counter(session, tenants) -> None:
    """Tenant-a's bookings are paid at the counter (the offline provider)."""
    set_payment_provider(session, tenants["tenant-a"], "offline")


def call_api(live_server: str, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
    """One request to the customer API over HTTP, as a mini-program would send it; its JSON."""
    request = urllib.request.Request(
        f"{live_server}/api/v1/t/tenant-a{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_built_booked_on_the_desk_admitted_once_and_exported(page, live_server, owner, paid_at_the_counter, monkeypatch):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, owner)
    build_and_publish_yoga(page, live_server)

    first = date.today() + timedelta(days=1)
    slots = call_api(live_server, "GET", f"/booking-types/yoga/availability?from={first}&to={first + timedelta(days=13)}")["slots"]
    starts_at = next(slot["starts_at"] for slot in slots if slot["bookable"])
    booked = call_api(
        live_server,
        "POST",
        "/bookings",
        {"booking_type": "yoga", "starts_at": starts_at, "phone": ANSWERS["mobile"], "tickets": {"student": 1}, "answers": ANSWERS},
        {"Idempotency-Key": "journey-1"},
    )
    booking_id, token = booked["id"], booked["booking_token"]
    assert booked["form_version"] == 2 and booked["status"] == "held"

    # The desk: the booking is listed on its day; its page shows the answers; the counter payment confirms it.
    day = datetime.fromisoformat(starts_at).date().isoformat()
    page.goto(f"{live_server}/admin/t/tenant-a/bookings/?from={day}&to={day}")
    page.locator(f'a[href$="/bookings/{booking_id}"]').click()
    expect(page.locator("main")).to_contain_text("韩梅梅")
    expect(page.locator("main")).to_contain_text("第一中学")
    expect(page.locator("main")).not_to_contain_text(STUDENT_ID)
    page.locator(f'a[href$="/bookings/{booking_id}/offline-payment"]').click()
    page.locator('form.confirm-form button[type="submit"]').click()
    page.wait_for_url(f"**/bookings/{booking_id}")
    voucher = call_api(live_server, "GET", f"/bookings/{booking_id}", headers={"X-Booking-Token": token})
    assert voucher["status"] == "confirmed"

    # The door, ten minutes before the class: the typed code admits; the QR code scanned after it is refused as used.
    set_clock(monkeypatch, datetime.fromisoformat(starts_at) - timedelta(minutes=10))
    page.goto(f"{live_server}/admin/t/tenant-a/check-in/")
    for scanned, verdict in ((voucher["voucher"]["code"], "accept"), (voucher["voucher"]["qr"], "refuse")):
        page.locator("#code").fill(scanned)
        page.locator("#code").press("Enter")
        expect(page.locator(".verdict")).to_have_attribute("data-verdict", verdict)
    expect(page.locator(".verdict-reason")).to_contain_text(ALREADY_USED)
    expect(page.locator(".checkin-log tbody tr")).to_have_count(2)

    # The desk's export with the same filters: the booking with every answer.
    export = page.request.get(f"{live_server}/admin/t/tenant-a/bookings/export.csv?from={day}&to={day}")
    assert export.ok, export.status
    rows = list(csv.reader(io.StringIO(export.text().lstrip("\ufeff"))))
    [row] = [row for row in rows if voucher["voucher"]["code"] in row]
    cells = " ".join(row)
    for value in ("韩梅梅", ANSWERS["mobile"], "第一中学", STUDENT_ID[-4:]):
        assert value in cells, f"{value} is not in the exported row {row}"

    assert page.watch.foreign_requests == []
    assert page.watch.errors == []
