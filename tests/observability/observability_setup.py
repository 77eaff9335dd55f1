"""Shared by the observability tests: a slot time ahead of the real clock, and a parsed scrape of /metrics."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from prometheus_client.parser import text_string_to_metric_families

ZONE = ZoneInfo("Asia/Shanghai")
# The API reads the real clock: slots a week ahead.
SLOT_DAY = datetime.now(ZONE).date() + timedelta(days=7)


def slot(hour: int) -> str:
    return datetime.combine(SLOT_DAY, time(hour), ZONE).isoformat()


class Scrape:
    """One answer of /metrics, parsed: ``scrape.value("yuyue_bookings_refused_total", code="slot_full")``."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.samples = [sample for family in text_string_to_metric_families(body) for sample in family.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called ``name`` whose labels include ``labels``; 0 when there is none."""
        return sum(s.value for s in self.samples if s.name == name and labels.items() <= s.labels.items())

    def names(self) -> set[str]:
        return {s.name for s in self.samples}
