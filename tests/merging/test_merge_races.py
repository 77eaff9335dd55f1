"""A booking made while two records are being merged is written for the survivor, never for the emptied record,
on SQLite and PostgreSQL: the booking waits for the merge and then finds the survivor by the phone it took."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tenant_setup import make_booking_type, make_tenant, phone, windows

from yuyue.bookings import operations as ops
from yuyue.bookings.models import Booking
from yuyue.bookings.placement import Actor
from yuyue.customers.models import Customer
from yuyue.customers.operations import customer_for_phone
from yuyue.db import db, tenant_scope, write_transaction
from yuyue.forms.registry import form_registry
from yuyue.merging import operations as merging
from yuyue.provisioning.operations import get_tenant
from yuyue.types import utcnow

WAIT = 30
ZONE = ZoneInfo("Asia/Shanghai")
SLOT = datetime.combine(utcnow().astimezone(ZONE).date() + timedelta(days=7), time(9), ZONE)


def test_a_booking_racing_a_merge_is_written_for_the_survivor(app, session, monkeypatch):
    tenant = make_tenant(session)
    make_booking_type(session, tenant, rules=windows(("09:00", "11:00")))
    with tenant_scope(tenant.id):
        with write_transaction(session):
            survivor = Customer(wechat_openid="o-wx-race", name="Li")
            session.add(survivor)
        other = customer_for_phone(session, phone(2))
    survivor_id, other_id = survivor.id, other.id
    session.commit()
    locked, release = threading.Event(), threading.Event()
    joined = merging._joined_notes

    def paused(*args):
        """The merge holds both customers' locks here until the test lets it go on."""
        locked.set()
        release.wait(WAIT)
        return joined(*args)

    monkeypatch.setattr(merging, "_joined_notes", paused)
    outcomes: dict[str, object] = {}

    def run(name: str, act) -> None:
        with app.app_context():
            try:
                outcomes[name] = act(get_tenant(db.session, tenant.slug))
            except Exception as error:  # reported by the assertion below
                outcomes[name] = error
            finally:
                db.session.remove()

    def merge(t):
        return merging.merge_customers(db.session, t, survivor_id, other_id=other_id, reason="race", actor=Actor("staff", 1)).id

    def book(t):
        return ops.book(db.session, form_registry(), t, booking_type_slug="entry", starts_at=SLOT, phone=phone(2), answers={"name": "Li"}).id

    merger = threading.Thread(target=run, args=("merge", merge))
    merger.start()
    assert locked.wait(WAIT)
    booker = threading.Thread(target=run, args=("book", book))
    booker.start()
    booker.join(1)
    assert booker.is_alive(), "the booking must wait for the merge"
    release.set()
    merger.join(WAIT)
    booker.join(WAIT)

    assert outcomes["merge"] == survivor_id, outcomes
    assert isinstance(outcomes["book"], int), outcomes
    with tenant_scope(tenant.id):
        assert session.get(Booking, outcomes["book"], populate_existing=True).customer_id == survivor_id
