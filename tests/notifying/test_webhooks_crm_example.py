"""The CRM receiver of docs/integrations.md, run as written against real deliveries: verified, applied once, newest state kept."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tenant_setup import make_booking_type, windows
from webhook_setup import fan_out, send_due

from yuyue.bookings import operations as booking_operations
from yuyue.db import all_tenants
from yuyue.events.models import Delivery
from yuyue.forms.registry import form_registry
from yuyue.notifying.webhooks import WebhookDeliveries
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"
A = "/api/v1/t/tenant-a/admin"
ZONE = ZoneInfo("Asia/Shanghai")
SLOT = datetime.combine(utcnow().astimezone(ZONE).date() + timedelta(days=10), time(9), ZONE)


def documented_receiver() -> dict:
    """The namespace of the doc's ``crm_receiver.py`` block, run as a module that is not ``__main__``."""
    block = next(code for code in re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S) if code.startswith('"""crm_receiver.py'))
    namespace = {"__name__": "crm_receiver"}
    exec(compile(block, "crm_receiver.py", "exec"), namespace)  # noqa: S102 - the documentation's own example
    return namespace


@pytest.fixture
def crm(tmp_path) -> Iterator[tuple[dict, Path, callable]]:
    """The doc's receiver, serving on a free loopback port once ``start(secret)`` is called; its store's path."""
    receiver = documented_receiver()
    store = tmp_path / "crm.db"
    servers = []

    def start(secret: str) -> int:
        server = receiver["make_server"](0, secret, str(store))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_port

    yield receiver, store, start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_documented_crm_receiver_keeps_each_booking_once_in_its_newest_state(app, session, tenants, staff_client, crm):
    app.config.update(WEBHOOKS_ALLOW_HTTP=True, WEBHOOKS_ALLOW_PRIVATE=True)
    receiver, store, start = crm
    manager = staff_client("tenant-a", StaffRole.manager)
    # The secret is only known once the endpoint exists; the receiver starts with it, then the URL is set.
    endpoint = manager.post(f"{A}/webhooks", json={"url": "https://crm.example.com/hooks", "topics": ["booking.*"]}).get_json()
    port = start(endpoint["secret"])
    assert manager.patch(f"{A}/webhooks/{endpoint['id']}", json={"url": f"http://127.0.0.1:{port}/yuyue/hooks"}).status_code == 200
    tenant = tenants["tenant-a"]
    make_booking_type(session, tenant, "entry", rules=windows(("09:00", "11:00")))
    booking = booking_operations.book(
        session, form_registry(), tenant, booking_type_slug="entry", starts_at=SLOT, phone="13800000001", name="Ann Ay", answers={"name": "Ann Ay"}
    )
    booking_operations.cancel(session, tenant, booking.public_id, reason="plans changed", by_staff=True)
    subscriber = WebhookDeliveries(app)

    fan_out(session, [subscriber], now=utcnow())
    send_due(session, [subscriber], now=utcnow())
    with all_tenants():
        first = session.scalars(select(Delivery).order_by(Delivery.id)).first()
    manager.post(f"{A}/webhooks/{endpoint['id']}/deliveries/{first.id}/redeliver")  # the confirmation again, same webhook-id
    send_due(session, [subscriber], now=utcnow())

    crm_db = sqlite3.connect(store)
    assert crm_db.execute("SELECT id, status, customer_phone, customer_name FROM bookings").fetchall() == [
        (booking.public_id, "cancelled", "13800000001", "Ann Ay")
    ]
    assert crm_db.execute("SELECT count(*) FROM seen_messages").fetchone() == (2,)
    log = manager.get(f"{A}/webhooks/{endpoint['id']}/deliveries").get_json()["deliveries"]
    assert [(d["type"], d["status"], [a["response_status"] for a in d["attempts"]]) for d in log] == [
        ("booking.cancelled", "delivered", [204]),
        ("booking.confirmed", "delivered", [204, 204]),
    ]


def test_the_documented_crm_receiver_ignores_an_older_event_that_arrives_late(tmp_path):
    receiver = documented_receiver()
    store = receiver["open_store"](str(tmp_path / "crm.db"))
    booking = {"id": "b1", "status": "cancelled", "starts_at": "2026-12-17T09:00:00+08:00", "customer": {"id": 1, "phone": "138", "name": "Ann"}}

    receiver["apply"](store, "msg_2", {"type": "booking.cancelled", "timestamp": "2026-12-07T05:20:00.000001Z", "data": booking})
    receiver["apply"](store, "msg_1", {"type": "booking.confirmed", "timestamp": "2026-12-07T05:19:59.999999Z", "data": booking | {"status": "confirmed"}})

    assert store.execute("SELECT status FROM bookings").fetchall() == [("cancelled",)]
