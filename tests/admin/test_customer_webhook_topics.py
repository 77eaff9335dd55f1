"""The admin's webhooks page offers the customer events, described, and subscribes an endpoint to one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from yuyue.db import tenant_scope
from yuyue.events.models import WebhookEndpoint
from yuyue.provisioning.operations import get_tenant

WEBHOOKS = "/admin/t/tenant-a/webhooks/"


@pytest.fixture
def manager(admin_login):
    return admin_login("manager-a", language="en")


def test_the_webhooks_page_offers_the_customer_events_with_their_descriptions(manager):
    page = manager.get(WEBHOOKS).get_data(as_text=True)

    for topic in ("customer.merged", "customer.renamed", "customer.companion_added", "customer.points_adjusted"):
        assert f'value="{topic}"' in page
    assert "staff merged two records of one customer into one" in page


def test_an_endpoint_subscribes_to_a_customer_event(manager, session):
    response = manager.post(WEBHOOKS, {"url": "https://crm.example.com/hooks", "description": "CRM", "topics": ["customer.merged"]})

    assert response.status_code == 200
    session.commit()
    with tenant_scope(get_tenant(session, "tenant-a").id):
        assert session.scalars(select(WebhookEndpoint.topics)).all() == [["customer.merged"]]
