"""The host's own notification channel (``log``), registered through the same hook as any plugin's.

Listed in ``yuyue.plugins.DEFAULT_PLUGINS`` so every application has it.
"""

from __future__ import annotations

from yuyue.events.channels import LogChannel, NotificationChannel
from yuyue.hookspecs import hookimpl


@hookimpl
def register_notification_channels() -> list[NotificationChannel]:
    return [LogChannel()]
