"""Plugins as subscribers: one ``hook:<plugin>`` delivery per event for each plugin that implements ``handle_event`` and is enabled for the tenant.

Each delivery is sent by calling that plugin's implementation alone, so one
plugin's failure is retried without calling the others again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from yuyue.behaviour import EventView, read_only
from yuyue.events.delivery import DeliveryFailed, PlannedDelivery, SendResult
from yuyue.events.models import Delivery, DeliveryKind, OutboxEvent
from yuyue.plugins import DEFAULT_PLUGINS, plugin_host
from yuyue.provisioning.operations import enabled_plugins
from yuyue.tenancy.models import Tenant

HOOK = "handle_event"
HOOK_RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1), timedelta(hours=6))


class PluginHooks:
    """The plugin-hook subscriber: plans a delivery per implementing, enabled plugin; sends it by calling only that plugin's ``handle_event``."""

    kind = DeliveryKind.hook
    retry_delays = HOOK_RETRY_DELAYS

    def __init__(self, app: Flask) -> None:
        self.app = app

    def _implementations(self) -> dict:
        return {impl.plugin_name: impl for impl in getattr(plugin_host(self.app).hook, HOOK).get_hookimpls() if not (impl.hookwrapper or impl.wrapper)}

    def plan(self, session: Session, event: OutboxEvent) -> list[PlannedDelivery]:
        implementations = self._implementations()
        if not implementations:
            return []
        tenant = session.get(Tenant, event.tenant_id)
        enabled = set(enabled_plugins(session, tenant))
        payload = {"event_id": event.id, "tenant": tenant.slug, "topic": event.topic, "payload": event.payload, "created_at": event.created_at.isoformat()}
        return [
            PlannedDelivery(subscriber=f"hook:{name}", kind=DeliveryKind.hook, target=name, payload=payload, recipient=name)
            for name in sorted(implementations)
            if name in DEFAULT_PLUGINS or name in enabled
        ]

    def send(self, delivery: Delivery) -> SendResult:
        impl = self._implementations().get(delivery.target)
        if impl is None:
            raise DeliveryFailed(f"plugin {delivery.target!r} is not loaded or no longer implements {HOOK}", retryable=False)
        data = delivery.payload
        event = EventView(
            id=data["event_id"],
            tenant=data["tenant"],
            topic=data["topic"],
            payload=read_only(data["payload"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            message_id=delivery.message_id,
        )
        impl.function(*[{"event": event}[name] for name in impl.argnames])
        return SendResult()

    def on_delivered(self, session: Session, delivery: Delivery) -> None:
        pass

    def on_dead(self, session: Session, delivery: Delivery) -> None:
        pass
