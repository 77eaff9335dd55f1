"""What a customer changes on the site is announced like the same change through the API: one outbox event each,
with ids and a masked ID number, never the name or the number in clear."""

from __future__ import annotations

import re
from datetime import date

import pytest
from account_setup import SITE, Browser
from sqlalchemy import select
from tenant_setup import id_number

from yuyue.db import tenant_scope
from yuyue.events.models import OutboxEvent
from yuyue.provisioning.operations import get_tenant

pytestmark = pytest.mark.usefixtures("tenants")

ID_NUMBER = id_number(date(2010, 5, 1), 61)


def customer_events(session) -> list[tuple[str, dict]]:
    session.commit()
    with tenant_scope(get_tenant(session, "tenant-a").id):
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.topic.like("customer.%")).order_by(OutboxEvent.id))
        return [(event.topic, event.payload) for event in events]


def test_a_new_name_and_a_companion_added_edited_and_removed_on_the_site_are_announced(app, session):
    browser = Browser(app)
    browser.log_in(1)

    assert browser.post(f"{SITE}/me/profile", {"name": "Li <b>Lei</b>"}).status_code == 200
    assert browser.post(f"{SITE}/me/companions", {"name": "Li Xiaoming", "id_number": ID_NUMBER, "phone": "", "relation": "son"}).status_code == 303
    companion_id = int(re.search(r'/me/companions/(\d+)"', browser.page(f"{SITE}/me/companions")).group(1))
    assert browser.post(f"{SITE}/me/companions/{companion_id}", {"name": "Li Xiaohong", "id_number": ID_NUMBER, "phone": "", "relation": ""}).status_code == 303
    assert browser.post(f"{SITE}/me/companions/{companion_id}/remove").status_code == 303

    events = customer_events(session)
    assert [topic for topic, _ in events] == ["customer.renamed", "customer.companion_added", "customer.companion_updated", "customer.companion_removed"]
    assert events[2][1]["changed"] == ["name", "relation"]
    assert {payload["id_number"] for _, payload in events[1:]} == {ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]}
    assert "Li" not in str(events) and ID_NUMBER not in str(events)
