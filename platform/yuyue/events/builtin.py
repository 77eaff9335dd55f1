"""The host's own notification channels (``log``, ``email``, ``sms``, ``wechat``), registered through the same hook as any plugin's.

Listed in ``yuyue.plugins.DEFAULT_PLUGINS`` so every application has them.
"""

from __future__ import annotations

from yuyue.events.channels import LogChannel, NotificationChannel
from yuyue.events.email import EmailChannel
from yuyue.events.sms import SmsChannel
from yuyue.events.wechat import WeChatChannel
from yuyue.hookspecs import hookimpl


@hookimpl
def register_notification_channels() -> list[NotificationChannel]:
    return [LogChannel(), EmailChannel(), SmsChannel(), WeChatChannel()]
