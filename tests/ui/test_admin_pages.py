"""Every parameterless admin page in Chromium, on a phone and on a desktop: nothing from outside, no script error, labelled forms.

The pages come from the registered views, so a page added later is visited without being listed
here. Each is opened at 360×800 and 1280×800 after signing in through the login page: no request may
leave the server, no script may fail (the Content-Security-Policy forbids inline scripts, so one left
in a template fails here), the console stays free of errors, a phone never scrolls sideways, and
every form control has a label. Screenshots go to ``$YUYUE_TEST_ARTIFACTS`` (``test-artifacts/``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from flask import Flask

from yuyue.admin.base import OperatorView, TenantAdminView
from yuyue.db import db
from yuyue.provisioning.operations import add_staff_member
from yuyue.tenancy.models import StaffRole

PASSWORD = "pass-word-1"
VIEWPORTS = {"phone": {"width": 360, "height": 800}, "desktop": {"width": 1280, "height": 800}}
ARTIFACTS = Path(os.environ.get("YUYUE_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")

# Form controls without a label: those a person never types into are left out.
UNLABELLED_CONTROLS = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))"""
DOWNLOADS = (".csv", ".xlsx")
SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def parameterless_pages(app: Flask, kind: type) -> list[str]:
    """The GET pages of every registered view of ``kind`` that name no object, under tenant-a (downloads are files, not pages)."""
    endpoints = {view.endpoint for view in app.extensions["yuyue.admin_views"] if isinstance(view, kind)}
    pages = [
        rule.rule.replace("<slug:tenant_slug>", "tenant-a")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in endpoints and "GET" in rule.methods and not rule.arguments - {"tenant_slug"} and not rule.rule.endswith(DOWNLOADS)
    ]
    return sorted(pages)


@pytest.fixture
def page(page):
    """The ``page`` of tests/ui/conftest.py, in a browser set to Chinese (Chromium asks for en-US otherwise)."""
    page.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})
    return page


@pytest.fixture
def staff(app: Flask, tenants) -> None:
    """owner-a at tenant-a, and an operator."""
    security = app.appbuilder.sm
    add_staff_member(db.session, security, tenant_slug="tenant-a", username="owner-a", role=StaffRole.owner, email="owner-a@example.invalid", password=PASSWORD)
    security.add_user("operator", "Op", "Erator", "operator@example.invalid", security.find_role("Admin"), password=PASSWORD)
    db.session.remove()


class Visit:
    """A page's console errors on top of the ``page`` fixture's watch; every check's findings by page and viewport."""

    def __init__(self, page) -> None:
        self.page = page
        self.console_errors: list[str] = []
        self.findings: list[str] = []
        page.on("console", lambda message: self.console_errors.append(message.text) if message.type == "error" else None)

    def check(self, url: str, viewport: str) -> None:
        page = self.page
        where = f"{url} at {viewport}"
        response = page.goto(url)
        if response is None or response.status != 200:
            self.findings.append(f"{where}: HTTP {response and response.status}")
        page.wait_for_load_state("networkidle")
        if page.watch.foreign_requests:
            self.findings.append(f"{where}: requests left the server: {page.watch.foreign_requests}")
        if page.watch.errors:
            self.findings.append(f"{where}: script errors: {page.watch.errors}")
        if self.console_errors:
            self.findings.append(f"{where}: console errors: {self.console_errors}")
        if viewport == "phone" and (overflow := page.evaluate(SIDEWAYS_SCROLL)) > 0:
            self.findings.append(f"{where}: scrolls sideways by {overflow}px")
        if unlabelled := page.evaluate(UNLABELLED_CONTROLS):
            self.findings.append(f"{where}: controls without a label: {unlabelled}")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9]+", "-", url.split("//", 1)[1].split("/", 1)[1]).strip("-") or "root"
        page.screenshot(path=str(ARTIFACTS / f"admin-{name}-{viewport}.png"), full_page=True)
        page.watch.foreign_requests.clear()
        page.watch.errors.clear()
        self.console_errors.clear()


def sign_in(page, live_server: str, username: str) -> None:
    page.goto(f"{live_server}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r".*/admin/.*"))


def test_the_login_page_in_a_phone(page, live_server, staff):
    page.set_viewport_size(VIEWPORTS["phone"])
    visit = Visit(page)
    visit.check(f"{live_server}/login/", "phone")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert not visit.findings, "\n".join(visit.findings)


def test_an_english_browser_gets_the_login_page_in_english(page, live_server, staff):
    page.set_extra_http_headers({"Accept-Language": "en-US,en;q=0.9"})
    page.goto(f"{live_server}/login/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Sign in").is_visible()


def test_a_failed_sign_in_is_said_on_the_login_page(page, live_server, staff):
    page.goto(f"{live_server}/login/")
    page.get_by_label("用户名").fill("owner-a")
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    assert "无效的用户名或密码" in page.locator(".flash").inner_text()
    assert page.watch.errors == [] and page.watch.foreign_requests == []


def test_every_merchant_page_on_a_phone_and_a_desktop(app, page, live_server, staff):
    pages = parameterless_pages(app, TenantAdminView)
    assert "/admin/t/tenant-a/" in pages
    sign_in(page, live_server, "owner-a")
    visit = Visit(page)
    for viewport, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        for path in pages:
            visit.check(f"{live_server}{path}", viewport)
    assert not visit.findings, "\n".join(visit.findings)


def test_every_operator_page_on_a_phone_and_a_desktop(app, page, live_server, staff):
    pages = ["/admin/", *parameterless_pages(app, OperatorView)]
    sign_in(page, live_server, "operator")
    visit = Visit(page)
    for viewport, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        for path in pages:
            visit.check(f"{live_server}{path}", viewport)
    assert not visit.findings, "\n".join(visit.findings)


def test_the_language_links_switch_the_page_and_stay_on_it(page, live_server, staff):
    sign_in(page, live_server, "owner-a")
    page.goto(f"{live_server}/admin/t/tenant-a/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.get_by_role("link", name="繁體中文").click()
    page.wait_for_url(f"{live_server}/admin/t/tenant-a/")
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    assert "儀表板" in page.locator(".sidebar").inner_text()
    page.get_by_role("link", name="English").click()
    assert "Dashboard" in page.locator(".sidebar").inner_text()
    assert page.watch.errors == [] and page.watch.foreign_requests == []


def test_flask_appbuilders_own_screens_run_their_scripts_under_the_policy(page, live_server, staff):
    """The user and role screens (operators) keep Flask-AppBuilder's look; their inline scripts run by nonce, none is refused."""
    sign_in(page, live_server, "operator")
    visit = Visit(page)
    for path in ("/users/list/", "/roles/list/", "/users/add"):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        refused = [error for error in visit.console_errors if "Content Security Policy" in error]
        assert (refused, page.watch.errors, page.watch.foreign_requests) == ([], [], []), path
