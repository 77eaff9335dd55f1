"""Driving the builder's pages as a browser would without JavaScript: read the page, change some inputs, press a button."""

from __future__ import annotations

import re

from html_forms import posted

BASE = "/admin/t/tenant-a/booking-types"


def page_form(client, url: str, form_id: str | None = None) -> str:
    """The HTML of the page's form (the one with ``form_id``, else the first POST form)."""
    html = client.get(url).get_data(as_text=True)
    return form_html(html, form_id)


def form_html(html: str, form_id: str | None = None) -> str:
    pattern = rf'<form[^>]*id="{form_id}"[^>]*>.*?</form>' if form_id else r'<form[^>]*method="post"[^>]*>.*?</form>'
    match = re.search(pattern, html, re.S)
    assert match, f"no form {form_id or ''} on the page"
    return match.group(0)


def field_index(html: str, key: str) -> int:
    match = re.search(rf'name="f(\d+)\.key" value="{re.escape(key)}"', html)
    assert match, f"no field {key!r} in the designer"
    return int(match.group(1))


def press(client, url: str, html: str, action: str, **typed: str):
    """Post the form ``html`` with ``typed`` values over it and the button ``action`` pressed."""
    data = posted(html, **typed)
    data.setlist("action", [action])
    data.setlist("csrf_token", [client.csrf_token()])
    return client.client.post(url, data=data)


def designer(client, slug: str) -> str:
    return page_form(client, f"{BASE}/{slug}/form", "designer")


def design(client, slug: str, action: str, **typed: str):
    """Press ``action`` on the designer of ``slug`` as it is now, with ``typed`` over its inputs."""
    return press(client, f"{BASE}/{slug}/form", designer(client, slug), action, **typed)


def add_field(client, slug: str, kind: str) -> str:
    """Add a field of ``kind``; its key."""
    before = set(re.findall(r'name="f\d+\.key" value="([^"]*)"', designer(client, slug)))
    response = design(client, slug, "add", new_type=kind)
    assert response.status_code == 302, response.get_data(as_text=True)
    after = set(re.findall(r'name="f\d+\.key" value="([^"]*)"', designer(client, slug)))
    (added,) = after - before
    return added
