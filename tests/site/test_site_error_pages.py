"""The site's error pages show the request's id as a reference: what a customer quotes to the merchant, who finds it in the logs.

Every kind of error page: a page that does not exist (a logo never uploaded), a suspended merchant (refused), a booking type that
does not exist (a refusal of the domain), too many tries (429), and a bug or an outage (500, the logged
traceback carrying the same id).
"""

from __future__ import annotations

import logging
import re

import pytest
from account_setup import SITE, Browser, phone
from error_pages import reference_on
from sqlalchemy import text

from yuyue.db import db
from yuyue.observability.logs import RequestContextFilter
from yuyue.provisioning.operations import suspend_tenant

pytestmark = pytest.mark.usefixtures("tenants")


@pytest.fixture
def browser(app) -> Browser:
    return Browser(app)


def test_a_page_that_does_not_exist_shows_the_callers_request_id(browser):
    response = browser.get(f"{SITE}/logo", headers={"X-Request-ID": "ticket-404"})  # the merchant uploaded none

    assert response.status_code == 404 and response.mimetype == "text/html"
    assert reference_on(response) == "ticket-404"


def test_without_an_id_of_its_own_the_visitor_is_shown_the_fresh_one(browser):
    response = browser.get(f"{SITE}/logo")

    assert re.fullmatch(r"[0-9a-f]{32}", reference_on(response))


def test_a_suspended_merchants_refusal_shows_the_request_id(browser, session):
    suspend_tenant(session, "tenant-a")

    response = browser.get(f"{SITE}/", headers={"X-Request-ID": "ticket-403"})

    assert response.status_code == 403
    assert reference_on(response) == "ticket-403"


def test_a_refusal_of_the_domain_shows_the_request_id(browser):
    response = browser.get(f"{SITE}/book/no-such-type/", headers={"X-Request-ID": "ticket-domain"})

    assert response.status_code == 404
    assert "no-such-type" in response.get_data(as_text=True)  # the refusal's own message
    assert reference_on(response) == "ticket-domain"


def test_too_many_tries_show_the_request_id(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", RATELIMIT_AUTH_CODE_PER_ADDRESS="1/hour")
    with app.app_context():
        browser = Browser(app)
        browser.ask_code(phone(1))
        browser.get(f"{SITE}/login")

        response = browser.post(f"{SITE}/login/code", {"phone": phone(2)}, headers={"X-Request-ID": "ticket-429"})

    assert response.status_code == 429 and response.headers["Retry-After"]
    assert reference_on(response) == "ticket-429"


@pytest.fixture
def broken_front_page(monkeypatch):
    """The front page's query fails as an outage or a bug would: a statement the database refuses (which spoils a PostgreSQL transaction)."""

    def failing_query(session, tenant):
        session.execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr("yuyue.site.home.list_booking_types", failing_query)


@pytest.fixture
def logged_records(caplog):
    """What the application logs at ERROR, each record with the request's context as the real handlers add it."""
    caplog.handler.addFilter(RequestContextFilter())
    caplog.set_level(logging.ERROR)
    return caplog


@pytest.mark.usefixtures("broken_front_page")
def test_an_unexpected_error_is_the_sites_error_page_with_the_id_the_logged_traceback_carries(browser, logged_records):
    response = browser.get(f"{SITE}/", headers={"X-Request-ID": "ticket-500"})

    assert response.status_code == 500 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Something went wrong on our side" in html and "no_such_table" not in html  # the cause stays in the log
    assert reference_on(response) == "ticket-500"
    [logged] = [record for record in logged_records.records if record.exc_info]
    assert logged.request_id == "ticket-500" and "no_such_table" in logged_records.text
    assert db.session.execute(text("SELECT 1")).scalar() == 1  # the session was rolled back, and serves the next request


@pytest.mark.usefixtures("broken_front_page")
def test_the_reference_reads_in_the_customers_language(app):
    response = Browser(app, language="zh-Hant").get(f"{SITE}/")

    assert response.status_code == 500
    assert f'參考編號： <code class="request-id">{response.headers["X-Request-ID"]}</code>' in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [f"{SITE}/no-such-page", "/t/no-such-merchant/bookings/1/nothing", "/no-such-page", "/t/"])
def test_a_url_no_route_matches_is_the_sites_page_with_the_request_id(browser, path):
    response = browser.get(path, headers={"X-Request-ID": "ticket-unrouted"})

    assert response.status_code == 404 and response.mimetype == "text/html"
    assert reference_on(response) == "ticket-unrouted"


def test_a_url_no_route_matches_under_the_api_stays_a_problem_document(client, problem):
    body = problem(client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "ticket-api"}), 404, "not_found")

    assert body["request_id"] == "ticket-api"


def test_an_unexpected_error_outside_the_site_admin_and_api_is_logged_once_with_its_id_and_answered_by_the_sites_page(app, logged_records):
    def broken():
        raise RuntimeError("broken outside every blueprint")

    app.add_url_rule("/broken-outside", "broken_outside", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as served: the error is answered, not raised into the test

    response = app.test_client().get("/broken-outside", headers={"X-Request-ID": "ticket-core", "Accept-Language": "en"})

    assert response.status_code == 500 and response.mimetype == "text/html"
    assert reference_on(response) == "ticket-core"
    [logged] = [record for record in logged_records.records if record.exc_info]
    assert logged.request_id == "ticket-core" and "broken outside every blueprint" in logged_records.text
