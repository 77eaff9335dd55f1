"""Class packages and a customer's credits as customers (text in their locale) and staff (text in every language) read them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from yuyue.credits.models import CreditPackage
from yuyue.credits.operations import CreditSummary
from yuyue.presenting import local_time
from yuyue.presenting.language import localize


def _text(value: Any, locale: str | None) -> Any:
    """Localized text in ``locale``, or as stored (every language) for staff (``None``)."""
    return value if locale is None else localize(value, locale)


def package_json(package: CreditPackage, slugs: Mapping[int, str], *, locale: str | None = None) -> dict[str, Any]:
    """A package; ``slugs`` names the booking types by id (see ``credits.operations.booking_type_slugs``)."""
    body = {
        "code": package.code,
        "name": _text(package.name, locale),
        "credits": package.credits,
        "price_amount": package.price_amount,
        "currency": package.currency,
        "valid_days": package.valid_days,
        "booking_types": [slugs[i] for i in package.booking_type_ids if i in slugs],
    }
    if locale is None:
        body["active"] = package.active
    return body


def credits_json(summary: CreditSummary, zone: ZoneInfo, *, locale: str | None = None) -> dict[str, Any]:
    """The balance, what is left of each package bought (expired ones flagged) and the newest ledger lines, newest first."""
    packages = summary.packages
    body = {
        "balance": summary.balance,
        "packages": [
            {
                "package": lot.package.code if lot.package else None,
                "name": _text(lot.package.name, locale) if lot.package else None,
                "remaining": lot.remaining,
                "bought_at": local_time(lot.entry.created_at, zone),
                "expires_at": local_time(lot.entry.expires_at, zone),
                "expired": lot.expired(summary.now),
            }
            for lot in summary.lots
        ],
        "history": [
            {
                "id": entry.id,
                "reason": entry.reason.value,
                "delta": entry.delta,
                "package": packages[entry.package_id].code if entry.package_id in packages else None,
                "booking": summary.bookings.get(entry.booking_id),
                "expires_at": local_time(entry.expires_at, zone),
                "note": entry.note,
                "created_at": local_time(entry.created_at, zone),
            }
            for entry in summary.history
        ],
    }
    if locale is None:
        body["customer"] = {"id": summary.customer.id, "phone": summary.customer.phone, "name": summary.customer.name}
    return body
