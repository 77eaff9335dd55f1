"""The customer's profile, companions, restrictions and data download on the site: errors next to their fields, hostile text inert, nobody else's rows."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from account_setup import SITE, Browser, phone
from sqlalchemy import select
from tenant_setup import id_number
from test_site_languages import english_msgids, visible_text

from yuyue.bookings.customer_account import save_companion
from yuyue.customers.models import BanSubject, Companion
from yuyue.customers.operations import ban, customer_for_phone
from yuyue.db import tenant_scope
from yuyue.provisioning.operations import get_tenant
from yuyue.types import utcnow

pytestmark = pytest.mark.usefixtures("tenants")

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
ID_NUMBER = id_number(date(2010, 5, 1), 21)
OTHER_ID_NUMBER = id_number(date(2012, 8, 9), 22)
WRONG_CHECK_CHARACTER = ID_NUMBER[:-1] + ("1" if ID_NUMBER[-1] == "0" else "0")


@pytest.fixture
def browser(app) -> Browser:
    """Customer 1's browser, signed in at tenant A, reading English."""
    browser = Browser(app)
    browser.log_in(1)
    return browser


def customer(session, n: int, tenant: str = "tenant-a"):
    with tenant_scope(get_tenant(session, tenant).id):
        return customer_for_phone(session, phone(n))


def saved_companion(session, n: int, name: str, number: str, tenant: str = "tenant-a") -> Companion:
    with tenant_scope(get_tenant(session, tenant).id):
        return save_companion(session, customer_for_phone(session, phone(n)), name, number)


def companions_of(session, n: int) -> list[tuple[str, str, str | None]]:
    session.commit()
    session.expire_all()
    with tenant_scope(get_tenant(session, "tenant-a").id):
        owner = customer_for_phone(session, phone(n))
        return [(c.name, c.id_number, c.relation) for c in session.scalars(select(Companion).where(Companion.customer_id == owner.id).order_by(Companion.id))]


def field_error(html: str, field_id: str) -> str:
    """The error shown under the field ``field_id``, which must point at it."""
    assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"', html), f"{field_id} is not marked invalid"
    found = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert found, f"no error under {field_id}"
    return found.group(1)


@pytest.mark.parametrize("path", ["/me/profile", "/me/companions", "/me/data"])
def test_the_pages_send_a_visitor_to_log_in_and_back(app, path):
    response = Browser(app).get(f"{SITE}{path}")

    assert response.status_code == 302 and response.headers["Location"] == f"{SITE}/login?next=/t/tenant-a{path}"


def test_my_bookings_links_to_the_profile_and_the_companions(browser):
    html = browser.page(f"{SITE}/me/bookings")

    assert f'href="{SITE}/me/profile"' in html and f'href="{SITE}/me/companions"' in html


# --- profile --------------------------------------------------------------------------------------


def test_the_profile_shows_the_phone_and_saves_the_name(browser, session):
    html = browser.page(f"{SITE}/me/profile")
    assert phone(1) in html and f'href="{SITE}/me/data"' in html

    saved = browser.post(f"{SITE}/me/profile", {"name": "Li Lei"})

    assert saved.status_code == 200 and "Your name is saved." in saved.get_data(as_text=True)
    assert customer(session, 1).name == "Li Lei"
    assert browser.get(f"{SITE}/me/profile").headers["Cache-Control"] == "no-store"


def test_a_hostile_name_is_saved_as_given_and_shown_inert(browser, session):
    browser.post(f"{SITE}/me/profile", {"name": HOSTILE})

    html = browser.page(f"{SITE}/me/profile")

    assert customer(session, 1).name == HOSTILE
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_bad_name_is_refused_next_to_the_field_with_what_was_typed(browser, session, name):
    browser.post(f"{SITE}/me/profile", {"name": "Li Lei"})

    response = browser.post(f"{SITE}/me/profile", {"name": name})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "1-100 characters" in field_error(html, "profile-name")
    assert customer(session, 1).name == "Li Lei"


def test_a_post_without_the_csrf_token_changes_nothing(browser, session):
    response = browser.post(f"{SITE}/me/profile", {"name": "Mallory"}, csrf=False)

    assert response.status_code == 400 and customer(session, 1).name is None


# --- companions -----------------------------------------------------------------------------------


def test_a_companion_is_added_listed_with_its_id_number_and_edited(browser, session):
    added = browser.post(f"{SITE}/me/companions", {"name": "Li Xiaoming", "id_number": ID_NUMBER, "phone": "", "relation": "son"})
    assert added.status_code == 303 and added.headers["Location"] == f"{SITE}/me/companions"
    [(name, number, relation)] = companions_of(session, 1)
    assert (name, number, relation) == ("Li Xiaoming", ID_NUMBER, "son")
    html = browser.page(f"{SITE}/me/companions")
    assert "Li Xiaoming" in html and ID_NUMBER in html
    companion_id = re.search(r'/me/companions/(\d+)"', html).group(1)

    edit_page = browser.page(f"{SITE}/me/companions/{companion_id}")
    assert f'value="{ID_NUMBER}"' in edit_page and 'value="son"' in edit_page
    edited = browser.post(f"{SITE}/me/companions/{companion_id}", {"name": "Li Xiaohong", "id_number": OTHER_ID_NUMBER, "phone": "", "relation": ""})

    assert edited.status_code == 303
    assert companions_of(session, 1) == [("Li Xiaohong", OTHER_ID_NUMBER, None)]


def test_a_bad_companion_is_refused_next_to_each_field_with_what_was_typed(browser, session):
    response = browser.post(f"{SITE}/me/companions", {"name": " ", "id_number": WRONG_CHECK_CHARACTER, "phone": "12", "relation": "son"})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "1-100 characters" in field_error(html, "companion-name")
    assert "not a valid resident ID number" in field_error(html, "companion-id-number")
    field_error(html, "companion-phone")
    assert f'value="{WRONG_CHECK_CHARACTER}"' in html and 'value="son"' in html
    assert companions_of(session, 1) == []


def test_an_id_number_another_companion_has_is_refused_next_to_the_field(browser, session):
    first = saved_companion(session, 1, "Li Xiaoming", ID_NUMBER)
    saved_companion(session, 1, "Li Xiaohong", OTHER_ID_NUMBER)
    browser.page(f"{SITE}/me/companions/{first.id}")

    response = browser.post(f"{SITE}/me/companions/{first.id}", {"name": "Li Xiaoming", "id_number": OTHER_ID_NUMBER})

    assert response.status_code == 409
    assert "another saved companion has this ID number" in field_error(response.get_data(as_text=True), "companion-id-number")
    assert companions_of(session, 1) == [("Li Xiaoming", ID_NUMBER, None), ("Li Xiaohong", OTHER_ID_NUMBER, None)]


def test_a_companion_is_removed(browser, session):
    companion = saved_companion(session, 1, "Li Xiaoming", ID_NUMBER)
    browser.page(f"{SITE}/me/companions")

    response = browser.post(f"{SITE}/me/companions/{companion.id}/remove")

    assert response.status_code == 303 and companions_of(session, 1) == []


def test_another_customers_companion_is_a_404_page_and_stays_as_it_was(browser, session):
    theirs = saved_companion(session, 2, "Wang Wu", ID_NUMBER)
    browser.page(f"{SITE}/me/companions")

    assert browser.get(f"{SITE}/me/companions/{theirs.id}").status_code == 404
    assert browser.post(f"{SITE}/me/companions/{theirs.id}", {"name": "Mallory", "id_number": OTHER_ID_NUMBER}).status_code == 404
    assert browser.post(f"{SITE}/me/companions/{theirs.id}/remove").status_code == 404
    assert "Wang Wu" not in browser.page(f"{SITE}/me/companions")
    assert companions_of(session, 2) == [("Wang Wu", ID_NUMBER, None)]


def test_a_hostile_companion_name_is_shown_inert(browser, session):
    companion = saved_companion(session, 1, HOSTILE, ID_NUMBER)

    for path in ("/me/companions", f"/me/companions/{companion.id}"):
        html = browser.page(f"{SITE}{path}")
        assert "<script>alert(1)" not in html and "<img src=x" not in html, path


# --- restrictions and the download ----------------------------------------------------------------


def test_the_points_page_shows_the_bans_ahead_with_their_end_and_reasons_inert(browser, session):
    now = utcnow()
    with tenant_scope(get_tenant(session, "tenant-a").id):
        ban(session, BanSubject.phone, phone(1), 10, HOSTILE, now)
        ban(session, BanSubject.customer, customer_for_phone(session, phone(1)), 1, "long over", now - timedelta(days=5))
        ban(session, BanSubject.phone, phone(2), 10, "someone else's", now)

    html = browser.page(f"{SITE}/me/points")

    assert "Booking restrictions" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "until" in html and "long over" not in html and "someone else" not in html


def test_a_customer_without_bans_sees_no_restrictions(browser):
    assert "Booking restrictions" not in browser.page(f"{SITE}/me/points")


def test_my_data_downloads_the_customers_own_rows(browser, session):
    saved_companion(session, 1, "Li Xiaoming", ID_NUMBER)
    saved_companion(session, 2, "Wang Wu", OTHER_ID_NUMBER)

    response = browser.get(f"{SITE}/me/data")

    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith('attachment; filename="yuyue-data-tenant-a-')
    data = json.loads(response.get_data(as_text=True))
    assert [(c["name"], c["id_number"]) for c in data["companions"]] == [("Li Xiaoming", ID_NUMBER)]
    assert "Wang Wu" not in response.get_data(as_text=True)


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
def test_no_english_message_on_the_account_pages_in_chinese(app, session, locale):
    companion = saved_companion(session, 1, "Li Xiaoming", ID_NUMBER)
    with tenant_scope(get_tenant(session, "tenant-a").id):
        ban(session, BanSubject.id_number, ID_NUMBER, 10, "迟到三次", utcnow())
    browser = Browser(app)
    browser.get(f"{SITE}/?lang={locale}")
    browser.log_in(1)

    pages = {
        "profile": browser.get(f"{SITE}/me/profile"),
        "refused profile": browser.post(f"{SITE}/me/profile", {"name": " "}),
        "companions": browser.get(f"{SITE}/me/companions"),
        "refused companion": browser.post(f"{SITE}/me/companions", {"name": " ", "id_number": WRONG_CHECK_CHARACTER, "phone": "12", "relation": " "}),
        "companion": browser.get(f"{SITE}/me/companions/{companion.id}"),
        "points and bans": browser.get(f"{SITE}/me/points"),
    }

    english = english_msgids(locale)
    assert "我的同行人" in visible_text(pages["companions"].get_data(as_text=True))
    for name, page in pages.items():
        text = visible_text(page.get_data(as_text=True)).replace("Tenant-A", "")  # the merchant's name, theirs to translate
        assert [msgid for msgid, pattern in english if pattern.search(text)] == [], name
