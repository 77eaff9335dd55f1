"""Bookings as a spreadsheet (xlsx) or csv, produced piece by piece while the rows are read.

Times are the tenant's local times, which is what staff plan by; a cell that
would start with ``=``, ``+``, ``-`` or ``@`` is prefixed with ``'`` so a
customer's name cannot become a formula when the file is opened.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy.orm import Session

from yuyue.bookings.queries import EVERY_BOOKING, BookingFilters, BookingRecord, check_filters, iter_bookings
from yuyue.tenancy.models import Tenant

HEADERS = {
    "en": ("Voucher", "Booking type", "Date", "Start", "End", "Status", "Party size", "Customer phone", "Names", "Checked in at", "Place"),
    "zh-Hans": ("券码", "预约项目", "日期", "开始", "结束", "状态", "人数", "客户手机号", "姓名", "核销时间", "核销地点"),
    "zh-Hant": ("券碼", "預約項目", "日期", "開始", "結束", "狀態", "人數", "客戶手機號碼", "姓名", "核銷時間", "核銷地點"),
}
NUMBER_FORMATS = {date: "yyyy-mm-dd", time: "hh:mm", datetime: "yyyy-mm-dd hh:mm:ss"}
COLUMN_WIDTHS = (14, 24, 12, 8, 8, 12, 10, 16, 30, 20, 16)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Bytes handed to the server at a time.
CHUNK = 64 * 1024

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv"


def bookings_csv(session: Session, tenant: Tenant, filters: BookingFilters = EVERY_BOOKING) -> Iterator[str]:
    """The csv text in pieces, UTF-8 with a byte-order mark so spreadsheet programs read Chinese correctly.

    The filters are checked at once, before the first piece is asked for.
    """
    check_filters(filters)
    return _csv_pieces(session, tenant, filters)


def _csv_pieces(session: Session, tenant: Tenant, filters: BookingFilters) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(_headers(tenant))
    for values in _rows(session, tenant, filters):
        writer.writerow([_csv_text(value) for value in values])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def bookings_xlsx(session: Session, tenant: Tenant, filters: BookingFilters = EVERY_BOOKING) -> Iterator[bytes]:
    """The xlsx file in pieces, built with openpyxl's write-only mode: rows go to disk, not into memory.

    The filters are checked at once, before the first piece is asked for.
    """
    check_filters(filters)
    return _xlsx_pieces(session, tenant, filters)


def _xlsx_pieces(session: Session, tenant: Tenant, filters: BookingFilters) -> Iterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Bookings")
    for index, width in enumerate(COLUMN_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.append(_headers(tenant))
    for values in _rows(session, tenant, filters):
        sheet.append([_xlsx_cell(sheet, value) for value in values])
    with tempfile.TemporaryFile() as file:
        workbook.save(file)
        file.seek(0)
        while chunk := file.read(CHUNK):
            yield chunk


def _headers(tenant: Tenant) -> tuple[str, ...]:
    return next((HEADERS[locale] for locale in tenant.locales or () if locale in HEADERS), HEADERS["en"])


def _rows(session: Session, tenant: Tenant, filters: BookingFilters) -> Iterator[tuple[Any, ...]]:
    zone = ZoneInfo(tenant.time_zone)
    for record in iter_bookings(session, tenant, filters):
        yield _row(record, zone, tenant.locales or ())


def _row(record: BookingRecord, zone: ZoneInfo, locales: list[str] | tuple[str, ...]) -> tuple[Any, ...]:
    booking, check_in = record.booking, record.check_in
    starts_at, ends_at = booking.starts_at.astimezone(zone), booking.ends_at.astimezone(zone)
    names = [person.name for person in record.people if person.name] or [record.customer.name or ""]
    return (
        booking.voucher_code or "",
        _text_in(record.booking_type.name, locales),
        booking.local_date,
        starts_at.time().replace(tzinfo=None),
        ends_at.time().replace(tzinfo=None),
        booking.status.value,
        booking.party_size,
        record.customer.phone,
        ", ".join(names),
        # Spreadsheets have no time zones: write the local wall-clock time.
        check_in.at.astimezone(zone).replace(tzinfo=None, microsecond=0) if check_in else None,
        (check_in.place or "") if check_in else "",
    )


def _text_in(text: Any, locales: list[str] | tuple[str, ...]) -> str:
    """Localized text in the tenant's first language that has it."""
    if isinstance(text, str):
        return text
    for locale in (*locales, "zh-Hans", "en", "zh-Hant"):
        if text.get(locale):
            return text[locale]
    return next(iter(text.values()), "")


def _defused(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _defused(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, str):
        return _defused(value)
    number_format = NUMBER_FORMATS.get(type(value))
    if number_format is None:
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.number_format = number_format
    return cell
