"""Booking exports as operations: local times of the tenant's zone, its language, every row once however it is cut."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from yuyue.bookings.queries import BookingFilters, iter_bookings
from yuyue.errors import InvalidInput
from yuyue.exports import operations as exports
from yuyue.exports.operations import HEADERS, bookings_csv, bookings_xlsx

BERLIN = ZoneInfo("Europe/Berlin")


def read_csv(pieces) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(pieces).removeprefix("\ufeff"))))


def read_xlsx(pieces) -> list[tuple]:
    return list(load_workbook(io.BytesIO(b"".join(pieces))).active.iter_rows(values_only=True))


def test_times_are_the_tenants_wall_clock_not_utc(session, berlin, book, slot_day):
    booking = book(1)

    header, row = read_csv(bookings_csv(session, berlin))

    assert booking.starts_at.astimezone(BERLIN).hour == 9 and booking.starts_at.hour != 9
    assert header == [*HEADERS["en"], "name"]
    assert row[1:5] == ["Visit", slot_day.isoformat(), "09:00", "10:30"]


def test_xlsx_cells_carry_the_local_date_and_times(session, berlin, book, slot_day):
    book(1)

    header, row = read_xlsx(bookings_xlsx(session, berlin))

    assert header == (*HEADERS["en"], "name")
    assert row[2:5] == (datetime.combine(slot_day, time()), time(9), time(10, 30))


def test_the_slot_day_across_a_summer_time_change_stays_at_nine(session, berlin, book, slot_day):
    later = slot_day + timedelta(days=200)  # on the other side of a summer-time switch from slot_day

    book(1)
    book(2, day=later)

    rows = read_csv(bookings_csv(session, berlin, BookingFilters()))[1:]
    assert [(r[2], r[3]) for r in rows] == [(slot_day.isoformat(), "09:00"), (later.isoformat(), "09:00")]


def test_rows_are_read_in_batches_without_repeats_or_gaps(session, berlin, book):
    made = [book(n).public_id for n in range(7)]

    for batch in (1, 2, 3, 7, 50):
        assert [r.booking.public_id for r in iter_bookings(session, berlin, batch=batch)] == made


def test_csv_comes_in_several_pieces_when_large(session, berlin, book, monkeypatch):
    for n in range(5):
        book(n)
    monkeypatch.setattr(exports, "CHUNK", 100)

    pieces = list(bookings_csv(session, berlin))

    assert len(pieces) > 2
    assert len(read_csv(pieces)) == 6


def test_xlsx_comes_in_several_pieces(session, berlin, book, monkeypatch):
    book(1)
    monkeypatch.setattr(exports, "CHUNK", 1024)

    pieces = list(bookings_xlsx(session, berlin))

    assert len(pieces) > 2 and all(isinstance(p, bytes) for p in pieces)
    assert len(read_xlsx(pieces)) == 2


@pytest.mark.parametrize("name", ["=1+1", "+86 138", "-2", "@SUM(A1)"])
def test_text_that_a_spreadsheet_would_run_as_a_formula_is_defused(session, berlin, book, name):
    book(1, name=name)

    assert read_csv(bookings_csv(session, berlin))[1][8] == "'" + name
    assert read_xlsx(bookings_xlsx(session, berlin))[1][8] == "'" + name


def test_an_empty_date_range_is_refused_at_once_not_while_streaming(session, berlin, slot_day):
    for export in (bookings_csv, bookings_xlsx):
        with pytest.raises(InvalidInput) as refused:
            export(session, berlin, BookingFilters(date_from=slot_day, date_to=slot_day - timedelta(days=1)))
        assert refused.value.errors[0].pointer == "/to"
