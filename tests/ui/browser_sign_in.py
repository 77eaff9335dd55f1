"""Signing in to the admin in the browser, as a person does: the login page's form, then the language they read."""

from __future__ import annotations

PASSWORD = "pass-word-1"


def sign_in(page, live_server: str, username: str, *, language: str | None = None) -> None:
    """``username`` signs in through ``/login/``; with ``language`` (``"en"``), then chooses it on the language links' address."""
    page.goto(f"{live_server}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_load_state()
    if language is not None:
        page.goto(f"{live_server}/lang/{language}")
