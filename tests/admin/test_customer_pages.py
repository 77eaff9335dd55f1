"""The customers pages: search and export, a customer's page as each role sees it, and the managers' actions with their audit.

The pages call the merchant API's operations, so these tests check what the pages add: the forms, the
problems shown beside the fields with what was typed kept, masking by role in HTML, the redirects and
flashes, CSRF, the role and tenant refusals, and that merchant text is shown escaped.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, time, timedelta

import pytest
from desk_setup import ADULT_ID, CHILD_ID, ZONE, book_visit, make_museum, sign_in
from sqlalchemy import select, update

from yuyue.audit.models import AuditRecord
from yuyue.bookings.customer_account import save_companion
from yuyue.bookings.customer_records import impose_ban
from yuyue.bookings.models import Booking, BookingStatus
from yuyue.bookings.placement import SYSTEM
from yuyue.customers.models import Ban, BanSubject, PointsEntry
from yuyue.customers.operations import ban, customer_for_phone
from yuyue.db import db, tenant_scope
from yuyue.types import utcnow

PAGES = "/admin/t/tenant-a/customers/"
LI_PHONE, WANG_PHONE, ZHAO_PHONE = "13812345678", "13900001111", "13700002222"
HOSTILE = '<script>alert("x")</script><b onmouseover=1>'
HOSTILE_TAG = "<img src=x onerror=alert(1)>"  # a tag may hold no quote
# What staff do about a customer, as the audit log names it (creating and naming a customer is recorded too).
STAFF_ACTIONS = ("customer.points_adjusted", "customer.banned", "customer.ban_lifted", "customer.annotated")


@pytest.fixture
def customers(session, tenants):
    """tenant-a's Li (a museum visit with a child on it, the child saved as his companion), Wang and Zhao (no bookings)."""
    tenant = tenants["tenant-a"]
    make_museum(session, tenant)
    visit = book_visit(session, tenant, LI_PHONE, "Li Lei")
    with tenant_scope(tenant.id):
        li = customer_for_phone(session, LI_PHONE, "Li Lei")
        save_companion(session, li, "Li Xiaoming", CHILD_ID, relation="son")
        wang = customer_for_phone(session, WANG_PHONE, "Wang Fang")
        zhao = customer_for_phone(session, ZHAO_PHONE, "Zhao Min")
    db.session.remove()
    return {"li": li.id, "wang": wang.id, "zhao": zhao.id, "visit": visit.public_id}


@pytest.fixture
def manager(admin_login):
    return sign_in(admin_login, "manager-a")


@pytest.fixture
def front_desk(admin_login):
    """The plain staff role: reads, never acts."""
    return sign_in(admin_login, "staff-a")


def main(response) -> str:
    page = response.get_data(as_text=True)
    return page[page.index("<main") :]


def names(response) -> list[str]:
    assert response.status_code == 200, main(response)[:2000]
    return re.findall(r'<td class="name"><a href="/admin/t/tenant-a/customers/\d+">([^<]*)</a></td>', main(response))


def field_error(page: str, field_id: str) -> str:
    """The code of the problem shown next to ``field_id``."""
    match = re.search(rf'<p class="field-error" id="{field_id}-error" data-code="([^"]+)">', page)
    assert match, f"no problem shown at #{field_id}"
    return match.group(1)


def audit_actions(session, tenants) -> list[str]:
    with tenant_scope(tenants["tenant-a"].id):
        return list(session.scalars(select(AuditRecord.action).where(AuditRecord.action.in_(STAFF_ACTIONS)).order_by(AuditRecord.id)))


def customer_ban(session, tenants, customer_id: int, days: int = 7) -> int:
    with tenant_scope(tenants["tenant-a"].id):
        return impose_ban(session, tenants["tenant-a"], customer_id, reason="broke a chair", now=utcnow(), days=days, actor=SYSTEM).id


# --- the list ----------------------------------------------------------------------------


def test_the_list_shows_every_customer_newest_first(manager, customers):
    assert names(manager.get(PAGES)) == ["Zhao Min", "Wang Fang", "Li Lei"]


def test_the_search_finds_by_part_of_a_name_a_phone_or_an_id_number(manager, customers):
    assert names(manager.get(PAGES + "?q=wang")) == ["Wang Fang"]
    assert names(manager.get(PAGES + "?q=0000")) == ["Zhao Min", "Wang Fang"]
    assert names(manager.get(PAGES + f"?q={ADULT_ID}")) == ["Li Lei"]
    assert names(manager.get(PAGES + f"?q={CHILD_ID}")) == ["Li Lei"]


def test_the_tag_filter_keeps_customers_with_that_tag(manager, customers):
    manager.post(f"{PAGES}{customers['wang']}/notes", {"tags": "VIP\r\n团体", "note": ""})
    manager.post(f"{PAGES}{customers['zhao']}/notes", {"tags": "VIP-candidate", "note": ""})

    assert names(manager.get(PAGES + "?tag=VIP")) == ["Wang Fang"]
    assert names(manager.get(PAGES + "?tag=团体")) == ["Wang Fang"]


def test_a_row_shows_bookings_points_tags_and_a_ban(manager, customers, session, tenants):
    customer_ban(session, tenants, customers["li"])
    manager.post(f"{PAGES}{customers['li']}/points", {"delta": "-3", "reason": "late"})
    manager.post(f"{PAGES}{customers['li']}/notes", {"tags": "regular", "note": ""})

    row = main(manager.get(PAGES + "?q=li")).split("<tbody>")[1].split("</tr>")[0]

    assert [cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)][1:] == [
        LI_PHONE,
        '<span class="badge tag">regular</span>',
        "1",
        "-3",
        '<span class="badge badge-bad banned">Banned</span>',
    ]


def test_the_list_pages_with_a_next_page_link_that_keeps_the_search(manager, customers, monkeypatch):
    monkeypatch.setattr("yuyue.admin.customers.PAGE_SIZE", 1)
    first = main(manager.get(PAGES + "?q=0000"))
    next_page = re.search(r'class="button secondary next-page" href="([^"]+)"', first).group(1).replace("&amp;", "&")

    assert "q=0000" in next_page
    assert names(manager.get(next_page)) == ["Wang Fang"]
    assert 'class="button secondary next-page"' not in main(manager.get(next_page))


def test_a_bad_search_is_shown_next_to_its_field_with_what_was_typed(manager, customers):
    typed = "x" * 101
    response = manager.get(PAGES + f"?q={typed}&cursor=nonsense")

    assert response.status_code == 422
    page = main(response)
    assert field_error(page, "q") == "too_long" and f'value="{typed}"' in page


def test_a_bad_cursor_is_a_problem_not_a_500(manager, customers):
    response = manager.get(PAGES + "?cursor=nonsense")

    assert response.status_code == 422 and 'data-code="invalid_cursor"' in main(response)


# --- masking by role ---------------------------------------------------------------------


def test_staff_see_phones_and_id_numbers_masked_and_no_birth_dates(front_desk, customers):
    listed = main(front_desk.get(PAGES))
    page = main(front_desk.get(f"{PAGES}{customers['li']}"))

    assert "138****5678" in listed and LI_PHONE not in listed
    assert "138****5678" in page and LI_PHONE not in page
    assert CHILD_ID[-4:] in page and CHILD_ID not in page and CHILD_ID[6:14] not in page
    assert "Birth date" not in page


def test_managers_see_phones_id_numbers_and_birth_dates_in_full(manager, customers):
    page = main(manager.get(f"{PAGES}{customers['li']}"))

    assert LI_PHONE in page and CHILD_ID in page
    assert "Birth date" in page and f"{CHILD_ID[6:10]}-{CHILD_ID[10:12]}-{CHILD_ID[12:14]}" in page


def test_staff_find_a_customer_by_the_whole_phone_but_not_by_hidden_digits(front_desk, customers):
    assert names(front_desk.get(PAGES + f"?q={LI_PHONE}")) == ["Li Lei"]
    assert names(front_desk.get(PAGES + "?q=1234")) == []


def test_a_ban_on_an_id_number_is_shown_masked_to_staff(front_desk, customers, session, tenants):
    with tenant_scope(tenants["tenant-a"].id):
        ban(session, BanSubject.id_number, ADULT_ID, 30, "no-shows", utcnow())

    page = main(front_desk.get(f"{PAGES}{customers['li']}"))

    assert ADULT_ID[-4:] in page and ADULT_ID not in page and "no-shows" in page


# --- exports -----------------------------------------------------------------------------


def test_the_export_links_carry_the_search_and_the_csv_holds_its_rows(front_desk, customers):
    page = main(front_desk.get(PAGES + "?q=a"))
    link = re.search(r'href="([^"]+export\.csv[^"]*)"', page).group(1).replace("&amp;", "&")

    response = front_desk.get(link)

    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith('attachment; filename="customers-tenant-a-')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row[1] for row in rows[1:]] == ["Zhao Min", "Wang Fang"]
    assert {row[2] for row in rows[1:]} == {"137****2222", "139****1111"}


def test_the_xlsx_export_is_a_spreadsheet(manager, customers):
    response = manager.get(PAGES + "export.xlsx?q=li")

    assert response.status_code == 200 and response.get_data()[:2] == b"PK"


def test_an_export_with_an_unknown_parameter_is_refused(manager, customers):
    assert manager.get(PAGES + "export.csv?colour=red").status_code == 422


# --- a customer's page -------------------------------------------------------------------


def test_the_page_shows_the_profile_bookings_companions_and_links_to_the_desk(manager, customers):
    page = main(manager.get(f"{PAGES}{customers['li']}"))

    assert "Li Lei" in page and "Li Xiaoming" in page and "son" in page
    assert f'href="/admin/t/tenant-a/bookings/{customers["visit"]}"' in page
    assert 'id="points"' in page and 'id="ban"' in page and 'id="notes"' in page


def test_another_tenants_customer_is_not_found(admin_login, customers, session, tenants):
    with tenant_scope(tenants["tenant-b"].id):
        theirs = customer_for_phone(session, "13600003333", "Elsewhere").id
    db.session.remove()
    manager = sign_in(admin_login, "manager-a")

    assert manager.get(f"{PAGES}{theirs}").status_code == 404
    assert manager.post(f"{PAGES}{theirs}/points", {"delta": "5", "reason": "x"}).status_code == 404
    assert manager.get(f"{PAGES}999999999").status_code == 404
    assert manager.get(f"{PAGES}99999999999999999999").status_code == 404


# --- actions -----------------------------------------------------------------------------


def test_a_manager_adjusts_points_and_the_change_is_audited(manager, customers, session, tenants, admin_users):
    response = manager.post(f"{PAGES}{customers['li']}/points", {"delta": "+15", "reason": "birthday gift"})

    assert response.status_code == 302 and response.headers["Location"].endswith(f"/customers/{customers['li']}#points")
    page = main(manager.get(response.headers["Location"]))
    assert "The points are adjusted." in page
    assert '<dd class="points-balance">15</dd>' in page and "birthday gift" in page
    with tenant_scope(tenants["tenant-a"].id):
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "customer.points_adjusted")).one()
    assert record.actor == f"staff:{admin_users['manager-a']}"


@pytest.mark.parametrize(
    ("delta", "reason", "field", "code"),
    [
        ("abc", "gift", "points-delta", "invalid_delta"),
        ("0", "gift", "points-delta", "invalid_delta"),
        ("100001", "gift", "points-delta", "invalid_delta"),
        ("99999999999999999999", "gift", "points-delta", "invalid_delta"),
        ("5", "", "points-reason", "invalid_text"),
        ("5", "x" * 61, "points-reason", "invalid_text"),
    ],
)
def test_a_refused_adjustment_is_shown_beside_its_field_with_what_was_typed(manager, customers, session, tenants, delta, reason, field, code):
    response = manager.post(f"{PAGES}{customers['li']}/points", {"delta": delta, "reason": reason})

    assert response.status_code == 422
    page = main(response)
    assert field_error(page, field) == code
    assert f'id="points-delta" name="delta" inputmode="numeric" maxlength="20" value="{delta}"' in page
    assert f'id="points-reason" name="reason" maxlength="60" value="{reason}"' in page
    with tenant_scope(tenants["tenant-a"].id):
        assert session.scalars(select(PointsEntry)).all() == []


def test_problems_are_in_the_readers_language(admin_login, customers):
    manager = admin_login("manager-a", language="zh_Hant")

    page = main(manager.post(f"{PAGES}{customers['li']}/points", {"delta": "abc", "reason": "gift"}))

    assert field_error(page, "points-delta") == "invalid_delta"
    assert "調整積分" in page and "a non-zero whole number" not in page


def test_a_manager_bans_for_days_and_lifts_the_ban(manager, customers, session, tenants):
    banned = manager.post(f"{PAGES}{customers['li']}/bans", {"days": "30", "until": "", "reason": "broke a chair"})

    assert banned.status_code == 302
    page = main(manager.get(banned.headers["Location"]))
    assert "The customer is banned." in page and "In force" in page
    with tenant_scope(tenants["tenant-a"].id):
        ban_id = session.scalars(select(Ban.id)).one()

    lifted = manager.post(f"{PAGES}{customers['li']}/bans/{ban_id}/lift", {"reason": "paid for the chair"})

    assert lifted.status_code == 302 and lifted.headers["Location"].endswith("#lift")
    page = main(manager.get(lifted.headers["Location"]))
    assert "The ban is lifted." in page and "Ended" in page and 'class="lift"' not in page
    assert audit_actions(session, tenants) == ["customer.banned", "customer.ban_lifted"]


def test_a_ban_until_a_local_date_and_time_ends_then(manager, customers, session, tenants):
    day = utcnow().astimezone(ZONE).date() + timedelta(days=3)

    response = manager.post(f"{PAGES}{customers['wang']}/bans", {"days": "", "until": f"{day}T18:30", "reason": "rude"})

    assert response.status_code == 302
    with tenant_scope(tenants["tenant-a"].id):
        ends_at = session.scalars(select(Ban.ends_at)).one()
    assert ends_at == datetime.combine(day, time(18, 30), ZONE)


@pytest.mark.parametrize(
    ("days", "until", "where", "code"),
    [
        ("", "", None, "until_or_days"),
        ("3", "2030-01-01T10:00", None, "until_or_days"),
        ("0", "", "ban-days", "invalid_days"),
        ("many", "", "ban-days", "invalid_days"),
        ("", "tomorrow", "ban-until", "invalid_datetime"),
        ("", "2001-01-01T10:00", "ban-until", "invalid_until"),
    ],
)
def test_a_refused_ban_is_shown_where_it_belongs_with_what_was_typed(manager, customers, days, until, where, code):
    response = manager.post(f"{PAGES}{customers['li']}/bans", {"days": days, "until": until, "reason": "rude"})

    assert response.status_code == 422
    page = main(response)
    if where is None:
        assert re.search(rf'<form[^>]+id="ban">\s*<h3>[^<]*</h3>\s*<p class="flash flash-error refusal-message" role="alert" data-code="{code}">', page)
    else:
        assert field_error(page, where) == code
    assert f'name="days" inputmode="numeric" maxlength="20" value="{days}"' in page and f'name="until" value="{until}"' in page
    assert 'id="ban-reason" name="reason" maxlength="200" value="rude"' in page


def test_lifting_a_ban_that_has_ended_is_refused_with_its_code(manager, customers, session, tenants):
    ban_id = customer_ban(session, tenants, customers["li"])
    assert manager.post(f"{PAGES}{customers['li']}/bans/{ban_id}/lift", {"reason": "sorry"}).status_code == 302

    response = manager.post(f"{PAGES}{customers['li']}/bans/{ban_id}/lift", {"reason": "again"})

    assert response.status_code == 409 and 'data-code="ban_not_in_force"' in main(response)


def test_lifting_without_a_reason_keeps_the_form_of_that_ban(manager, customers, session, tenants):
    ban_id = customer_ban(session, tenants, customers["li"])

    response = manager.post(f"{PAGES}{customers['li']}/bans/{ban_id}/lift", {"reason": "   "})

    assert response.status_code == 422
    assert field_error(main(response), f"lift-reason-{ban_id}") == "invalid_text"


def test_another_customers_ban_cannot_be_lifted_from_this_page(manager, customers, session, tenants):
    ban_id = customer_ban(session, tenants, customers["wang"])

    assert manager.post(f"{PAGES}{customers['li']}/bans/{ban_id}/lift", {"reason": "oops"}).status_code == 404


def test_tags_and_note_are_saved_as_given_and_shown_escaped(manager, customers, session, tenants):
    note = f"{HOSTILE}\nline two"
    response = manager.post(f"{PAGES}{customers['li']}/notes", {"tags": f"VIP\r\n{HOSTILE_TAG}\r\n\r\nVIP", "note": note.replace("\n", "\r\n")})

    assert response.status_code == 302
    page = main(manager.get(response.headers["Location"]))
    listed = main(manager.get(PAGES))
    for shown in (page, listed):
        assert "<img" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert "<script>" not in page and "<b onmouseover" not in page and "&lt;script&gt;alert(" in page
    with tenant_scope(tenants["tenant-a"].id):
        li = customer_for_phone(session, LI_PHONE)
        assert (li.tags, li.note) == (["VIP", HOSTILE_TAG], note)
    assert audit_actions(session, tenants) == ["customer.annotated"]
    with tenant_scope(tenants["tenant-a"].id):
        payload = session.scalars(select(AuditRecord.data).where(AuditRecord.action == "customer.annotated")).one()
    assert "VIP" not in str(payload) and "line two" not in str(payload)


def test_a_refused_tag_is_named_and_the_tags_and_note_stay_as_typed(manager, customers):
    response = manager.post(f"{PAGES}{customers['li']}/notes", {"tags": 'ok\r\nsay "hi"', "note": "kept"})

    assert response.status_code == 422
    page = main(response)
    assert field_error(page, "notes-tags") == "invalid_tag" and "say &#34;hi&#34;" in page
    assert '<textarea id="notes-note" name="note" rows="4">\nkept</textarea>' in page


def test_a_note_over_the_limit_is_refused(manager, customers):
    response = manager.post(f"{PAGES}{customers['li']}/notes", {"tags": "", "note": "n" * 2001})

    assert response.status_code == 422 and field_error(main(response), "notes-note") == "invalid_note"


# --- who may act -------------------------------------------------------------------------


def test_staff_see_no_forms_and_are_refused_every_action(front_desk, customers, session, tenants):
    ban_id = customer_ban(session, tenants, customers["li"])
    page = main(front_desk.get(f"{PAGES}{customers['li']}"))

    assert "<form" not in page.split('id="lift"')[1] and 'id="actions"' not in page
    for action, data in (
        ("points", {"delta": "5", "reason": "x"}),
        ("bans", {"days": "3", "reason": "x"}),
        (f"bans/{ban_id}/lift", {"reason": "x"}),
        ("notes", {"tags": "x", "note": "x"}),
        ("merge", {"from": str(customers["wang"]), "reason": "x"}),
        ("erase", {"reason": "x"}),
    ):
        assert front_desk.post(f"{PAGES}{customers['li']}/{action}", data).status_code == 403, action
    assert audit_actions(session, tenants) == ["customer.banned"]


def test_an_owner_acts_as_a_manager_does(admin_login, customers):
    owner = sign_in(admin_login, "owner-a")

    assert owner.post(f"{PAGES}{customers['li']}/points", {"delta": "1", "reason": "hello"}).status_code == 302


def test_an_action_without_the_csrf_token_is_refused(manager, customers, session, tenants):
    response = manager.post_without_csrf(f"{PAGES}{customers['li']}/points", {"delta": "5", "reason": "x"})

    assert response.status_code == 400
    assert audit_actions(session, tenants) == []


@pytest.mark.parametrize(("language", "label"), [("zh_Hans", "客户"), ("zh_Hant", "客戶"), ("en", "Customers")])
def test_the_menu_leads_to_the_customers_in_each_language(admin_login, customers, language, label):
    page = admin_login("staff-a", language=language).get("/admin/t/tenant-a/").get_data(as_text=True)

    assert f'<a href="/admin/t/tenant-a/customers/" class="icon-customers">{label}</a>' in page


# --- merging two records, erasing one -----------------------------------------------------


def bookings_of(session, tenants, customer_id: int) -> list[str]:
    with tenant_scope(tenants["tenant-a"].id):
        return list(session.scalars(select(Booking.public_id).where(Booking.customer_id == customer_id)))


def test_a_manager_merges_another_record_into_this_one_and_the_other_leaves_the_list(manager, customers, session, tenants):
    response = manager.post(f"{PAGES}{customers['wang']}/merge", {"from": str(customers["li"]), "reason": "same person, two phones"})

    assert response.status_code == 302 and response.headers["Location"].endswith(f"/customers/{customers['wang']}#merge")
    assert bookings_of(session, tenants, customers["wang"]) == [customers["visit"]]
    assert bookings_of(session, tenants, customers["li"]) == []
    assert "Li Xiaoming" in main(manager.get(f"{PAGES}{customers['wang']}"))  # the companion moved
    assert names(manager.get(PAGES)) == ["Zhao Min", "Wang Fang"]
    assert manager.get(f"{PAGES}{customers['li']}").status_code == 404


@pytest.mark.parametrize(
    ("typed", "field", "code"),
    [("", "merge-from", "invalid_customer"), ("abc", "merge-from", "invalid_customer"), ("0", "merge-from", "invalid_customer")],
)
def test_a_merge_with_no_customer_number_is_shown_beside_the_field(manager, customers, typed, field, code):
    response = manager.post(f"{PAGES}{customers['wang']}/merge", {"from": typed, "reason": "x"})

    assert response.status_code == 422 and field_error(main(response), field) == code


def test_a_merge_into_itself_or_from_a_missing_customer_is_refused_and_changes_nothing(manager, customers, session, tenants):
    itself = manager.post(f"{PAGES}{customers['li']}/merge", {"from": str(customers["li"]), "reason": "x"})
    missing = manager.post(f"{PAGES}{customers['li']}/merge", {"from": "999999", "reason": "x"})

    assert itself.status_code == 422 and field_error(main(itself), "merge-from") == "merge_into_itself"
    assert missing.status_code == 404
    assert bookings_of(session, tenants, customers["li"]) == [customers["visit"]]


def test_an_owner_erases_a_customer_and_the_page_shows_no_personal_value(admin_login, customers, session, tenants):
    owner = sign_in(admin_login, "owner-a")
    with tenant_scope(tenants["tenant-a"].id):
        session.execute(update(Booking).where(Booking.public_id == customers["visit"]).values(status=BookingStatus.completed))
        session.commit()

    response = owner.post(f"{PAGES}{customers['li']}/erase", {"reason": "she asked by phone"})

    assert response.status_code == 302, main(response)[:2000]
    page = main(owner.get(f"{PAGES}{customers['li']}"))
    assert "Li Lei" not in page and LI_PHONE not in page and "Li Xiaoming" not in page
    assert 'id="erase"' not in page  # erased once, there is nothing left to erase
    assert customers["visit"][:8] in page  # the booking stays, with its counts


def test_a_booking_still_to_come_blocks_the_erasure_and_is_named(admin_login, customers):
    owner = sign_in(admin_login, "owner-a")

    response = owner.post(f"{PAGES}{customers['li']}/erase", {"reason": "asked"})

    assert response.status_code == 409
    assert f"bookings/{customers['visit']}" in main(response) and "Li Lei" in main(response)


def test_only_an_owner_erases_and_a_reason_is_required(manager, admin_login, customers):
    owner = sign_in(admin_login, "owner-a")

    assert 'id="erase"' not in main(manager.get(f"{PAGES}{customers['zhao']}"))
    assert manager.post(f"{PAGES}{customers['zhao']}/erase", {"reason": "x"}).status_code == 403
    blank = owner.post(f"{PAGES}{customers['zhao']}/erase", {"reason": "   "})
    assert blank.status_code == 422 and field_error(main(blank), "erase-reason") == "invalid_reason"
    assert "Zhao Min" in main(owner.get(f"{PAGES}{customers['zhao']}"))
