"""Each figure as a table (a header and rows), and a table as a csv or xlsx download: the merchant API and the admin page export the same files.

Column names are stable English keys for spreadsheets and scripts; merchant-entered names come
localized through ``name_of`` (the caller knows the reader's language). Times are the tenant's wall clock.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from sqlalchemy.orm import Session

from yuyue.stats import figures
from yuyue.stats.period import Period

__all__ = ["CSV_MIMETYPE", "TABLES", "XLSX_MIMETYPE", "WEEKDAY_KEYS", "Table", "csv_bytes", "figure_table", "table_file", "xlsx_bytes"]

CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Table = tuple[tuple[str, ...], list[tuple[Any, ...]]]
NameOf = Callable[[Any], str]


def _rate(value: float | None) -> float | str:
    return "" if value is None else value


def _summary(session: Session, period: Period, name_of: NameOf) -> Table:
    found = figures.summary(session, period)
    rows: list[tuple[Any, ...]] = [
        ("from", period.first.isoformat()),
        ("to", period.last.isoformat()),
        ("time_zone", period.zone.key),
        ("booking_type", period.booking_type.slug if period.booking_type else ""),
        ("bookings_placed", found.placed),
        ("bookings_kept", found.kept),
        ("places_kept", found.places),
        ("cancelled", found.cancelled),
        ("cancellation_rate", _rate(found.cancellation_rate)),
        ("attendance_settled", found.settled),
        ("no_shows", found.no_shows),
        ("no_show_rate", _rate(found.no_show_rate)),
        ("slots", found.utilisation.slots),
        ("capacity", found.utilisation.capacity),
        ("places_taken", found.utilisation.taken),
        ("utilisation", _rate(found.utilisation.rate)),
    ]
    for money in found.revenue:
        rows += [(f"collected_{money.currency}", money.collected), (f"refunded_{money.currency}", money.refunded), (f"revenue_{money.currency}", money.net)]
    return ("figure", "value"), rows


def _heatmap(session: Session, period: Period, name_of: NameOf) -> Table:
    cells = figures.heatmap(session, period)
    return ("weekday", "hour", "bookings", "places"), [(WEEKDAY_KEYS[c.weekday], c.hour, c.bookings, c.places) for c in cells]


def _by_booking_type(session: Session, period: Period, name_of: NameOf) -> Table:
    rows = []
    for row in figures.by_booking_type(session, period):
        money = row.revenue or (figures.Revenue("", 0, 0),)
        for revenue in money:
            rows.append((row.slug, name_of(row.name), row.bookings, row.places, row.cancelled, row.no_shows, revenue.net, revenue.currency))
    return ("booking_type", "name", "bookings", "places", "cancelled", "no_shows", "revenue", "currency"), rows


def _ticket_types(session: Session, period: Period, name_of: NameOf) -> Table:
    rows = [(t.booking_type, t.ticket, name_of(t.label), t.places) for t in figures.ticket_figures(session, period)]
    return ("booking_type", "ticket_type", "name", "places"), rows


def _by_resource(session: Session, period: Period, name_of: NameOf) -> Table:
    rows = [(r.code, r.kind, name_of(r.name), r.bookings, r.places) for r in figures.by_resource(session, period)]
    return ("resource", "kind", "name", "bookings", "places"), rows


def _slots(session: Session, period: Period, name_of: NameOf) -> Table:
    rows = [
        (s.booking_type, s.local_start(period.zone).isoformat(), s.capacity, s.taken, _rate(s.utilisation), "yes" if s.closed else "")
        for s in figures.slot_figures(session, period)
    ]
    return ("booking_type", "starts_at", "capacity", "taken", "utilisation", "closed"), rows


# URL name of the figure → its table.
TABLES: dict[str, Callable[[Session, Period, NameOf], Table]] = {
    "summary": _summary,
    "heatmap": _heatmap,
    "by-booking-type": _by_booking_type,
    "ticket-types": _ticket_types,
    "by-resource": _by_resource,
    "slots": _slots,
}


def figure_table(session: Session, figure: str, period: Period, name_of: NameOf) -> Table:
    return TABLES[figure](session, period, name_of)


def _cell(value: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula is kept as text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_bytes(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese names right."""
    header, rows = table
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def xlsx_bytes(table: Table, sheet: str) -> bytes:
    header, rows = table
    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet[:31])
    worksheet.append(list(header))
    for row in rows:
        worksheet.append([_cell(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table_file(session: Session, table: str, extension: str, period: Period, name_of: NameOf, tenant_slug: str) -> tuple[bytes, str, str]:
    """``table`` of ``period`` as a file: its bytes, media type and name (tenant, figure and days), for the API and the admin alike."""
    rows = figure_table(session, table, period, name_of)
    body, mimetype = (csv_bytes(rows), f"{CSV_MIMETYPE}; charset=utf-8") if extension == "csv" else (xlsx_bytes(rows, table), XLSX_MIMETYPE)
    return body, mimetype, f"{table}-{tenant_slug}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.{extension}"
