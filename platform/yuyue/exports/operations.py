"""Bookings as a spreadsheet (xlsx) or csv, produced piece by piece while the rows are read; the writers of both
formats (:func:`csv_pieces`, :func:`xlsx_pieces`) serve every export.

Times are the tenant's local times, which is what staff plan by; a cell that
would start with ``=``, ``+``, ``-`` or ``@`` is prefixed with ``'`` so a
customer's name (or a merchant's field label) cannot become a formula when the
file is opened.

After the fixed columns (voucher … place, the tickets as ``成人×2, 儿童×1``, the
total charged and its currency) comes one column per field of the forms the
exported bookings answered: every field of every form version they used,
headed with the field's label in the tenant's language. A booking whose form
version has no such field leaves the cell empty. A person list is one cell:
each person numbered, their answers in the form's order (``1. 张三
110105********0011; 2. …``). ID numbers are always masked to their region and
last four characters (``110105********0011``): no staff role may see them in
full yet.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from yuyue.bookings.queries import EVERY_BOOKING, BookingFilters, BookingRecord, check_filters, form_versions_used, iter_bookings
from yuyue.customers.operations import mask_id_number
from yuyue.forms.models import FormVersion
from yuyue.tenancy.models import Tenant

HEADERS = {
    "en": (
        "Voucher",
        "Booking type",
        "Date",
        "Start",
        "End",
        "Status",
        "Party size",
        "Customer phone",
        "Names",
        "Checked in at",
        "Place",
        "Tickets",
        "Total",
        "Currency",
    ),
    "zh-Hans": ("券码", "预约项目", "日期", "开始", "结束", "状态", "人数", "客户手机号", "姓名", "核销时间", "核销地点", "票种", "金额", "币种"),
    "zh-Hant": ("券碼", "預約項目", "日期", "開始", "結束", "狀態", "人數", "客戶手機號碼", "姓名", "核銷時間", "核銷地點", "票種", "金額", "幣種"),
}
YES_NO = {"en": ("yes", "no"), "zh-Hans": ("是", "否"), "zh-Hant": ("是", "否")}
NUMBER_FORMATS = {date: "yyyy-mm-dd", time: "hh:mm", datetime: "yyyy-mm-dd hh:mm:ss", Decimal: "0.00"}
COLUMN_WIDTHS = (14, 24, 12, 8, 8, 12, 10, 16, 30, 20, 16, 24, 10, 8)
ANSWER_COLUMN_WIDTH = 20
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
    forms = _export_forms(session, tenant, filters)
    yield from csv_pieces(_headers(tenant, forms), _rows(session, tenant, filters, forms))


def csv_pieces(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """A table as csv text in pieces of about :data:`CHUNK` characters, with a byte-order mark; no cell can become a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([_defused(header) for header in headers])
    for values in rows:
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
    forms = _export_forms(session, tenant, filters)
    widths = COLUMN_WIDTHS + (ANSWER_COLUMN_WIDTH,) * len(forms.columns)
    yield from xlsx_pieces("Bookings", widths, _headers(tenant, forms), _rows(session, tenant, filters, forms))


def xlsx_pieces(title: str, widths: Sequence[int], headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """A table as one sheet of an xlsx file, in pieces; rows go to disk as they come, not into memory; no cell can become a formula."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append([_defused(header) for header in headers])
    for values in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in values])
    with tempfile.TemporaryFile() as file:
        workbook.save(file)
        file.seek(0)
        while chunk := file.read(CHUNK):
            yield chunk


@dataclass(frozen=True)
class AnswerColumn:
    """One form field's column: its key in the answers and its heading."""

    key: str
    heading: str


@dataclass(frozen=True)
class FormFields:
    """What one form version says about its fields: their schemas, their UI settings (labels, options) and their order."""

    properties: Mapping[str, Any]
    ui: Mapping[str, Any]
    order: tuple[str, ...]

    @classmethod
    def of(cls, version: FormVersion) -> FormFields:
        properties = version.definition.get("properties") or {}
        ui = version.ui or {}
        shown = [key for key in ui.get("order") or () if key in properties]
        return cls(properties, ui.get("fields") or {}, tuple(shown + [key for key in properties if key not in shown]))


NO_FIELDS = FormFields({}, {}, ())


@dataclass(frozen=True)
class ExportForms:
    """The answer columns of an export, and the form version of each (booking type id, version) its bookings used."""

    columns: list[AnswerColumn]
    versions: dict[tuple[int, int], FormFields]


def export_locale(tenant: Tenant) -> str:
    """The language of an export's headings: the tenant's first that exports know, else English."""
    return next((locale for locale in tenant.locales or () if locale in HEADERS), "en")


def _headers(tenant: Tenant, forms: ExportForms) -> tuple[str, ...]:
    return HEADERS[export_locale(tenant)] + tuple(column.heading for column in forms.columns)


def _export_forms(session: Session, tenant: Tenant, filters: BookingFilters) -> ExportForms:
    """A column per field of every form version the exported bookings used, each field once, in the forms' order.

    Headed with the field's label in the tenant's language (else zh-Hans, en,
    the schema's title, the key); the newest version's label wins.
    """
    columns: dict[str, AnswerColumn] = {}
    versions: dict[tuple[int, int], FormFields] = {}
    for version in form_versions_used(session, tenant, filters):
        fields = versions[(version.booking_type_id, version.version)] = FormFields.of(version)
        for key in fields.order:
            label = (fields.ui.get(key) or {}).get("label") or fields.properties[key].get("title") or key
            columns.setdefault(key, AnswerColumn(key, _text_in(label, tenant.locales or ())))
    return ExportForms(list(columns.values()), versions)


def _rows(session: Session, tenant: Tenant, filters: BookingFilters, forms: ExportForms) -> Iterator[tuple[Any, ...]]:
    zone, locales = ZoneInfo(tenant.time_zone), tenant.locales or ()
    yes_no = YES_NO[export_locale(tenant)]
    for record in iter_bookings(session, tenant, filters):
        booking = record.booking
        # A booking made after the columns were chosen may use a newer version: its new fields stay out.
        fields = forms.versions.get((booking.booking_type_id, booking.form_version), NO_FIELDS)
        answers = (
            _answer_cell(booking.answers.get(column.key), fields.properties.get(column.key), fields.ui.get(column.key), locales, yes_no)
            for column in forms.columns
        )
        yield _row(record, zone, locales) + tuple(answers)


def _row(record: BookingRecord, zone: ZoneInfo, locales: list[str] | tuple[str, ...]) -> tuple[Any, ...]:
    booking, check_in = record.booking, record.check_in
    starts_at, ends_at = booking.starts_at.astimezone(zone), booking.ends_at.astimezone(zone)
    names = [person.name for person in record.people if person.name] or [record.customer.name or ""]
    tickets = [f"{_text_in(line['label'], locales)}×{line['quantity']}" for line in booking.price_lines or () if line["key"] in (booking.tickets or {})]
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
        ", ".join(tickets),
        # Minor units (fen) to the currency's main unit, two decimals.
        Decimal(booking.price_amount).scaleb(-2),
        booking.currency,
    )


def answer_lines(version: FormVersion, answers: Mapping[str, Any], locales: list[str] | tuple[str, ...]) -> list[tuple[str, Any]]:
    """One booking's answers as its export row writes them, each with its label from ``version`` (the form it used), in the form's order.

    For a booking's page: what staff read there is what the file they download says.
    """
    fields = FormFields.of(version)
    yes_no = YES_NO[next((locale for locale in locales if locale in YES_NO), "en")]
    lines = []
    for key in fields.order:
        label = (fields.ui.get(key) or {}).get("label") or fields.properties[key].get("title") or key
        lines.append((_text_in(label, locales), _answer_cell(answers.get(key), fields.properties[key], fields.ui.get(key), locales, yes_no)))
    return lines


def _answer_cell(value: Any, spec: Any, ui: Any, locales: list[str] | tuple[str, ...], yes_no: tuple[str, str]) -> Any:
    """One answer as a cell: ID numbers masked, options by their label, a person list as one readable text."""
    if value is None or not isinstance(spec, Mapping):
        return None
    if _is_id_number(spec):
        return mask_id_number(value) if isinstance(value, str) else None
    if isinstance(value, bool):
        return yes_no[0] if value else yes_no[1]
    items = spec.get("items") if isinstance(spec.get("items"), Mapping) else {}
    if isinstance(value, list) and isinstance(items.get("properties"), Mapping):
        ui_fields = (ui.get("fields") if isinstance(ui, Mapping) else None) or {}
        return "; ".join(
            f"{number}. "
            + " ".join(
                text
                for text in (_text(_answer_cell(person.get(key), item, ui_fields.get(key), locales, yes_no)) for key, item in items["properties"].items())
                if text
            )
            for number, person in enumerate(value, 1)
            if isinstance(person, Mapping)
        )
    options = spec.get("x-options") or items.get("x-options") or ()
    labels = {option["value"]: option.get("label") for option in options if isinstance(option, Mapping) and isinstance(option.get("value"), str | int | float)}
    if isinstance(value, list):
        return ", ".join(_option_text(item, labels, locales) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return _option_text(value, labels, locales) if labels else value


def _option_text(value: Any, labels: Mapping[Any, Any], locales: list[str] | tuple[str, ...]) -> str:
    """A chosen option by its label in the tenant's language, or as it was stored."""
    label = labels.get(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None
    return _text_in(label, locales) if label else _text(value)


def _is_id_number(spec: Mapping[str, Any]) -> bool:
    return spec.get("x-person") == "id_number" or spec.get("x-field") == "id_card" or spec.get("format") == "cn-id-card"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _text_in(text: Any, locales: list[str] | tuple[str, ...]) -> str:
    """Localized text in the tenant's first language that has it, else zh-Hans, en, zh-Hant."""
    if not isinstance(text, Mapping):
        return _text(text)
    for locale in (*locales, "zh-Hans", "en", "zh-Hant"):
        if isinstance(text.get(locale), str) and text[locale]:
            return text[locale]
    return next((value for value in text.values() if isinstance(value, str)), "")


def _defused(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _defused(value)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
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
