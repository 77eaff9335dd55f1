"""What the site's booking tests share: a browser-like client that reads CSRF tokens and form keys from the pages it gets, and signing a customer in.

Imported by name (``tests/`` is on ``sys.path``, test folders are not packages).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from yuyue.customers.models import Customer
from yuyue.tenancy.models import Tenant

ZONE = ZoneInfo("Asia/Shanghai")
_HIDDEN = re.compile(r'<input type="hidden" name="(csrf_token|form_key|at|channel)" value="([^"]*)"')


def slot_at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZONE)


def hidden_fields(page: TestResponse) -> dict[str, str]:
    """The hidden inputs of the booking form: csrf_token, form_key, at, channel."""
    return dict(_HIDDEN.findall(page.get_data(as_text=True)))


def sign_in(client: FlaskClient, tenant: Tenant, customer: Customer) -> None:
    """Make ``client`` a browser where ``customer`` logged in at ``tenant`` (the session ``yuyue.site.base.sign_in`` writes)."""
    with client.session_transaction() as session:
        session["site"] = {**session.get("site", {}), str(tenant.id): {"customer": customer.id}}


class _Controls(HTMLParser):
    """Every form control of a page, and the ids that labels point at (or wrap)."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self._in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "label":
            self._in_label += 1
            if found.get("for"):
                self.labelled.add(found["for"])
        elif tag in ("input", "select", "textarea") and found.get("type") not in ("hidden", "submit"):
            self.controls.append({**found, "wrapped": "yes" if self._in_label else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._in_label -= 1


def unlabelled_controls(html: str) -> list[dict[str, str | None]]:
    """The visible controls no ``<label>`` names (neither by ``for`` nor by wrapping); radios are named by their wrapping label."""
    parser = _Controls()
    parser.feed(html)
    return [c for c in parser.controls if not c["wrapped"] and c.get("id") not in parser.labelled]
