"""Pages in a real browser: Debian's Chromium driven by Playwright, against the app served on loopback.

The browser is never downloaded: Playwright launches ``/usr/bin/chromium``
(``apt-get install -y chromium``; ``.ci/run`` installs it). Without it these
tests are skipped on a developer's machine and fail under CI.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from yuyue.db import db
from yuyue.provisioning.operations import add_staff_member
from yuyue.tenancy.models import StaffRole

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "pass-word-1"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


class _ResponseClosedOnce:
    """A response body whose ``close`` runs once, however many times it is called."""

    def __init__(self, body) -> None:
        self.body, self.closed = body, False

    def __iter__(self):
        return iter(self.body)

    def close(self) -> None:
        if not self.closed and hasattr(self.body, "close"):
            self.closed = True
            self.body.close()


_responses = threading.local()


def _remembering_responses(app: Flask):
    def serve(environ, start_response):
        _responses.body = _ResponseClosedOnce(app(environ, start_response))
        return _responses.body

    return serve


class _ClosingRequestHandler(WSGIRequestHandler):
    """Closes the response however the browser left. Werkzeug's server does not when the browser hangs up while it
    drains the request: the static file served stays open, and its ResourceWarning fails whichever test is running."""

    def run_wsgi(self) -> None:
        _responses.body = None
        try:
            super().run_wsgi()
        finally:
            if _responses.body is not None:
                _responses.body.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The application served by a threaded WSGI server on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, _remembering_responses(app), threaded=True, request_handler=_ClosingRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class PageWatch:
    """What a page did that a test should know about: requests that left the server, script errors."""

    def __init__(self) -> None:
        self.foreign_requests: list[str] = []
        self.errors: list[str] = []


@pytest.fixture
def page(browser, live_server):
    """A fresh page whose requests may reach only the live server; anything else is aborted and recorded."""
    context = browser.new_context()
    page = context.new_page()
    watch = PageWatch()
    origin = urlsplit(live_server).netloc

    def only_the_server(route) -> None:
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:
            watch.foreign_requests.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_server)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.watch = watch
    yield page
    context.close()


@pytest.fixture
def owner(app: Flask, session, tenants) -> str:
    """``owner-a``, the owner of tenant-a (password :data:`PASSWORD`); its username."""
    add_staff_member(
        session, app.appbuilder.sm, tenant_slug="tenant-a", username="owner-a", role=StaffRole.owner, email="owner-a@example.invalid", password=PASSWORD
    )
    db.session.remove()
    return "owner-a"
