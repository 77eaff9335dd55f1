"""The host's subscribers of outbox events, in the order their deliveries are planned: customer notices, webhooks, plugin hooks."""

from __future__ import annotations

from flask import Flask

from yuyue.events.delivery import Subscriber
from yuyue.notifying.hooks import PluginHooks
from yuyue.notifying.notices import CustomerNotices
from yuyue.notifying.webhooks import WebhookDeliveries


def host_subscribers(app: Flask) -> list[Subscriber]:
    """One subscriber per delivery kind, each built for ``app``."""
    return [CustomerNotices(app), WebhookDeliveries(app), PluginHooks(app)]
