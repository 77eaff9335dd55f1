"""What the notifying tests share besides fixtures: the booking type's words, slot times a week ahead, reading a sent message."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tenant_setup import NAME_FORM, NAME_UI

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
# The API reads the real clock: slots lie a week ahead of today.
SLOT_DAY = datetime.now(SHANGHAI).date() + timedelta(days=7)
NAME = {"zh-Hans": "参观", "zh-Hant": "參觀", "en": "Visit"}
FORM, UI = NAME_FORM, NAME_UI


def at(hour: int, minute: int = 0, day: date = SLOT_DAY, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.combine(day, time(hour, minute), zone)


def iso(hour: int, minute: int = 0, day: date = SLOT_DAY, zone: ZoneInfo = SHANGHAI) -> str:
    return at(hour, minute, day, zone).isoformat()


def subject_of(message) -> str:
    """A sent message's subject (a field once the channels part's message has one; a parameter before)."""
    return getattr(message, "subject", None) or message.params["subject"]


def text_of(message) -> str:
    return getattr(message, "text", None) or message.params["text"]


def sign_in(client, tenant, customer) -> None:
    """Make ``client`` a browser where ``customer`` logged in at ``tenant`` (the session ``yuyue.site.base.sign_in`` writes)."""
    with client.session_transaction() as session:
        session["site"] = {**session.get("site", {}), str(tenant.id): {"customer": customer.id}}
