"""Logging in on the site with a code sent to a mobile, logging out, and what a hostile or hurried visitor gets."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta

import pytest
from account_setup import SITE, Browser, phone
from sqlalchemy import select

from yuyue.customers.models import BanSubject, Customer
from yuyue.customers.operations import ban, customer_for_phone
from yuyue.db import tenant_scope
from yuyue.events.channels import sent_messages
from yuyue.types import utcnow

pytestmark = pytest.mark.usefixtures("tenants")


@pytest.fixture
def browser(app) -> Browser:
    """A browser of its own on the site, reading English."""
    return Browser(app)


def test_login_page_asks_for_a_phone_with_a_labelled_field_and_a_csrf_token(browser):
    response = browser.get(f"{SITE}/login")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<label for="login-phone">' in html and 'id="login-phone" name="phone"' in html
    assert 'name="csrf_token"' in html
    assert response.headers["Cache-Control"] == "no-store"


def test_code_goes_through_the_log_channel_and_the_code_form_follows(app, browser):
    response = browser.ask_code("+86 138-0000-0001")

    [message] = sent_messages(app)
    assert (message.tenant, message.to, message.template) == ("tenant-a", phone(1), "login_code")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="login-code" name="code"' in html and f'value="{phone(1)}"' in html


def test_the_right_code_logs_in_and_returns_to_the_page_asked_for(app, browser, session, tenants):
    answer = browser.log_in(1, next_page=f"{SITE}/me/points")

    assert answer.status_code == 303 and answer.headers["Location"] == f"{SITE}/me/points"
    assert browser.get(f"{SITE}/me/points").status_code == 200
    with tenant_scope(tenants["tenant-a"].id):
        assert session.scalars(select(Customer.phone)).all() == [phone(1)]


def test_without_a_next_page_login_leads_to_my_bookings(browser):
    assert browser.log_in(1).headers["Location"] == f"{SITE}/me/bookings"


@pytest.mark.parametrize(
    "next_page",
    [
        "//evil.example/",
        "https://evil.example/t/tenant-a/",
        "/\\evil.example",
        "/t/tenant-b/me/bookings",
        "/api/v1/t/tenant-a/auth/me",
        "javascript:alert(1)",
        "/t/tenant-a/\r\nSet-Cookie: x=1",
        "x" * 5000,
    ],
)
def test_login_never_sends_the_customer_off_this_tenants_site(browser, next_page):
    assert browser.log_in(1, next_page=next_page).headers["Location"] == f"{SITE}/me/bookings"


def test_the_login_page_of_a_signed_in_customer_goes_on_to_the_safe_next_page(browser):
    browser.log_in(1)

    assert browser.get(f"{SITE}/login?next=//evil.example/").headers["Location"] == f"{SITE}/me/bookings"
    assert browser.get(f"{SITE}/login?next={SITE}/me/waitlist").headers["Location"] == f"{SITE}/me/waitlist"


def test_a_wrong_code_is_refused_on_the_page_and_logs_nobody_in(browser):
    browser.ask_code(phone(1))

    response = browser.post(f"{SITE}/login", {"phone": phone(1), "code": "000000" if browser.last_code(phone(1)) != "000000" else "111111"})

    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)
    assert browser.get(f"{SITE}/me/bookings").status_code == 302


def test_after_too_many_wrong_codes_even_the_right_one_is_refused(browser):
    browser.ask_code(phone(1))
    right = browser.last_code(phone(1))
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        browser.post(f"{SITE}/login", {"phone": phone(1), "code": wrong})

    assert browser.post(f"{SITE}/login", {"phone": phone(1), "code": right}).status_code == 429
    assert browser.get(f"{SITE}/me/bookings").status_code == 302


@pytest.mark.parametrize("number", ["", "12345", "not a phone", "1" * 40, "１３８００００００１", "<script>", "02012345678"])
def test_a_number_that_is_no_mainland_mobile_gets_the_form_back_and_no_code(app, browser, number):
    response = browser.ask_code(number)

    assert response.status_code == 422
    assert 'id="login-phone"' in response.get_data(as_text=True)
    assert not sent_messages(app)


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "１２３４５６", "' OR 1=1 --", "9" * 500])
def test_hostile_codes_are_refused_as_wrong_codes(browser, code):
    browser.ask_code(phone(1))

    response = browser.post(f"{SITE}/login", {"phone": phone(1), "code": code})

    assert response.status_code == 422


def test_asking_again_at_once_says_when_a_new_code_may_be_asked_for(app, browser):
    browser.ask_code(phone(1))

    response = browser.ask_code(phone(1))

    assert response.status_code == 429
    assert len(sent_messages(app)) == 1
    assert 'id="login-code"' in response.get_data(as_text=True)  # the code already sent still works


def test_a_banned_account_is_refused_like_the_api_refuses_it(browser, session, tenants):
    with tenant_scope(tenants["tenant-a"].id):
        customer = customer_for_phone(session, phone(1))
        ban(session, BanSubject.customer, str(customer.id), 7, "no-shows", utcnow() - timedelta(minutes=1))
        session.commit()

    response = browser.log_in(1)

    assert response.status_code == 403
    assert browser.get(f"{SITE}/me/bookings").status_code == 302


def test_logout_signs_the_browser_out(browser):
    browser.log_in(1)
    browser.get(f"{SITE}/me/bookings")

    assert browser.post(f"{SITE}/logout").headers["Location"] == f"{SITE}/"
    assert browser.get(f"{SITE}/me/bookings").status_code == 302


def test_a_login_starts_a_new_csrf_token(browser):
    browser.get(f"{SITE}/login")
    before = browser.token
    browser.log_in(1)
    browser.get(f"{SITE}/me/bookings")

    assert browser.token != before
    assert browser.post(f"{SITE}/logout", {"csrf_token": before}).status_code == 400


@pytest.mark.parametrize("path", ["/login", "/login/code", "/logout"])
def test_a_post_without_the_csrf_token_is_a_400_page(browser, path):
    response = browser.post(f"{SITE}{path}", {"phone": phone(1), "code": "123456"}, csrf=False)

    assert response.status_code == 400 and response.mimetype == "text/html"


def test_a_login_at_one_tenant_means_nothing_at_another(browser):
    browser.log_in(1)

    assert browser.get("/t/tenant-b/me/bookings").status_code == 302


# --- rate limits: the API's, counted the same way -------------------------------------------------

LIMITS_ON = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


@pytest.fixture
def limited(make_app):
    """``limited(RATELIMIT_AUTH_LOGIN="2/minute")``: an application counting in memory, its context entered for the test."""
    with ExitStack() as contexts:

        def build(**limits):
            app = make_app(**LIMITS_ON, **limits)
            contexts.enter_context(app.app_context())
            return app

        yield build


class Clock:
    """What the application takes as now (config ``CLOCK``); moves only when told."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def assert_rate_limited_page(response) -> None:
    assert response.status_code == 429 and response.mimetype == "text/html"
    assert 'name="code"' not in response.get_data(as_text=True)  # the limiter's page, not the one saying a code was just sent
    assert 0 < int(response.headers["Retry-After"]) <= 3601


def test_codes_to_one_phone_are_limited_from_any_address_and_through_the_api_too(limited, tenants):
    clock = Clock()
    app = limited(RATELIMIT_AUTH_CODE_PER_PHONE="2/hour", CLOCK=clock)
    app.test_client().post("/api/v1/t/tenant-a/auth/code", json={"phone": phone(1)}, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    clock.advance(seconds=61)  # past the wait between two codes, which is not what this test is about
    assert Browser(app, "10.0.0.8").ask_code(phone(1)).status_code == 200
    clock.advance(seconds=61)

    assert_rate_limited_page(Browser(app, "10.0.0.9").ask_code(phone(1)))
    assert Browser(app, "10.0.0.9").ask_code(phone(2)).status_code == 200


def test_codes_from_one_address_are_limited(limited, tenants):
    app = limited(RATELIMIT_AUTH_CODE_PER_ADDRESS="2/hour")
    browser = Browser(app)
    browser.ask_code(phone(1))
    browser.ask_code(phone(2))

    assert_rate_limited_page(browser.ask_code(phone(3)))


def test_login_attempts_from_one_address_are_limited_but_the_login_page_is_not(limited, tenants):
    app = limited(RATELIMIT_AUTH_LOGIN="2/minute")
    browser = Browser(app)
    for _ in range(2):
        assert browser.post(f"{SITE}/login", {"phone": phone(1), "code": "123456"}).status_code == 422

    assert_rate_limited_page(browser.post(f"{SITE}/login", {"phone": phone(1), "code": "123456"}))
    assert Browser(app, "10.0.0.2").post(f"{SITE}/login", {"phone": phone(1), "code": "123456"}).status_code == 422
    for _ in range(3):
        assert browser.get(f"{SITE}/login").status_code == 200
