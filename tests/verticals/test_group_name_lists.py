"""A group's name list (团队名单): uploaded as xlsx or csv by the booker or staff, checked row by row, stored as the booking's people.

Each test books a group of 5 at the exhibition (groups of 2 and more on tenant-a) on the group channel, led by customer 1.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from tenant_setup import id_number, phone
from verticals_setup import ADULT_BORN, CHILD_BORN, CONFIGURED, answers, at, group_of

from yuyue.audit.models import AuditRecord
from yuyue.db import tenant_scope
from yuyue.provisioning.operations import get_tenant
from yuyue.tenancy.models import StaffRole

EXHIBITION = "exhibition"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
BASE = f"/api/v1/t/{CONFIGURED}"
HEADERS = ("姓名", "身份证号", "手机")
# Ten members born on the same day, with distinct ID numbers; the leader's own ID number is LEADER.
MEMBERS = [(f"团员{n}", id_number(date(1985, 3, n + 1), 100 + n), phone(60 + n)) for n in range(10)]
LEADER = id_number(ADULT_BORN, 999)


@pytest.fixture
def group(split_offer, set_settings, customer, booked):
    """Customer 1's group of 5 (the leader with ID number LEADER and four others); returns (client, booking)."""
    split_offer(EXHIBITION, individual=4, group=300)
    set_settings(EXHIBITION, group_min_size=2)
    leader = customer(1)
    return leader, booked(leader, CONFIGURED, EXHIBITION, group_of(EXHIBITION, 5, 1, id_card=LEADER), channel="group")


def csv_file(rows, headers=HEADERS, encoding="utf-8") -> bytes:
    lines = [",".join(headers)] + [",".join(str(cell) for cell in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_file(rows, headers=HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, booking: dict, content: bytes, media_type: str = CSV, path: str = BASE, **headers):
    return client.put(f"{path}/bookings/{booking['id']}/name-list", data=content, headers={"Content-Type": media_type, **headers})


def pointers(body: dict) -> list[tuple[str, str]]:
    return [(error["pointer"], error["code"]) for error in body["errors"]]


# --- the happy paths ---------------------------------------------------------------------------


def test_a_csv_name_list_becomes_the_groups_people(group):
    leader, booking = group

    response = upload(leader, booking, csv_file(MEMBERS[:4]))

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["booking"], body["headcount"]) == (booking["id"], 5)
    assert [row["name"] for row in body["rows"]] == ["团员0", "团员1", "团员2", "团员3"]
    assert body["rows"][0]["id_number"] == MEMBERS[0][1][:6] + "********" + MEMBERS[0][1][-4:]
    assert body["rows"][0]["phone"] == "138****0060"
    assert leader.get(f"{BASE}/bookings/{booking['id']}/name-list").get_json() == body


def test_an_xlsx_name_list_with_english_headers_is_read_by_its_headers(group):
    leader, booking = group
    rows = [(n, member[0], member[2], member[1]) for n, member in enumerate(MEMBERS[:3], 1)]

    response = upload(leader, booking, xlsx_file(rows, headers=("No.", "Name", "Mobile", "ID Number")), XLSX)

    assert response.status_code == 200, response.get_json()
    assert [row["name"] for row in response.get_json()["rows"]] == ["团员0", "团员1", "团员2"]


def test_an_xlsx_keeps_numbers_typed_as_numbers(group):
    leader, booking = group

    response = upload(leader, booking, xlsx_file([(MEMBERS[0][0], MEMBERS[0][1], int(MEMBERS[0][2]))]), XLSX)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rows"][0]["phone"] == "138****0060"


def test_staff_see_the_list_with_id_numbers_masked_and_the_people_on_the_booking(group, staff_client):
    leader, booking = group
    upload(leader, booking, csv_file(MEMBERS[:2]))
    staff = staff_client(CONFIGURED)

    listed = staff.get(f"{BASE}/admin/bookings/{booking['id']}/name-list").get_json()
    people = staff.get(f"{BASE}/admin/bookings/{booking['id']}").get_json()["people"]

    assert listed["rows"][0] == {"name": "团员0", "id_number": "*" * 14 + MEMBERS[0][1][-4:], "phone": MEMBERS[0][2], "is_minor": False}
    assert [person["name"] for person in people] == ["Li Lei", "团员0", "团员1"]


def test_staff_upload_a_list_for_the_group(group, staff_client):
    _, booking = group

    response = upload(staff_client(CONFIGURED), booking, csv_file(MEMBERS[:4]), path=f"{BASE}/admin")

    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()["rows"]) == 4


def test_a_new_list_replaces_the_one_before(group):
    leader, booking = group
    upload(leader, booking, csv_file(MEMBERS[:4]))

    response = upload(leader, booking, csv_file(MEMBERS[4:6]))

    assert [row["name"] for row in response.get_json()["rows"]] == ["团员4", "团员5"]
    assert [row["name"] for row in leader.get(f"{BASE}/bookings/{booking['id']}/name-list").get_json()["rows"]] == ["团员4", "团员5"]


def test_a_row_with_the_leaders_id_number_is_the_leader(group):
    leader, booking = group

    response = upload(leader, booking, csv_file([("领队", LEADER, ""), *MEMBERS[:4]]))

    assert response.status_code == 200, response.get_json()
    assert [row["name"] for row in response.get_json()["rows"]] == ["团员0", "团员1", "团员2", "团员3"]


def test_a_gbk_csv_from_excel_is_read(group):
    leader, booking = group

    detected = upload(leader, booking, csv_file(MEMBERS[:2], encoding="gbk"))
    named = upload(leader, booking, csv_file(MEMBERS[2:4], encoding="gbk"), media_type="text/csv; charset=GBK")

    assert [row["name"] for row in detected.get_json()["rows"]] == ["团员0", "团员1"]
    assert [row["name"] for row in named.get_json()["rows"]] == ["团员2", "团员3"]


def test_a_guest_uploads_with_the_booking_token(group, split_offer, client):
    response = client.post(
        f"{BASE}/bookings",
        json={
            "booking_type": EXHIBITION,
            "starts_at": group[1]["starts_at"],
            "channel": "group",
            "phone": phone(9),
            "answers": group_of(EXHIBITION, 3, 9),
        },
    )
    guest = response.get_json()

    listed = upload(client, guest, csv_file(MEMBERS[:2]), **{"X-Booking-Token": guest["booking_token"]})

    assert listed.status_code == 200, listed.get_json()


def test_replacing_the_list_is_audited_without_the_peoples_numbers(group, session):
    leader, booking = group

    upload(leader, booking, csv_file(MEMBERS[:3]))

    with tenant_scope(get_tenant(session, CONFIGURED).id):
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "booking.name_list_replaced")).one()
    assert (record.subject_id, record.actor) == (booking["id"], f"customer:{leader.customer.id}")
    assert MEMBERS[0][1] not in str(record.data)


def test_the_list_shows_in_the_bookings_export(group, staff_client):
    leader, booking = group
    upload(leader, booking, csv_file(MEMBERS[:2]))

    export = staff_client(CONFIGURED).get(f"{BASE}/admin/exports/bookings.csv").get_data(as_text=True)

    assert "团员0" in export and "团员1" in export


# --- the booking's rules ---------------------------------------------------------------------------


def test_a_list_names_at_most_the_headcount(group, problem):
    leader, booking = group
    upload(leader, booking, csv_file(MEMBERS[:4]))

    body = problem(upload(leader, booking, csv_file(MEMBERS[:5])), 422, "validation_failed")

    assert pointers(body) == [("/rows", "too_many_rows")]


def test_a_listed_id_number_counts_for_one_booking_a_day(group, customer, booked, book, problem):
    leader, booking = group
    upload(leader, booking, csv_file(MEMBERS[:2]))

    problem(book(customer(2), CONFIGURED, EXHIBITION, answers(EXHIBITION, 2, id_card=MEMBERS[1][1]), channel="individual", hour=10), 409, "quota_exceeded")


def test_someone_booked_elsewhere_that_day_is_refused_at_their_row(group, customer, booked, problem):
    leader, booking = group
    booked(customer(2), CONFIGURED, EXHIBITION, answers(EXHIBITION, 2, id_card=MEMBERS[2][1]), channel="individual", hour=10)

    body = problem(upload(leader, booking, csv_file(MEMBERS[:4])), 409, "quota_exceeded")

    assert pointers(body) == [("/rows/2/id_number", "quota_exceeded")]


def test_a_group_moved_to_another_slot_keeps_its_list(group):
    leader, booking = group
    upload(leader, booking, csv_file(MEMBERS[:4]))

    moved = leader.post(f"{BASE}/bookings/{booking['id']}/reschedule", json={"starts_at": at(10).isoformat()})

    assert (moved.status_code, moved.get_json()["party_size"]) == (200, 5), moved.get_json()
    assert len(leader.get(f"{BASE}/bookings/{booking['id']}/name-list").get_json()["rows"]) == 4


def test_a_list_of_minors_is_marked(group):
    leader, booking = group
    child = ("小明", id_number(CHILD_BORN, 321), "")

    response = upload(leader, booking, csv_file([child, MEMBERS[0]]))

    assert [row["is_minor"] for row in response.get_json()["rows"]] == [True, False]


def test_an_individual_booking_takes_no_name_list(group, customer, booked, problem):
    visitor = customer(2)
    booking = booked(visitor, CONFIGURED, EXHIBITION, answers(EXHIBITION, 2), channel="individual")

    problem(upload(visitor, booking, csv_file(MEMBERS[:1])), 409, "name_list_not_applicable")


def test_a_cancelled_group_takes_no_name_list(group, problem):
    leader, booking = group
    leader.post(f"{BASE}/bookings/{booking['id']}/cancel")

    problem(upload(leader, booking, csv_file(MEMBERS[:1])), 409, "name_list_closed")


def test_another_customers_group_list_is_not_found(group, customer, problem):
    _, booking = group

    problem(upload(customer(2), booking, csv_file(MEMBERS[:1])), 404, "booking_not_found")
    problem(customer(2).get(f"{BASE}/bookings/{booking['id']}/name-list"), 404, "booking_not_found")


# --- rows with problems -----------------------------------------------------------------------------


def test_every_row_problem_is_pointed_at(group, problem):
    leader, booking = group
    bad_checksum = MEMBERS[1][1][:-1] + ("0" if MEMBERS[1][1][-1] != "0" else "1")
    rows = [
        (MEMBERS[0][0], MEMBERS[0][1], "12345"),
        (MEMBERS[1][0], bad_checksum, ""),
        ("", MEMBERS[2][1], ""),
        (MEMBERS[3][0], MEMBERS[0][1], ""),
    ]

    body = problem(upload(leader, booking, csv_file(rows)), 422, "validation_failed")

    assert pointers(body) == [
        ("/rows/0/phone", "not_a_mobile_number"),
        ("/rows/1/id_number", "id_card_checksum"),
        ("/rows/2/name", "required"),
        ("/rows/3/id_number", "duplicate_id_number"),
    ]


def test_blank_rows_are_skipped(group):
    leader, booking = group
    content = csv_file(MEMBERS[:1]) + b",,\r\n\r\n" + csv_file(MEMBERS[1:2], headers=())[2:]

    response = upload(leader, booking, content)

    assert [row["name"] for row in response.get_json()["rows"]] == ["团员0", "团员1"]


def test_a_formula_is_refused(group, problem):
    leader, booking = group

    in_xlsx = problem(upload(leader, booking, xlsx_file([('=HYPERLINK("http://x")', MEMBERS[0][1], "")]), XLSX), 422, "validation_failed")
    in_csv = problem(upload(leader, booking, csv_file([("=1+2", MEMBERS[0][1], "")])), 422, "validation_failed")

    assert pointers(in_xlsx) == pointers(in_csv) == [("/rows/0/name", "formula_not_allowed")]


def test_a_list_without_an_id_number_column_is_refused(group, problem):
    leader, booking = group

    body = problem(upload(leader, booking, csv_file([("张三", "13800000001")], headers=("姓名", "电话号码"))), 422, "validation_failed")

    assert pointers(body) == [("/columns/id_number", "missing_column")]


@pytest.mark.parametrize("content", [b"", b"\r\n\r\n", "姓名,身份证号\r\n".encode()], ids=["empty", "blank", "header only"])
def test_an_empty_list_is_refused(group, problem, content):
    leader, booking = group

    problem(upload(leader, booking, content), 422, "empty_name_list")


def test_more_than_a_thousand_rows_are_refused(split_offer, set_settings, customer, booked, problem):
    split_offer(EXHIBITION, individual=4, group=300)
    set_settings(EXHIBITION, group_min_size=2, group_max_size=300)
    leader = customer(1)
    booking = booked(leader, CONFIGURED, EXHIBITION, group_of(EXHIBITION, 300, 1), channel="group")
    rows = [(f"团员{n}", id_number(date(1970 + n // 365, 1, 1), n % 1000), "") for n in range(1001)]

    body = problem(upload(leader, booking, csv_file(rows)), 422, "name_list_too_large")

    assert pointers(body) == [("/rows", "too_many_rows")]


def test_a_file_of_endless_blank_lines_is_refused(group, problem):
    leader, booking = group

    body = problem(upload(leader, booking, "姓名,身份证号\r\n".encode() + b",\r\n" * 10_000), 422, "name_list_too_large")

    assert pointers(body) == [("/rows", "too_many_rows")]


# --- hostile files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"PK\x03\x04 not really a zip", b"\x00\x01\x02 random bytes", "姓名,身份证号\r\n张三,1\r\n".encode()],
    ids=["broken zip", "random bytes", "csv sent as xlsx"],
)
def test_what_is_not_an_xlsx_workbook_is_refused(group, problem, content):
    leader, booking = group

    problem(upload(leader, booking, content, XLSX), 422, "unreadable_name_list")


def test_a_zip_that_is_not_a_workbook_is_refused(group, problem):
    leader, booking = group
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("hello.txt", "not a workbook")

    problem(upload(leader, booking, archive.getvalue(), XLSX), 422, "unreadable_name_list")


def test_a_workbook_that_unpacks_to_too_much_is_refused(group, problem):
    leader, booking = group
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("xl/worksheets/sheet1.xml", b"<row/>" * (8 * 1024 * 1024))

    problem(upload(leader, booking, archive.getvalue(), XLSX), 422, "name_list_too_large")


def test_binary_sent_as_csv_is_refused(group, problem):
    leader, booking = group

    problem(upload(leader, booking, b"\x00\xff\xfe binary \x00", CSV), 422, "unreadable_name_list")


def test_text_in_neither_utf8_nor_gbk_is_refused(group, problem):
    leader, booking = group

    problem(upload(leader, booking, csv_file(MEMBERS[:1]), media_type="text/csv; charset=latin-1"), 422, "unreadable_name_list")


def test_a_file_over_a_mebibyte_is_refused(group, problem):
    leader, booking = group

    problem(upload(leader, booking, csv_file(MEMBERS[:1]) + b"x" * (1024 * 1024)), 413, "payload_too_large")


@pytest.mark.parametrize("media_type", ["application/json", "application/vnd.ms-excel", "multipart/form-data; boundary=x"])
def test_other_media_types_are_refused(group, problem, media_type):
    leader, booking = group

    problem(upload(leader, booking, b'{"rows": []}', media_type), 415, "unsupported_media_type")


def test_a_staff_upload_of_another_booking_is_not_found_before_the_file_is_read(group, staff_client, problem):
    problem(upload(staff_client(CONFIGURED, StaffRole.staff), {"id": "0" * 32}, b"junk", "application/json", path=f"{BASE}/admin"), 404, "booking_not_found")
