"""The admin's error pages show the request's id as a reference: what staff quote to the platform's operator, who finds it in the logs."""

from __future__ import annotations

import logging
import re

import pytest
from error_pages import reference_on
from sqlalchemy import text

from yuyue.db import db
from yuyue.errors import Refused
from yuyue.observability.logs import RequestContextFilter
from yuyue.provisioning.operations import suspend_tenant

DASHBOARD = "/admin/t/tenant-a/"


@pytest.fixture
def owner(admin_login):
    return admin_login("owner-a", language="en")


def test_another_tenants_admin_is_a_not_found_page_with_the_callers_request_id(owner):
    response = owner.get("/admin/t/tenant-b/", headers={"X-Request-ID": "ticket-404"})

    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "Not found" in response.get_data(as_text=True)
    assert reference_on(response) == "ticket-404"


def test_a_suspended_merchants_admin_is_refused_with_the_request_id(owner, session):
    suspend_tenant(session, "tenant-a")

    response = owner.get(DASHBOARD, headers={"X-Request-ID": "ticket-403"})

    assert response.status_code == 403
    assert reference_on(response) == "ticket-403"


def test_without_an_id_of_its_own_staff_are_shown_the_fresh_one(owner):
    response = owner.get("/admin/t/tenant-b/")

    assert re.fullmatch(r"[0-9a-f]{32}", reference_on(response))


def test_a_refusal_no_page_caught_is_an_admin_page_saying_why_with_the_request_id(owner, monkeypatch):
    def refuse(*args, **kwargs):
        raise Refused("the day is closed", code="day_closed")

    monkeypatch.setattr("yuyue.stats.figures.today_at_a_glance", refuse)

    response = owner.get(DASHBOARD, headers={"X-Request-ID": "ticket-409"})

    assert response.status_code == 409 and response.mimetype == "text/html"  # not the API's problem document
    html = response.get_data(as_text=True)
    assert "This cannot be done" in html and "the day is closed" in html
    assert reference_on(response) == "ticket-409"


@pytest.fixture
def broken_dashboard(monkeypatch):
    """The dashboard's query fails as an outage or a bug would: a statement the database refuses (which spoils a PostgreSQL transaction)."""

    def failing_query(session, *args, **kwargs):
        session.execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr("yuyue.stats.figures.today_at_a_glance", failing_query)


@pytest.mark.usefixtures("broken_dashboard")
def test_an_unexpected_error_is_the_admins_error_page_with_the_id_the_logged_traceback_carries(owner, caplog):
    caplog.handler.addFilter(RequestContextFilter())  # as the real handlers have it
    caplog.set_level(logging.ERROR)

    response = owner.get(DASHBOARD, headers={"X-Request-ID": "ticket-500"})

    assert response.status_code == 500 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Something went wrong" in html and "no_such_table" not in html  # the cause stays in the log
    assert 'href="/admin/t/tenant-a/' in html  # the admin's layout, its menu included, not a bare page
    assert reference_on(response) == "ticket-500"
    [logged] = [record for record in caplog.records if record.exc_info]
    assert logged.request_id == "ticket-500" and "no_such_table" in caplog.text
    assert db.session.execute(text("SELECT 1")).scalar() == 1  # the session was rolled back


@pytest.mark.usefixtures("broken_dashboard")
def test_the_admins_reference_reads_in_the_staffs_language(admin_login):
    response = admin_login("owner-a", language="zh_Hans").get(DASHBOARD)

    assert response.status_code == 500
    assert f'参考编号： <code class="request-id">{response.headers["X-Request-ID"]}</code>' in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/no-such-page", "/admin/t/tenant-a/no-such-page"])
def test_a_url_no_route_matches_in_the_admin_is_the_admins_page_with_the_request_id(owner, path):
    response = owner.get(path, headers={"X-Request-ID": "ticket-unrouted"})

    assert response.status_code == 404 and response.mimetype == "text/html"
    assert reference_on(response) == "ticket-unrouted"
    assert "There is nothing at this address." in response.get_data(as_text=True)  # the admin's page, not the site's
