"""The dashboard: today at a glance for every role, the statistics of a period for managers and owners, their downloads.

Tenant A and tenant B each sell ``entry`` (09:00 and 14:00, ten places) and have bookings on the
same day, ten days ahead; tenant A's figures must count only its own.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from tenant_setup import make_booking_type, windows

from yuyue.bookings import operations as ops
from yuyue.forms.registry import form_registry
from yuyue.provisioning.operations import get_tenant
from yuyue.types import utcnow

ZONE = ZoneInfo("Asia/Shanghai")
DAY = utcnow().astimezone(ZONE).date() + timedelta(days=10)
PERIOD = f"?from={DAY}&to={DAY}"
A = "/admin/t/tenant-a/"


def _book(session, tenant_slug: str, hour: int, n: int, party: int = 1):
    tenant = get_tenant(session, tenant_slug)
    booking = ops.book(
        session,
        form_registry(),
        tenant,
        booking_type_slug="entry",
        starts_at=datetime.combine(DAY, time(hour), ZONE),
        phone=f"1370000{n:04d}",
        answers={"name": f"Guest {n}"},
        party_size=party,
    )
    return ops.confirm(session, tenant, booking.public_id)


@pytest.fixture
def seeded(session, tenants):
    """Tenant A: two bookings at 09:00 (3 places), one at 14:00 cancelled. Tenant B: four at 14:00 (8 places)."""
    for slug, name in (("tenant-a", {"zh-Hans": "门票A", "en": "Entry A"}), ("tenant-b", {"zh-Hans": "门票B", "en": "Entry B"})):
        make_booking_type(session, tenants[slug], "entry", name=name, rules=windows(("09:00", "10:00"), ("14:00", "15:00"), capacity=10), max_party_size=5)
    _book(session, "tenant-a", 9, 1, party=2)
    _book(session, "tenant-a", 9, 2)
    cancelled = _book(session, "tenant-a", 14, 3)
    ops.cancel(session, get_tenant(session, "tenant-a"), cancelled.public_id, by_staff=True)
    for n in range(4):
        _book(session, "tenant-b", 14, 10 + n, party=2)
    session.commit()


def test_staff_see_today_but_not_the_statistics(admin_login, seeded):
    page = admin_login("staff-a").get(A)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="today-heading"' in text and 'id="stats-heading"' not in text


def test_staff_may_not_download_the_statistics(admin_login, seeded):
    assert admin_login("staff-a").get(f"{A}stats/summary.csv{PERIOD}").status_code == 403


def test_managers_see_the_periods_figures_with_charts_and_tables(admin_login, seeded):
    text = admin_login("manager-a").get(f"{A}{PERIOD}").get_data(as_text=True)
    assert 'id="stats-heading"' in text
    assert text.count("<svg") >= 3 and "<script" not in text.split("<main", 1)[1].split("</main>", 1)[0]
    assert 'viewBox="0 0' in text and "<title>" in text
    assert "门票A" in text and "门票B" not in text
    assert "33.3%" in text  # one of three placed bookings cancelled
    assert "15.0%" in text  # 3 of 20 places taken at 09:00 and 14:00


def test_tenant_b_bookings_are_not_in_tenant_a_figures(admin_login, seeded):
    text = admin_login("owner-a").get(f"{A}stats/by-booking-type.csv{PERIOD}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [
        ["booking_type", "name", "bookings", "places", "cancelled", "no_shows", "revenue", "currency"],
        ["entry", "门票A", "2", "3", "1", "0", "0", ""],
    ]


def test_the_heatmap_cell_of_nine_oclock_holds_tenant_as_bookings_only(admin_login, seeded):
    text = admin_login("owner-a").get(f"{A}stats/heatmap.csv{PERIOD}").get_data(as_text=True)
    rows = {(r[0], r[1]): r[2] for r in csv.reader(io.StringIO(text.lstrip("\ufeff")))}
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[DAY.weekday()]
    assert rows[weekday, "9"] == "2" and rows[weekday, "14"] == "0"


def test_the_page_offers_the_downloads_of_its_period(admin_login, seeded):
    text = admin_login("manager-a").get(f"{A}{PERIOD}&booking_type=entry").get_data(as_text=True)
    assert f"/admin/t/tenant-a/stats/summary.csv?from={DAY}&amp;to={DAY}&amp;booking_type=entry" in text
    assert f"/admin/t/tenant-a/stats/slots.xlsx?from={DAY}" in text


@pytest.mark.parametrize(
    ("query", "field", "kept"),
    [
        ("?from=2026-02-30&to=2026-03-01", "period-from-error", 'value="2026-02-30"'),
        ("?from=2026-03-10&to=2026-03-01", "period-to-error", 'value="2026-03-10"'),
        ("?from=2020-01-01&to=2026-01-01", "period-to-error", 'value="2020-01-01"'),
        ("?booking_type=b-only", "period-type-error", "b-only"),
        ("?from=%00", "period-from-error", ""),
    ],
)
def test_a_bad_period_is_shown_next_to_its_field_and_kept(admin_login, seeded, query, field, kept):
    page = admin_login("owner-a").get(f"{A}{query}")
    text = page.get_data(as_text=True)
    assert page.status_code in (400, 422)
    if page.status_code == 422:
        assert f'id="{field}"' in text and kept in text


@pytest.mark.parametrize("query", ["?from=9999-12-31", "?to=0001-01-01", "?from=nope", "?to=2020-13-01", "?booking_type=b-only", "?from=" + "9" * 150])
def test_a_bad_period_download_is_refused_not_a_server_error(admin_login, seeded, query):
    assert admin_login("owner-a").get(f"{A}stats/summary.csv{query}").status_code in (400, 422)


def test_unknown_tables_are_not_found(admin_login, seeded):
    assert admin_login("owner-a").get(f"{A}stats/customers.csv").status_code == 404


def test_another_tenants_staff_cannot_open_the_dashboard(admin_login, seeded):
    assert admin_login("owner-b").get(A).status_code == 404
    assert admin_login("owner-b").get(f"{A}stats/summary.csv").status_code == 404


def test_the_heatmap_rows_are_named_monday_first(admin_login, seeded):
    owner = admin_login("owner-a")
    owner.get("/lang/en")  # the language switch of the admin's top bar
    text = owner.get(f"{A}{PERIOD}").get_data(as_text=True)
    heatmap = text.split('class="heatmap"', 1)[1].split("</svg>", 1)[0]
    labels = [day for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun") if f">{day}</text>" in heatmap]
    assert labels == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert heatmap.index(">Mon</text>") < heatmap.index(">Sun</text>")
