"""Exports over HTTP: streamed xlsx and csv with the list's filters, local times, one row per booking."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

import pytest
from merchant_setup import SLOT_DAY, at
from openpyxl import load_workbook

EXPORTS = "/api/v1/t/tenant-a/admin/exports"
FIXED_HEADER = ["券码", "预约项目", "日期", "开始", "结束", "状态", "人数", "客户手机号", "姓名", "核销时间", "核销地点", "票种", "金额", "币种"]
# Then a column per field of the forms the exported bookings answered (none when nothing is exported).
HEADER = [*FIXED_HEADER, "name", "note"]


@pytest.fixture
def bookings(make_type, book, clock, front_desk):
    make_type("tenant-a", "entry")
    checked = book("tenant-a", at(9), "13800000001", name="Li Lei")
    later = book("tenant-a", at(14), "13800000002", name='=HYPERLINK("http://evil")')
    clock(at(8, 45))
    front_desk.post("/api/v1/t/tenant-a/admin/check-ins", json={"code": checked.voucher_code, "place": "East gate"})
    return checked, later


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_csv_has_one_row_per_booking_in_local_time(front_desk, bookings):
    checked, later = bookings

    response = front_desk.get(f"{EXPORTS}/bookings.csv")

    assert response.mimetype == "text/csv" and response.is_streamed
    assert response.headers["Content-Disposition"].startswith('attachment; filename="bookings-tenant-a-')
    assert response.get_data().startswith("\ufeff".encode())
    header, first, second = csv_rows(response)
    assert header == HEADER
    day = SLOT_DAY.isoformat()
    assert first == [checked.voucher_code, "参观", day, "09:00", "11:00", "checked_in", "1", "13800000001", "Li Lei", f"{day} 08:45:00", "East gate"] + [
        "",
        "0.00",
        "CNY",
        "Li Lei",
        "",
    ]
    assert second[:11] == [later.voucher_code, "参观", day, "14:00", "16:00", "confirmed", "1", "13800000002", '\'=HYPERLINK("http://evil")', "", ""]
    assert second[14] == '\'=HYPERLINK("http://evil")'


def test_xlsx_opens_with_typed_local_dates_and_times(front_desk, bookings):
    checked, later = bookings

    response = front_desk.get(f"{EXPORTS}/bookings.xlsx")

    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    header, first, second = sheet.iter_rows(values_only=True)
    assert list(header) == HEADER
    assert first == (
        checked.voucher_code,
        "参观",
        datetime.combine(SLOT_DAY, time()),
        time(9, 0),
        time(11, 0),
        "checked_in",
        1,
        "13800000001",
        "Li Lei",
        datetime.combine(SLOT_DAY, time(8, 45)),
        "East gate",
        None,
        0,
        "CNY",
        "Li Lei",
        None,
    )
    assert second[8] == '\'=HYPERLINK("http://evil")' and second[9] is None


def test_no_cell_of_the_xlsx_is_a_formula(front_desk, bookings):
    sheet = load_workbook(io.BytesIO(front_desk.get(f"{EXPORTS}/bookings.xlsx").get_data())).active

    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_exports_take_the_lists_filters(front_desk, bookings):
    checked, _ = bookings

    rows = csv_rows(front_desk.get(f"{EXPORTS}/bookings.csv", query_string={"status": "checked_in"}))
    nothing = csv_rows(front_desk.get(f"{EXPORTS}/bookings.csv", query_string={"from": (SLOT_DAY + timedelta(days=1)).isoformat()}))

    assert [row[0] for row in rows[1:]] == [checked.voucher_code]
    assert nothing == [FIXED_HEADER]


def test_an_empty_xlsx_export_has_its_header(front_desk, tenants):
    sheet = load_workbook(io.BytesIO(front_desk.get(f"{EXPORTS}/bookings.xlsx").get_data())).active

    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [FIXED_HEADER]


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
@pytest.mark.parametrize("query", [{"from": "someday"}, {"status": "lost"}, {"cursor": "abc"}, {"from": "2026-12-10", "to": "2026-12-01"}])
def test_bad_filters_are_a_422_before_anything_is_streamed(front_desk, tenants, problem, extension, query):
    problem(front_desk.get(f"{EXPORTS}/bookings.{extension}", query_string=query), 422, "validation_failed")


def test_exports_never_show_another_tenants_bookings(front_desk, manager_b, make_type, book):
    make_type("tenant-b", "entry")
    book("tenant-b", at(9), "13900000001")

    assert csv_rows(front_desk.get(f"{EXPORTS}/bookings.csv")) == [FIXED_HEADER]  # not even tenant-b's form fields
    assert len(csv_rows(manager_b.get("/api/v1/t/tenant-b/admin/exports/bookings.csv"))) == 2
