"""Exports carry every form answer in a column of its own, headed in the tenant's language, with ID numbers masked,
and the tickets, places and total of each booking."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from merchant_setup import at
from openpyxl import load_workbook
from tenant_setup import id_number, make_booking_type, windows

from yuyue.bookings import operations as booking_operations
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import create_tenant
from yuyue.tenancy.models import StaffRole

FIXED_COLUMNS = 14
TICKET_TYPES = [
    {"key": "adult", "name": {"zh-Hans": "成人票", "en": "Adult"}, "price_amount": 6000},
    {"key": "child", "name": {"zh-Hans": "儿童票", "en": "Child"}, "price_amount": 3000, "min_age": 6, "max_age": 17},
]
ADULT_ID, CHILD_ID = id_number(date(1990, 5, 1)), id_number(date(2016, 3, 1))
COURSE_FORM = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "x-field": "text", "minLength": 1},
        "level": {
            "type": "string",
            "x-field": "select",
            "enum": ["beginner", "advanced"],
            "x-options": [{"value": "beginner", "label": {"zh-Hans": "初级", "en": "Beginner"}}, {"value": "advanced", "label": {"en": "Advanced"}}],
        },
        "newsletter": {"type": "boolean", "x-field": "checkbox"},
        "code": {"type": "string", "x-field": "text"},
    },
    "required": ["name"],
}
COURSE_UI = {
    "order": ["level", "name", "newsletter", "code"],
    "fields": {
        "name": {"label": {"en": "Student"}},
        "level": {"label": {"zh-Hans": "级别", "en": "Level"}},
        "newsletter": {"label": '=HYPERLINK("http://evil")'},
    },
}


def export(client, tenant: str = "tenant-a", extension: str = "csv") -> list[list]:
    response = client.get(f"/api/v1/t/{tenant}/admin/exports/bookings.{extension}")
    assert response.status_code == 200, response.get_data(as_text=True)
    if extension == "xlsx":
        return [list(row) for row in load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def masked(number: str) -> str:
    return number[:6] + "*" * 8 + number[-4:]


@pytest.fixture
def museum(session, tenants):
    """tenant-a's ``museum``: the exhibition vertical's real-name form with adult and child tickets, and one booking of each."""
    declared = plugin_host().verticals["exhibition"]
    tenant = tenants["tenant-a"]
    make_booking_type(session, tenant, "museum", form=declared.form_schema, ui=declared.ui_schema, ticket_types=TICKET_TYPES, max_party_size=5, hold_minutes=0)
    answers = {"visitor_name": "王芳", "id_card": ADULT_ID, "mobile": "13800000001", "companions": [{"name": "王小明", "id_card": CHILD_ID}]}
    booking_operations.book(
        session, form_registry(), tenant, booking_type_slug="museum", starts_at=at(9), phone="13800000001", answers=answers, tickets={"adult": 1, "child": 1}
    )
    return tenant


def test_each_form_field_is_a_column_headed_in_the_tenants_language(front_desk, museum):
    header, row = export(front_desk)

    assert header[FIXED_COLUMNS:] == ["参观类型", "参观人姓名", "身份证号", "手机号", "同行人", "团队人数", "单位/旅行社名称"]
    assert row[FIXED_COLUMNS:] == [
        "",
        "王芳",
        masked(ADULT_ID),
        "13800000001",
        f"1. 王小明 {masked(CHILD_ID)}",
        "",
        "",
    ]  # an individual: no type or group fields


def test_the_tickets_places_and_total_are_in_the_row(front_desk, museum):
    header, row = export(front_desk)

    assert header[6] == "人数" and header[11:14] == ["票种", "金额", "币种"]
    assert (row[6], row[11], row[12], row[13]) == ("2", "成人票×1, 儿童票×1", "90.00", "CNY")


def test_no_id_number_is_exported_in_full_by_any_role(staff_client, museum):
    for role in (None, StaffRole.manager, StaffRole.owner):
        for extension in ("csv", "xlsx"):
            cells = [str(cell) for row in export(staff_client("tenant-a", role), extension=extension) for cell in row]
            assert not [cell for cell in cells if ADULT_ID in cell or CHILD_ID in cell]
            assert masked(ADULT_ID) in cells


def test_the_xlsx_has_the_same_columns_with_a_numeric_total(front_desk, museum):
    header, row = export(front_desk, extension="xlsx")

    assert header[FIXED_COLUMNS:] == ["参观类型", "参观人姓名", "身份证号", "手机号", "同行人", "团队人数", "单位/旅行社名称"]
    assert (row[12], row[13], row[FIXED_COLUMNS + 2]) == (90, "CNY", masked(ADULT_ID))


def test_an_english_speaking_tenant_reads_english_headings(session, staff_client):
    tenant = create_tenant(session, plugin_host(), slug="tenant-en", name="En", locales=["en"], plugins={"exhibition": {}})
    declared = plugin_host().verticals["exhibition"]
    make_booking_type(session, tenant, "museum", form=declared.form_schema, ui=declared.ui_schema, max_party_size=5, hold_minutes=0)
    booking_operations.book(
        session,
        form_registry(),
        tenant,
        booking_type_slug="museum",
        starts_at=at(9),
        phone="13800000001",
        answers={"visitor_name": "Li", "id_card": ADULT_ID, "mobile": "13800000001"},
    )

    header, _ = export(staff_client("tenant-en"), "tenant-en")

    assert header[:2] == ["Voucher", "Booking type"]
    assert header[FIXED_COLUMNS:] == [
        "Visitor type",
        "Visitor's name",
        "ID card number",
        "Mobile number",
        "Companions",
        "Group size",
        "Organisation or travel agency",
    ]


def test_labels_fall_back_options_read_as_labels_and_a_formula_label_is_defused(session, tenants, front_desk):
    make_booking_type(session, tenants["tenant-a"], "class", vertical="course", form=COURSE_FORM, ui=COURSE_UI, hold_minutes=0)
    answers = {"name": "Li Lei", "level": "advanced", "newsletter": True, "code": "=1+1"}
    booking_operations.book(session, form_registry(), tenants["tenant-a"], booking_type_slug="class", starts_at=at(9), phone="13800000001", answers=answers)

    header, row = export(front_desk)

    # The UI's order; zh-Hans, else en, else the key; a label that a spreadsheet would run is text.
    assert header[FIXED_COLUMNS:] == ["级别", "Student", '\'=HYPERLINK("http://evil")', "code"]
    assert row[FIXED_COLUMNS:] == ["Advanced", "Li Lei", "是", "'=1+1"]


def test_every_form_version_used_has_its_columns_and_an_older_booking_leaves_new_fields_empty(session, tenants, manager, front_desk):
    form = {"type": "object", "properties": {"name": {"type": "string", "x-field": "text", "minLength": 1}}, "required": ["name"]}
    make_booking_type(
        session, tenants["tenant-a"], "class", vertical="course", rules=windows(("09:00", "11:00")), form=form, ui={"order": ["name"], "fields": {}}
    )
    book = lambda answers, phone: booking_operations.book(  # noqa: E731
        session, form_registry(), tenants["tenant-a"], booking_type_slug="class", starts_at=at(9), phone=phone, answers=answers
    )
    book({"name": "Old"}, "13800000001")
    grown = {**form, "properties": {**form["properties"], "school": {"type": "string", "x-field": "text"}}}
    assert (
        manager.patch("/api/v1/t/tenant-a/admin/booking-types/class", json={"form": grown, "ui": {"order": ["name", "school"], "fields": {}}}).status_code
        == 200
    )
    book({"name": "New", "school": "一中"}, "13800000002")

    header, old, new = export(front_desk)

    assert header[FIXED_COLUMNS:] == ["name", "school"]
    assert (old[FIXED_COLUMNS:], new[FIXED_COLUMNS:]) == (["Old", ""], ["New", "一中"])


def test_a_bookings_answers_show_staff_its_id_numbers_masked_like_its_people(front_desk, museum):
    [listed] = front_desk.get("/api/v1/t/tenant-a/admin/bookings").get_json()["bookings"]
    detail = front_desk.get(f"/api/v1/t/tenant-a/admin/bookings/{listed['id']}").get_json()

    answers = detail["answers"]
    assert (answers["visitor_name"], answers["mobile"]) == ("王芳", "13800000001")
    assert answers["id_card"] == detail["people"][0]["id_number"] != ADULT_ID
    assert answers["companions"][0]["id_card"] == detail["people"][1]["id_number"] != CHILD_ID
    assert ADULT_ID not in str(detail) and CHILD_ID not in str(detail)
