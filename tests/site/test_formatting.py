"""Dates, times and money on the site: the reader's locale and the tenant's time zone, whatever the server's."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import g
from flask_babel import refresh

from yuyue.site.formatting import format_date, format_day, format_money, format_number, format_time, format_when

# 01:30 UTC is 09:30 in Shanghai and 20:30 the day before in New York.
MOMENT = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)


class _Tenant:
    def __init__(self, time_zone: str):
        self.time_zone = time_zone
        self.locales = ["zh-Hans"]


@pytest.fixture
def reading(app):
    """Format as a page of a tenant in ``zone`` read in ``lang`` would."""

    def read(lang: str, zone: str = "Asia/Shanghai"):
        context = app.test_request_context(f"/t/x/?lang={lang}")
        context.push()
        refresh()
        g.tenant = _Tenant(zone)
        return context

    contexts = []
    yield lambda lang, zone="Asia/Shanghai": contexts.append(read(lang, zone)) or None
    for context in reversed(contexts):
        context.pop()


def test_times_are_in_the_tenants_zone(reading):
    reading("en", "Asia/Shanghai")
    assert format_time(MOMENT) == "9:30\u202fAM"
    reading("zh_Hans", "America/New_York")
    assert format_time(MOMENT) == "20:30"
    assert format_date(MOMENT) == "2026年12月6日"


def test_money_is_written_as_each_locale_writes_yuan(reading):
    reading("zh_Hans")
    assert format_money(12800) == "¥128.00"
    reading("en")
    assert format_money(12800) == "CN¥128.00"
    assert format_money(0) == "CN¥0.00"


def test_days_numbers_and_dates_follow_the_locale(reading):
    reading("zh_Hant")
    assert format_day(date(2026, 12, 7)) == "12月7日週一"
    assert format_number(12345) == "12,345"
    reading("en")
    assert format_day(date(2026, 12, 7)) == "Mon, Dec 7"
    assert format_when(MOMENT).startswith("12/7/26")
