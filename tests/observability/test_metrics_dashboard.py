"""deploy/grafana/yuyue.json: a dashboard whose every query names metrics the application exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "yuyue.json"
METRIC_NAME = re.compile(r"\byuyue_[a-z0-9_]+")
HISTOGRAM_PARTS = ("_bucket", "_sum", "_count")


def queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def exported_families(body: str) -> set[str]:
    """The names a scrape declares in its ``# TYPE`` lines (a labelled counter not yet incremented is declared all the same)."""
    return set(re.findall(r"^# TYPE (\S+) ", body, re.MULTILINE))


def family_of(name: str) -> str:
    return next((name.removesuffix(part) for part in HISTOGRAM_PARTS if name.endswith(part)), name)


def test_every_query_of_the_dashboard_names_a_metric_the_application_exports(client):
    exported = exported_families(client.get("/metrics").get_data(as_text=True))

    for expr in queries():
        named = set(METRIC_NAME.findall(expr))
        assert named, expr
        assert {family_of(name) for name in named} <= exported, expr


def test_the_dashboard_shows_what_operators_watch():
    named = {family_of(name) for expr in queries() for name in METRIC_NAME.findall(expr)}

    assert {
        "yuyue_http_requests_total",
        "yuyue_http_request_duration_seconds",
        "yuyue_bookings_placed_total",
        "yuyue_bookings_refused_total",
        "yuyue_outbox_lag_seconds",
        "yuyue_job_failures_total",
        "yuyue_rate_limited_total",
        "yuyue_waitlist_offers_total",
        "yuyue_waitlist_bookings_total",
    } <= named
