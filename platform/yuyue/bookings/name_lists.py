"""Group name lists (团队名单): the people a group booking admits beyond those its form names, uploaded as an xlsx or csv file.

A group books by headcount and names only its leader on the form; the rest
come later, on a list the booker or the merchant uploads and may replace as a
whole until the visit starts. Columns are found by their headers, in Chinese
or English; every ID number must pass the GB 11643 checksum, none may appear
twice, and the list may not name more people than the booking's headcount.
The rows become the booking's people (``booking_persons`` marked
``on_name_list``), so identity quotas, bans, check-in and exports see them,
and the booking type's policies judge them as they judge people on a form.

The file is hostile until read: its size, its rows, its columns and (for an
xlsx) the unpacked size of its archive are bounded before anything large is
built, formulas are refused, and whatever a reader library raises on a broken
file becomes a 422, never a 500.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from yuyue.behaviour import Person
from yuyue.bookings import policies
from yuyue.bookings.models import Booking, BookingPerson, BookingStatus
from yuyue.bookings.placement import Actor, get_booking, log_change, person_row
from yuyue.catalog.models import BookingType
from yuyue.customers.models import Customer
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import FieldProblem, InvalidInput, Refused
from yuyue.forms.formats import FormatProblem, id_card_birth_date, is_cn_id_card, is_cn_mobile, normalize_id_card, normalize_mobile
from yuyue.tenancy.models import Tenant

__all__ = [
    "CSV_MEDIA_TYPE",
    "MAX_BYTES",
    "MAX_ROWS",
    "XLSX_MEDIA_TYPE",
    "ListedPerson",
    "name_list",
    "read_name_list",
    "replace_name_list",
]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"
MAX_BYTES = 1024 * 1024
MAX_ROWS = 1000
# Bounds on what an xlsx unpacks to (a 1 MiB zip of repeated cells can unpack to gigabytes) and on what is scanned.
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 200
MAX_COLUMNS = 50
MAX_SCANNED_ROWS = 10 * MAX_ROWS
MAX_NAME_LENGTH = 40
# Problems reported for one upload: enough to fix a file in one go, small enough to answer.
MAX_PROBLEMS = 100
# Charsets a csv may name; without one it is read as UTF-8 (a BOM allowed), else as GB 18030, a superset of the GBK Excel writes in China.
CSV_CHARSETS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030"}

# Header (spaces, underscores and case ignored) → the column it names.
HEADERS = {
    "姓名": "name",
    "名字": "name",
    "name": "name",
    "fullname": "name",
    "证件号码": "id_number",
    "证件号": "id_number",
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "身份证": "id_number",
    "idnumber": "id_number",
    "idcard": "id_number",
    "idcardnumber": "id_number",
    "手机": "phone",
    "手机号": "phone",
    "手机号码": "phone",
    "联系电话": "phone",
    "phone": "phone",
    "mobile": "phone",
}
REQUIRED_COLUMNS = ("name", "id_number")
_HEADER_NOISE = re.compile(r"[\s_\-()（）:：*]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ListedPerson:
    """One row of a name list, normalized: ``index`` is its place among the rows (``/rows/<index>``), ``line`` its line in the file."""

    name: str
    id_number: str
    phone: str | None
    index: int
    line: int


# --- reading a file -----------------------------------------------------------------


def read_name_list(content: bytes, media_type: str, charset: str | None = None) -> list[ListedPerson]:
    """The people a name list file names, every problem reported at once at ``/rows/<index>/<column>``.

    :param media_type: :data:`XLSX_MEDIA_TYPE` or :data:`CSV_MEDIA_TYPE`.
    :param charset: the csv's charset, if the upload named one.
    :raises InvalidInput: ``unreadable_name_list`` (not a spreadsheet of that
        kind, or not text in a known encoding), ``name_list_too_large``,
        ``empty_name_list``, or ``validation_failed`` with the rows' problems.
    """
    if len(content) > MAX_BYTES:
        raise InvalidInput(_l("a name list is at most %(kib)s KiB", kib=MAX_BYTES // 1024), code="name_list_too_large")
    rows = _xlsx_rows(content) if media_type == XLSX_MEDIA_TYPE else _csv_rows(content, charset)
    return _people(rows)


def _unreadable(message: str) -> InvalidInput:
    return InvalidInput(message, code="unreadable_name_list", errors=[FieldProblem("", message, "unreadable_name_list")])


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    _check_archive(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:  # openpyxl raises anything from KeyError to XML errors on a broken file; all mean "not readable"
        raise _unreadable(_l("the file is not an xlsx workbook openpyxl can read; save it again as .xlsx or .csv")) from None
    return _sheet_rows(workbook)


def _sheet_rows(workbook: Any) -> Iterator[tuple[int, Sequence[Any]]]:
    """The first sheet's rows, numbered from 1; read lazily, so a broken sheet fails while its rows are read, and is reported so."""
    try:
        sheets = workbook.worksheets
        if not sheets:
            return
        yield from _numbered(sheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True))
    except InvalidInput:
        raise
    except Exception:  # as in _xlsx_rows: a sheet that breaks while read is not readable
        raise _unreadable(_l("the workbook's first sheet cannot be read; save it again as .xlsx or .csv")) from None
    finally:
        workbook.close()


def _numbered(rows: Iterable[Sequence[Any]]) -> Iterator[tuple[int, Sequence[Any]]]:
    """Rows numbered from 1, refused past :data:`MAX_SCANNED_ROWS`, blank ones included: a file of empty lines is no cheaper to read."""
    for number, row in enumerate(rows, 1):
        if number > MAX_SCANNED_ROWS:
            raise InvalidInput(
                _l("a name list has at most %(max_scanned_rows)s lines, blank ones included", max_scanned_rows=MAX_SCANNED_ROWS),
                code="name_list_too_large",
                errors=[FieldProblem("/rows", _l("at most %(max_scanned_rows)s lines", max_scanned_rows=MAX_SCANNED_ROWS), "too_many_rows")],
            )
        yield number, row


def _check_archive(content: bytes) -> None:
    """An xlsx is a zip: refuse one that is not, or that would unpack to more than we read."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except Exception:  # zipfile raises BadZipFile, NotImplementedError, ValueError, … on a file that is not a zip it reads
        raise _unreadable(_l("the file is not an xlsx workbook (an xlsx file is a zip archive); save it as .xlsx or .csv")) from None
    if len(members) > MAX_ARCHIVE_MEMBERS or sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise InvalidInput(
            _l("the workbook unpacks to more than %(mib)s MiB; send the name list alone", mib=MAX_UNPACKED_BYTES // (1024 * 1024)),
            code="name_list_too_large",
        )


def _csv_rows(content: bytes, charset: str | None) -> Iterator[tuple[int, Sequence[Any]]]:
    text = _decoded(content, charset)
    if "\x00" in text:
        raise _unreadable(_l("the file is not text: save the name list as .csv or .xlsx"))
    try:
        # Materialized here so a malformed line is reported as the file's problem, not in the middle of checking rows.
        rows = list(_numbered(row[:MAX_COLUMNS] for row in csv.reader(io.StringIO(text, newline=""))))
    except csv.Error as error:
        raise _unreadable(_l("the csv file cannot be read: %(error)s", error=error)) from None
    return iter(rows)


def _decoded(content: bytes, charset: str | None) -> str:
    if charset is not None:
        codec = CSV_CHARSETS.get(charset.lower())
        if codec is None:
            raise _unreadable(_l("a csv name list is read as UTF-8 or GBK, not %(charset)r", charset=charset[:40]))
        codecs = [codec]
    else:
        codecs = ["utf-8-sig", "gb18030"]
    for codec in codecs:
        try:
            return content.decode(codec)
        except UnicodeDecodeError:
            continue
    raise _unreadable(_l("the csv file is neither UTF-8 nor GBK text; save it as 'CSV UTF-8'"))


# --- checking rows --------------------------------------------------------------------


def _people(rows: Iterator[tuple[int, Sequence[Any]]]) -> list[ListedPerson]:
    """The rows under the header, blank ones skipped; ``/rows/<index>`` counts the rows that are not blank."""
    header = next(((number, row) for number, row in rows if not _blank(row)), None)
    if header is None:
        raise InvalidInput(
            _l("the name list is empty"), code="empty_name_list", errors=[FieldProblem("/rows", _l("the file has no header and no rows"), "empty_name_list")]
        )
    columns = _columns(header[1])
    people: list[ListedPerson] = []
    problems: list[FieldProblem] = []
    first_row: dict[str, int] = {}
    index = 0
    for number, row in rows:
        if _blank(row):
            continue
        if index == MAX_ROWS:
            raise InvalidInput(
                _l("a name list has at most %(max_rows)s rows", max_rows=MAX_ROWS),
                code="name_list_too_large",
                errors=[FieldProblem("/rows", _l("at most %(max_rows)s rows", max_rows=MAX_ROWS), "too_many_rows")],
            )
        person, row_problems = _person(row, columns, number, index)
        listed_id = _id_number_of(row, columns)
        if listed_id in first_row:
            row_problems.append(
                FieldProblem(
                    f"/rows/{index}/id_number",
                    _l("row %(number)s: the same ID number as row %(first)s", number=number, first=first_row[listed_id]),
                    "duplicate_id_number",
                )
            )
        elif listed_id:
            first_row[listed_id] = number
        problems += row_problems
        if person is not None and not row_problems:
            people.append(person)
        index += 1
    if problems:
        raise InvalidInput(_l("%(count)s problem(s) in the name list", count=len(problems)), errors=problems[:MAX_PROBLEMS])
    if not people:
        raise InvalidInput(
            _l("the name list has a header but no rows"),
            code="empty_name_list",
            errors=[FieldProblem("/rows", _l("no rows under the header"), "empty_name_list")],
        )
    return people


def _blank(row: Sequence[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row)


def _columns(header: Sequence[Any]) -> dict[str, int]:
    """Column name → its index in each row; unknown headers (序号, 性别, …) are ignored."""
    columns: dict[str, int] = {}
    problems = []
    for index, cell in enumerate(header):
        column = HEADERS.get(_HEADER_NOISE.sub("", str(cell)).lower()) if cell is not None else None
        if column is None:
            continue
        if column in columns:
            problems.append(FieldProblem(f"/columns/{column}", _l("two columns hold the %(column)s", column=column.replace("_", " ")), "duplicate_column"))
        columns[column] = index
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            names = ", ".join(header for header, named in HEADERS.items() if named == column)
            problems.append(
                FieldProblem(
                    f"/columns/{column}",
                    _l("the first row needs a %(column)s column headed one of: %(names)s", column=column.replace("_", " "), names=names),
                    "missing_column",
                )
            )
    if problems:
        raise InvalidInput(_l("the name list's header row is not one we read"), errors=problems)
    return columns


def _person(row: Sequence[Any], columns: dict[str, int], number: int, index: int) -> tuple[ListedPerson | None, list[FieldProblem]]:
    at = f"/rows/{index}"
    values = {column: _text(row[index]) if index < len(row) else None for column, index in columns.items()}
    problems = []
    for column, value in values.items():
        if value is not None and value.startswith("="):
            problems.append(FieldProblem(f"{at}/{column}", _l("row %(number)s: a formula; type the value itself", number=number), "formula_not_allowed"))
    if problems:
        return None, problems
    name, id_number, phone = values["name"], values["id_number"], values.get("phone")
    if not name:
        problems.append(FieldProblem(f"{at}/name", _l("row %(number)s: the name is missing", number=number), "required"))
    elif len(name) > MAX_NAME_LENGTH or _CONTROL.search(name):
        problems.append(
            FieldProblem(
                f"{at}/name",
                _l("row %(number)s: a name of at most %(max_name_length)s printable characters", number=number, max_name_length=MAX_NAME_LENGTH),
                "invalid_name",
            )
        )
    if not id_number:
        problems.append(FieldProblem(f"{at}/id_number", _l("row %(number)s: the ID number is missing", number=number), "required"))
    else:
        id_number = normalize_id_card(id_number)
        problems += _format_problems(is_cn_id_card, id_number, f"{at}/id_number", number)
    if phone:
        phone = normalize_mobile(phone)
        problems += _format_problems(is_cn_mobile, phone, f"{at}/phone", number)
    if problems:
        return None, problems
    return ListedPerson(name, id_number, phone or None, index, number), []


def _id_number_of(row: Sequence[Any], columns: dict[str, int]) -> str | None:
    """The row's ID number as compared for duplicates, valid or not."""
    index = columns["id_number"]
    text = _text(row[index]) if index < len(row) else None
    return normalize_id_card(text) if text else None


def _format_problems(check: Any, value: str, pointer: str, number: int) -> list[FieldProblem]:
    try:
        check(value)
    except FormatProblem as problem:
        return [FieldProblem(pointer, _l("row %(number)s: %(message)s", number=number, message=problem.message), problem.code)]
    return []


def _text(cell: Any) -> str | None:
    """A cell as text: spreadsheets keep long digit strings as numbers, which are written back as digits."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    text = str(cell).strip()
    return text or None


# --- storing and reading a booking's list -----------------------------------------------


def replace_name_list(
    session: Session, tenant: Tenant, public_id: str, listed: Sequence[ListedPerson], *, now: datetime, actor: Actor
) -> tuple[Booking, list[BookingPerson]]:
    """Make ``listed`` the booking's name list, in place of the one it had; the booking and the list as stored.

    A row with the ID number of someone the form names (the leader) is that
    person, not a second one. The form's people and the list together may not
    exceed the booking's headcount (``too_many_rows``). The booking type's
    policies then judge everyone named as they judge a new booking of them
    (bans, one booking per ID number a day, …), this booking left out of the
    counts; a refusal points at the row.

    :raises Refused: ``name_list_closed`` (the booking is not held or
        confirmed, or its slot has started), ``name_list_not_applicable`` (its
        form names everyone it admits), or the policy's code.
    :raises InvalidInput: ``too_many_rows``.
    """
    with tenant_scope(tenant.id), write_transaction(session):
        booking = get_booking(session, public_id, for_update=True)
        if booking.status not in (BookingStatus.held, BookingStatus.confirmed) or now >= booking.starts_at:
            raise Refused(_l("the name list can change only before the visit of a held or confirmed booking"), code="name_list_closed")
        on_form = list(session.scalars(select(BookingPerson).where(BookingPerson.booking_id == booking.id, BookingPerson.on_name_list.is_(False))))
        if len(on_form) >= booking.party_size:
            raise Refused(_l("this booking's form names everyone it admits; it takes no name list"), code="name_list_not_applicable")
        known = {person.id_number for person in on_form if person.id_number}
        others = [person for person in listed if person.id_number not in known]
        if len(on_form) + len(others) > booking.party_size:
            room = booking.party_size - len(on_form)
            raise InvalidInput(
                _l("the name list names more people than the booking admits"),
                errors=[
                    FieldProblem(
                        "/rows",
                        _l("the booking is for %(party_size)s people: at most %(room)s besides those its form names", party_size=booking.party_size, room=room),
                        "too_many_rows",
                    )
                ],
            )
        booking_type = session.get(BookingType, booking.booking_type_id)
        _check_policies(session, booking, booking_type, on_form, others, now)
        session.execute(delete(BookingPerson).where(BookingPerson.booking_id == booking.id, BookingPerson.on_name_list.is_(True)))
        if others:
            session.execute(insert(BookingPerson), [_listed_row(booking, booking_type, person) for person in others])
        log_change(session, booking, actor, "booking.name_list_replaced", {"rows": len(listed), "people": len(on_form) + len(others)})
    return name_list(session, tenant, public_id)


def _check_policies(
    session: Session, booking: Booking, booking_type: BookingType, on_form: Iterable[BookingPerson], others: Sequence[ListedPerson], now: datetime
) -> None:
    """The booking type's rules over everyone the booking would name, pointed at the list's rows."""
    named = [Person(p.name, p.id_number, p.phone, p.birth_date) for p in on_form]
    people = named + [Person(p.name, p.id_number, p.phone, id_card_birth_date(p.id_number)) for p in others]
    customer = session.get(Customer, booking.customer_id)
    policies.lock_identities(session, policies.identity_keys(customer, people, booking_type.policies))
    try:
        policies.check_booking(
            session,
            policies=booking_type.policies,
            customer=customer,
            people=people,
            local_date=booking.local_date,
            party_size=booking.party_size,
            now=now,
            booking_type_id=booking_type.id,
            exclude_booking_id=booking.id,
        )
    except Refused as refusal:
        refusal.errors = [_row_problem(problem, len(named), others) for problem in refusal.errors]
        raise


_PERSON_POINTER = re.compile(r"^/people/(\d+)(/.*)?$")


def _row_problem(problem: FieldProblem, form_people: int, others: Sequence[ListedPerson]) -> FieldProblem:
    """A policy's ``/people/<n>/…`` pointer as the list row it is, when it is one."""
    match = _PERSON_POINTER.match(problem.pointer)
    if match is None or int(match.group(1)) < form_people:
        return problem
    return FieldProblem(f"/rows/{others[int(match.group(1)) - form_people].index}{match.group(2) or ''}", problem.message, problem.code)


def name_list(session: Session, tenant: Tenant, public_id: str) -> tuple[Booking, list[BookingPerson]]:
    """The booking and its name list, in the order it was uploaded (rows with the leader's ID number are the leader, on the form)."""
    with tenant_scope(tenant.id):
        booking = get_booking(session, public_id)
        listed = select(BookingPerson).where(BookingPerson.booking_id == booking.id, BookingPerson.on_name_list.is_(True)).order_by(BookingPerson.id)
        return booking, list(session.scalars(listed))


def _listed_row(booking: Booking, booking_type: BookingType, listed: ListedPerson) -> dict[str, Any]:
    person = Person(listed.name, listed.id_number, listed.phone, id_card_birth_date(listed.id_number))
    return person_row(booking, booking_type, person, on_name_list=True)
