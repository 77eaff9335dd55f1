"""Set-up of the backup tests: a tenant taking bookings on a database of its own, the result of a command and its check."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from tenant_setup import NAME_FORM, NAME_UI, make_booking_type, make_tenant, windows

from yuyue.app import create_app
from yuyue.cli import init_database
from yuyue.db import db

ZONE = ZoneInfo("Asia/Shanghai")
SLOT_DAY = datetime.now(ZONE).date() + timedelta(days=5)
SLOT = datetime.combine(SLOT_DAY, datetime.min.time().replace(hour=9), ZONE).isoformat()
TENANT = "museum"
SECRET_KEY = "backup-tests-secret-key-of-32-bytes!"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def assert_one_error_line(result: Result, *fragments: str) -> None:
    assert result.code != 0, result
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.startswith("error: "), result.err
    for fragment in fragments:
        assert fragment in result.err, result.err


def app_on(url: str, instance: Path, **settings) -> Flask:
    """An application on database ``url``, its instance folder ``instance``."""
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": SECRET_KEY, "RATELIMIT_ENABLED": False, **settings})


def serving_app(url: str, instance: Path) -> Flask:
    """An application on ``url``, migrated, with tenant ``museum`` and booking type ``entry`` (one window of 10,000 places)."""
    app = app_on(url, instance)
    with app.app_context():
        init_database()
        tenant = make_tenant(db.session, TENANT, plugins=("exhibition",))
        make_booking_type(db.session, tenant, rules=windows(("09:00", "11:00"), capacity=10000), form=NAME_FORM, ui=NAME_UI)
        db.session.remove()
    return app


def booking_body(number: int) -> dict:
    return {"booking_type": "entry", "starts_at": SLOT, "phone": f"139{number:08d}", "answers": {"name": f"Visitor {number}"}}


def close(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
