"""Dates, times, numbers and prices in the reader's locale and the tenant's time zone (Babel), for the site's templates.

Amounts are integers in the currency's minor unit (fen for CNY), as the booking engine keeps them.
Every filter takes the tenant's zone from the page's tenant, so a slot at 09:00 in Shanghai reads
09:00 whatever the server's zone is.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import dates, numbers
from flask import Flask, g
from flask_babel import get_locale

__all__ = ["format_date", "format_day", "format_money", "format_number", "format_time", "format_when", "init_formatting", "tenant_zone"]


def _locale() -> str:
    return str(get_locale() or "zh_Hans")


def tenant_zone() -> ZoneInfo:
    tenant = g.get("tenant")
    return ZoneInfo(tenant.time_zone if tenant is not None else "Asia/Shanghai")


def _local(moment: datetime) -> datetime:
    return moment.astimezone(tenant_zone())


def format_date(value: date | datetime, width: str = "medium") -> str:
    """``2026年12月7日`` / ``Dec 7, 2026``; a datetime in the tenant's zone."""
    day = _local(value).date() if isinstance(value, datetime) else value
    return dates.format_date(day, format=width, locale=_locale())


def format_day(value: date | datetime) -> str:
    """A date strip's label: ``12月7日周一`` / ``Mon, Dec 7``."""
    day = _local(value).date() if isinstance(value, datetime) else value
    return dates.format_skeleton("MMMEd", day, locale=_locale())


def format_time(value: datetime) -> str:
    """``09:00`` (24-hour where the locale writes it so) in the tenant's zone."""
    return dates.format_time(_local(value), format="short", locale=_locale())


def format_when(value: datetime) -> str:
    """A date and time in the tenant's zone: ``2026/12/7 09:00`` / ``12/7/26, 9:00 AM``."""
    return dates.format_datetime(_local(value), format="short", locale=_locale())


def format_number(value: int | float | Decimal) -> str:
    return numbers.format_decimal(value, locale=_locale())


def format_money(amount: int, currency: str = "CNY") -> str:
    """An amount in minor units as the locale writes money: ``¥128.00`` / ``CN¥128.00``."""
    digits = numbers.get_currency_precision(currency)
    return numbers.format_currency(Decimal(amount).scaleb(-digits), currency, locale=_locale())


def init_formatting(app: Flask) -> None:
    """The filters, on the application's environment (every theme's environment shares them)."""
    app.jinja_env.filters.update(
        {"date": format_date, "day": format_day, "time": format_time, "when": format_when, "number": format_number, "money": format_money}
    )
