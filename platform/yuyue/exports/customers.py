"""A tenant's customers as xlsx or csv: the rows a search shows, every page of them, masked as the reader sees them.

The columns are those of the merchant API's list (id, name, phone, tags, bookings, points, banned, since);
times are the tenant's local times, as in the bookings export.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from yuyue.bookings.customer_records import CustomerFilters, CustomerRow, iter_customers
from yuyue.exports.operations import YES_NO, csv_pieces, export_locale, xlsx_pieces
from yuyue.presenting.customers import masked_phone
from yuyue.tenancy.models import Tenant

__all__ = ["customers_csv", "customers_xlsx"]

HEADERS = {
    "en": ("ID", "Name", "Phone", "Tags", "Bookings", "Points", "Banned", "Customer since"),
    "zh-Hans": ("编号", "姓名", "手机号", "标签", "预约数", "积分", "禁约中", "注册时间"),
    "zh-Hant": ("編號", "姓名", "手機號碼", "標籤", "預約數", "積分", "禁約中", "註冊時間"),
}
COLUMN_WIDTHS = (8, 20, 16, 30, 10, 10, 8, 20)


def customers_csv(session: Session, tenant: Tenant, filters: CustomerFilters, *, full: bool, now: datetime) -> Iterator[str]:
    """The csv text in pieces; ``full``: phones unmasked (see :func:`yuyue.presenting.customers.sees_in_full`)."""
    return csv_pieces(HEADERS[export_locale(tenant)], _rows(session, tenant, filters, full, now))


def customers_xlsx(session: Session, tenant: Tenant, filters: CustomerFilters, *, full: bool, now: datetime) -> Iterator[bytes]:
    """The xlsx file in pieces; ``full`` as for :func:`customers_csv`."""
    return xlsx_pieces("Customers", COLUMN_WIDTHS, HEADERS[export_locale(tenant)], _rows(session, tenant, filters, full, now))


def _rows(session: Session, tenant: Tenant, filters: CustomerFilters, full: bool, now: datetime) -> Iterator[tuple[Any, ...]]:
    zone, yes_no = ZoneInfo(tenant.time_zone), YES_NO[export_locale(tenant)]
    for row in iter_customers(session, tenant, filters, masked=not full, now=now):
        yield _row(row, zone, full, yes_no)


def _row(row: CustomerRow, zone: ZoneInfo, full: bool, yes_no: tuple[str, str]) -> tuple[Any, ...]:
    customer = row.customer
    return (
        customer.id,
        customer.name or "",
        (customer.phone if full else masked_phone(customer.phone)) or "",
        ", ".join(customer.tags),
        row.bookings,
        row.points,
        yes_no[0] if row.banned else yes_no[1],
        # Spreadsheets have no time zones: write the local wall-clock time.
        customer.created_at.astimezone(zone).replace(tzinfo=None, microsecond=0),
    )
