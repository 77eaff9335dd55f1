"""The merchant API's statistics: the seeded figures as JSON and as files, who may read them, and what bad periods get."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from yuyue.tenancy.models import StaffRole

BASE = "/api/v1/t/berlin/admin/stats"
AUTUMN = "?from=2026-10-24&to=2026-10-25"
FIGURES = ("summary", "heatmap", "by-booking-type", "by-resource", "slots")
TABLES = ("summary", "heatmap", "by-booking-type", "ticket-types", "by-resource", "slots")


def _same(value) -> object:
    """A cell as both files hold it: a number whatever its spelling (0 and 0.0), else its text."""
    text = "" if value is None else str(value)
    try:
        return float(text)
    except ValueError:
        return text


@pytest.fixture
def manager(berlin, other_tenant, staff_client):
    return staff_client("berlin", StaffRole.manager)


def test_summary_has_the_seeded_answers(manager):
    body = manager.get(f"{BASE}/summary{AUTUMN}").get_json()
    assert body["period"] == {"from": "2026-10-24", "to": "2026-10-25", "time_zone": "Europe/Berlin", "booking_type": None}
    assert body["bookings"]["placed"] == 7 and body["bookings"]["kept"] == 5 and body["bookings"]["places"] == 10
    assert (body["cancellation_rate"], body["no_show_rate"]) == (0.2857, 0.25)
    assert body["utilisation"] == {"slots": 10, "capacity": 100, "taken": 10, "rate": 0.1}
    assert body["revenue"] == [{"currency": "CNY", "collected": 17000, "refunded": 5000, "net": 12000}]


def test_heatmap_cells_are_local_hours(manager):
    cells = manager.get(f"{BASE}/heatmap{AUTUMN}").get_json()["cells"]
    assert len(cells) == 168
    booked = {(c["weekday"], c["hour"]): c["bookings"] for c in cells if c["bookings"]}
    assert booked == {(6, 1): 1, (6, 2): 1, (6, 3): 1, (6, 10): 1, (5, 10): 1}


def test_by_booking_type_names_follow_accept_language_and_lists_ticket_types(manager):
    body = manager.get(f"{BASE}/by-booking-type{AUTUMN}", headers={"Accept-Language": "en"}).get_json()
    assert [(t["slug"], t["name"], t["bookings"]) for t in body["booking_types"]] == [("tour", "Tour", 4), ("guided", "Guided", 1)]
    assert [(t["ticket_type"], t["name"], t["places"]) for t in body["ticket_types"]] == [("adult", "Adult", 2), ("child", "Child", 1)]
    chinese = manager.get(f"{BASE}/by-booking-type{AUTUMN}", headers={"Accept-Language": ""}).get_json()  # the tenant's own language
    assert chinese["booking_types"][0]["name"] == "导览"


def test_slots_name_the_busiest_with_its_local_offset(manager):
    body = manager.get(f"{BASE}/slots{AUTUMN}").get_json()
    assert body["busiest"][0] == {
        "booking_type": "tour",
        "starts_at": "2026-10-25T03:00:00+01:00",
        "capacity": 10,
        "taken": 3,
        "utilisation": 0.3,
        "closed": False,
    }
    assert len(body["slots"]) == 10 and body["utilisation"]["rate"] == 0.1


def test_by_resource_lists_no_resource_when_none_is_held(manager):
    assert manager.get(f"{BASE}/by-resource{AUTUMN}").get_json()["resources"] == []


def test_a_booking_type_filter_applies_to_every_figure(manager):
    body = manager.get(f"{BASE}/summary{AUTUMN}&booking_type=guided").get_json()
    assert body["period"]["booking_type"] == "guided" and body["bookings"]["placed"] == 2


@pytest.mark.parametrize("table", TABLES)
def test_every_table_downloads_as_csv_and_xlsx_with_the_same_rows(manager, table):
    as_csv = manager.get(f"{BASE}/{table}.csv{AUTUMN}")
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert f'filename="{table}-berlin-20261024-20261025.csv"' in as_csv.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True).lstrip("\ufeff"))))
    as_xlsx = manager.get(f"{BASE}/{table}.xlsx{AUTUMN}")
    sheet = load_workbook(io.BytesIO(as_xlsx.data), read_only=True).active
    assert [[_same(v) for v in row] for row in sheet.iter_rows(values_only=True)] == [[_same(v) for v in row] for row in rows]


def test_summary_csv_holds_the_rates_and_revenue(manager):
    text = manager.get(f"{BASE}/summary.csv{AUTUMN}").get_data(as_text=True)
    values = dict(row for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert (values["cancellation_rate"], values["no_show_rate"], values["utilisation"], values["revenue_CNY"]) == ("0.2857", "0.25", "0.1", "12000")


@pytest.mark.parametrize("figure", [*FIGURES, "summary.csv", "heatmap.xlsx"])
def test_plain_staff_tokens_are_forbidden(berlin, staff_client, problem, figure):
    problem(staff_client("berlin").get(f"{BASE}/{figure}"), 403, "forbidden")


@pytest.mark.parametrize("figure", FIGURES)
def test_no_token_is_refused(berlin, client, problem, figure):
    problem(client.get(f"{BASE}/{figure}"), 401)


@pytest.mark.parametrize("figure", FIGURES)
def test_another_tenants_token_is_forbidden(berlin, other_tenant, staff_client, problem, figure):
    problem(staff_client("other", StaffRole.owner).get(f"{BASE}/{figure}"), 403, "forbidden")


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ("?from=yesterday", "/from"),
        ("?to=2026-02-30", "/to"),
        ("?from=2026-10-25&to=2026-10-01", "/to"),
        ("?from=2020-01-01&to=2026-01-01", "/to"),
        ("?to=99999-01-01", "/to"),
        ("?booking_type=tour%00", ""),
        ("?booking_type=" + "x" * 61, "/booking_type"),
        ("?limit=5", "/limit"),
    ],
)
@pytest.mark.parametrize("figure", ["summary", "slots", "heatmap.csv"])
def test_bad_periods_are_problems(manager, problem, figure, query, pointer):
    body = problem(manager.get(f"{BASE}/{figure}{query}"), 422, "validation_failed")
    assert pointer in [error["pointer"] for error in body["errors"]] or (pointer == "" and body["errors"])


def test_another_tenants_booking_type_is_unknown_here(manager, problem):
    body = problem(manager.get(f"{BASE}/summary?booking_type=b-only"), 422, "validation_failed")
    assert body["errors"][0]["code"] == "unknown_booking_type"


def test_the_other_tenant_sees_only_its_own_bookings(berlin, other_tenant, staff_client):
    body = staff_client("other", StaffRole.manager).get("/api/v1/t/other/admin/stats/summary?from=2026-10-24&to=2026-10-25").get_json()
    assert body["bookings"]["placed"] == 3 and body["revenue"] == []
    assert body["utilisation"]["capacity"] == 2 * (7 + 7)
