"""The bookings desk: tenant-a's bookings listed, searched, filtered and shown with their answers, money and history; none of tenant-b's, anywhere."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from desk_setup import ADULT_ID, CHILD_ID, at, book_visit, make_museum, sign_in
from openpyxl import load_workbook
from tenant_setup import id_number, make_booking_type, make_coach, windows

from yuyue.bookings import operations as booking_operations
from yuyue.bookings import waitlist
from yuyue.catalog.operations import current_form_version, get_booking_type, update_booking_type
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.scheduling.registry import current_registry

DESK = "/admin/t/tenant-a/bookings/"


@pytest.fixture
def visits(session, tenants):
    """tenant-a: Wang (with a child) at 09:00 and Zhao at 14:00 on the slot day; tenant-b: Bee at 09:00."""
    for tenant in tenants.values():
        make_museum(session, tenant)
    return {
        "wang": book_visit(session, tenants["tenant-a"], "13800000001", "王芳"),
        "zhao": book_visit(session, tenants["tenant-a"], "13800000002", "赵雷", hour=14, companion=False),
        "bee": book_visit(session, tenants["tenant-b"], "13800000009", "Bee Visitor"),
    }


def listed(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    page = response.get_data(as_text=True)
    return page[page.index("<main") :]


def table(page: str) -> str:
    """The rows of the desk's table ('' when nothing matched)."""
    return page[page.index('<table class="desk">') :] if '<table class="desk">' in page else ""


def test_todays_and_upcoming_bookings_are_on_the_desk_and_tenant_bs_never(admin_login, visits):
    page = listed(sign_in(admin_login, "staff-a").get(DESK))

    assert visits["wang"].public_id in page and visits["zhao"].public_id in page
    assert visits["bee"].public_id not in page and "13800000009" not in page


@pytest.mark.parametrize(
    "query",
    ["q=13800000009", "q=Bee", "q={bee_code}", "booking_type=museum", "status=confirmed", "from={day}&to={day}", "channel=default"],
)
def test_no_search_or_filter_shows_tenant_bs_bookings(admin_login, visits, query):
    page = listed(sign_in(admin_login, "owner-a").get(DESK + "?" + query.format(bee_code=visits["bee"].voucher_code, day=at(9).date())))

    assert visits["bee"].public_id not in page and "Bee Visitor" not in page
    assert "13800000009" not in table(page), "the search box may repeat what was typed, the rows never"


def test_search_finds_by_voucher_code_phone_and_name(admin_login, visits):
    desk = sign_in(admin_login, "staff-a")

    for query in (visits["zhao"].voucher_code.lower(), "13800000002", "赵雷"):
        page = listed(desk.get(DESK, query_string={"q": query}))
        assert visits["zhao"].public_id in page and visits["wang"].public_id not in page, query


def test_filters_by_status_and_day(admin_login, visits, session, tenants):
    booking_operations.cancel(session, tenants["tenant-a"], visits["zhao"].public_id, by_staff=True)
    desk = sign_in(admin_login, "staff-a")

    cancelled = listed(desk.get(DESK, query_string={"status": "cancelled"}))
    assert visits["zhao"].public_id in cancelled and visits["wang"].public_id not in cancelled
    next_day = (at(9) + timedelta(days=1)).date().isoformat()
    assert visits["wang"].public_id not in listed(desk.get(DESK, query_string={"from": next_day, "to": next_day}))


def test_the_resource_filter_shows_the_bookings_a_coach_serves(admin_login, visits, session, tenants):
    tenant = tenants["tenant-a"]
    make_coach(session, tenant, "coach-li")
    make_booking_type(session, tenant, "yoga", vertical="course", rules=windows(("09:00", "10:00"), capacity=8), resource_requirements=[{"kind": "coach"}])
    yoga = booking_operations.book(session, form_registry(), tenant, booking_type_slug="yoga", starts_at=at(9), phone="13800000005", answers={"name": "Li"})

    page = listed(sign_in(admin_login, "staff-a").get(DESK, query_string={"resource": "coach-li"}))

    assert yoga.public_id in page and visits["wang"].public_id not in page


@pytest.mark.parametrize("query", ["from=tomorrow", "status=bogus", "to=2026-13-40", "q=" + "x" * 101, "cursor=not-a-cursor", "from=2027-01-02&to=2027-01-01"])
def test_bad_filters_are_shown_on_the_page_not_a_server_error(admin_login, visits, query):
    response = sign_in(admin_login, "staff-a").get(DESK + "?" + query)

    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)


def test_the_list_pages_by_cursor(admin_login, session, tenants):
    make_museum(session, tenants["tenant-a"])
    for n in range(52):
        book_visit(session, tenants["tenant-a"], f"1390000{n:04d}", f"Visitor {n}", companion=False, hour=9 if n % 2 else 14)
    desk = sign_in(admin_login, "staff-a")

    first = listed(desk.get(DESK))
    assert table(first).count("<td><a href=") == 50
    cursor = first.split("cursor=")[1].split("&")[0].split('"')[0]
    second = listed(desk.get(DESK + f"?from={at(9).date().isoformat()}&cursor={cursor}"))
    assert table(second).count("<td><a href=") == 2
    assert "cursor=" not in second


def test_a_booking_page_shows_its_answers_by_its_form_version_with_id_numbers_masked(admin_login, visits):
    page = listed(sign_in(admin_login, "staff-a").get(DESK + visits["wang"].public_id))

    for label in ("Visitor&#39;s name", "ID card number", "Visitor type"):
        assert label in page, label
    assert "王芳" in page and "王小明" in page
    assert ADULT_ID not in page and CHILD_ID not in page
    assert ADULT_ID[-4:] in page and CHILD_ID[-4:] in page


def test_a_booking_keeps_the_labels_of_the_form_version_it_used(admin_login, visits, session, tenants):
    current = current_form_version(session, get_booking_type(session, tenants["tenant-a"], "museum"))
    fields = {**current.ui.get("fields", {}), "visitor_name": {"label": {"zh-Hans": "新的姓名标签", "en": "New name label"}}}
    update_booking_type(
        session, plugin_host(), form_registry(), current_registry(), tenants["tenant-a"], "museum", form=current.definition, ui={**current.ui, "fields": fields}
    )

    page = listed(sign_in(admin_login, "staff-a").get(DESK + visits["wang"].public_id))

    assert "Visitor&#39;s name" in page and "New name label" not in page


def test_a_booking_page_shows_people_tickets_and_its_audit_trail_in_order(admin_login, visits, session, tenants):
    booking_operations.cancel(session, tenants["tenant-a"], visits["wang"].public_id, by_staff=True, reason="rain")
    page = listed(sign_in(admin_login, "staff-a").get(DESK + visits["wang"].public_id))

    trail = page[page.index('class="trail"') :]
    assert trail.index("booking.confirmed") < trail.index("booking.cancelled")
    assert "rain" in page


def test_another_tenants_booking_is_not_found_under_tenant_as_prefix(admin_login, visits):
    desk = sign_in(admin_login, "owner-a")
    bee = visits["bee"].public_id

    for path in ("", "/confirm", "/cancel", "/no-show", "/reschedule", "/refund", "/offline-payment"):
        assert desk.get(DESK + bee + path).status_code == 404, path
    assert desk.post(DESK + bee + "/cancel", {"reason": "x"}).status_code == 404
    assert visits["bee"].status.value == "confirmed"


def test_the_waitlist_of_a_slot_lists_entries_in_order_with_their_position(admin_login, session, tenants):
    tenant = tenants["tenant-a"]
    make_museum(session, tenant)
    update_booking_type(
        session, plugin_host(), form_registry(), current_registry(), tenant, "museum", availability_rules=windows(("09:00", "11:00"), capacity=1)
    )
    book_visit(session, tenant, "13800000001", "王芳", companion=False)
    for n, name in ((2, "先来"), (3, "后到")):
        answers = {"visitor_name": name, "id_card": id_number(date(1985, 1, n)), "mobile": f"1380000000{n}"}
        waitlist.join(session, form_registry(), tenant, booking_type_slug="museum", starts_at=at(9), phone=f"1380000000{n}", answers=answers, name=name)
    desk = sign_in(admin_login, "staff-a")

    page = listed(desk.get(DESK + "waitlist", query_string={"booking_type": "museum", "start": at(9).isoformat()}))

    rows = page[page.index("<tbody>") :]
    assert rows.index("13800000002") < rows.index("13800000003")
    assert "<td>1</td>" in rows and "<td>2</td>" in rows
    assert desk.get(DESK + "waitlist", query_string={"booking_type": "no-such", "start": at(9).isoformat()}).status_code == 404
    assert desk.get(DESK + "waitlist", query_string={"booking_type": "museum", "start": "soon"}).status_code == 422
    by_local_time = desk.get(DESK + "waitlist", query_string={"booking_type": "museum", "at": at(9).replace(tzinfo=None).isoformat(timespec="minutes")})
    assert by_local_time.status_code == 200 and "13800000003" in by_local_time.get_data(as_text=True), "the picker's local time names the slot"
    picker = desk.get(DESK + "waitlist")
    assert picker.status_code == 200 and 'name="booking_type"' in picker.get_data(as_text=True) and 'value="museum"' in picker.get_data(as_text=True)


def test_another_tenants_waitlist_is_not_found(admin_login, visits):
    response = sign_in(admin_login, "staff-b").get("/admin/t/tenant-a/bookings/waitlist", query_string={"booking_type": "museum", "start": at(9).isoformat()})

    assert response.status_code == 404


def test_the_export_carries_the_desks_filters_and_every_answer(admin_login, visits):
    desk = sign_in(admin_login, "staff-a")
    page = listed(desk.get(DESK, query_string={"q": "王芳"}))
    link = next(part.split('"')[0] for part in page.split('href="') if part.startswith("/admin/t/tenant-a/bookings/export.csv"))
    assert "q=" in link, "the download link carries the desk's filters"

    response = desk.get(link.replace("&amp;", "&"))

    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert len(rows) == 2, "only the filtered booking"
    header, row = rows
    assert row[0] == visits["wang"].voucher_code
    answers = dict(zip(header, row, strict=True))
    assert answers["参观人姓名"] == "王芳" and answers["手机号"] == "13800000001"
    assert answers["身份证号"].endswith(ADULT_ID[-4:]) and ADULT_ID not in row
    assert answers["同行人"].startswith("1. 王小明") and answers["同行人"].endswith(CHILD_ID[-4:])


def test_the_excel_export_has_every_booking_of_the_filters_and_none_of_tenant_b(admin_login, visits):
    response = sign_in(admin_login, "staff-a").get(DESK + f"export.xlsx?from={at(9).date()}&to={at(9).date()}")

    rows = [list(row) for row in load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True)]
    vouchers = {row[0] for row in rows[1:]}
    assert vouchers == {visits["wang"].voucher_code, visits["zhao"].voucher_code}
    assert all("Bee Visitor" not in str(cell) for row in rows for cell in row)


def test_a_bad_export_filter_is_refused_not_a_server_error(admin_login, visits):
    assert sign_in(admin_login, "staff-a").get(DESK + "export.csv?status=bogus").status_code == 422


def test_every_staff_role_sees_the_desk(admin_login, visits):
    for user in ("owner-a", "manager-a", "staff-a"):
        assert sign_in(admin_login, user).get(DESK).status_code == 200
    assert sign_in(admin_login, "owner-b").get(DESK).status_code == 404
