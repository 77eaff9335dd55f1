"""The notification-channel contract: the hook, the registry and the built-in ``log`` channel."""

from __future__ import annotations

import dataclasses

import pytest

from yuyue.events.channels import SENT_MESSAGES_KEPT, LogChannel, NotificationMessage, build_channels, sent_messages
from yuyue.plugins import PluginLoadError, make_plugin_host

CHANNEL_PLUGIN = """
from yuyue import hookimpl

SENT = []


class Sms:
    key = "{key}"

    def send(self, message):
        SENT.append(message)


@hookimpl
def register_notification_channels():
    return [Sms()]
"""


def message(**fields) -> NotificationMessage:
    return NotificationMessage(**{"tenant": "acme", "to": "13800138000", "template": "login_code", "params": {"code": "123456"}, **fields})


def test_hook_register_notification_channels_gives_the_builtin_log_channel(app):
    channels = build_channels(app.extensions["yuyue.plugins"], required=("log",))

    assert isinstance(channels.get("log"), LogChannel)


def test_hook_register_notification_channels_collects_a_plugins_channel(make_plugin, build_app):
    make_plugin("aliyun_sms", CHANNEL_PLUGIN.format(key="aliyun_sms"))
    app = build_app(PLUGINS=["aliyun_sms"], NOTIFICATION_CHANNEL="aliyun_sms")

    channels = build_channels(app.extensions["yuyue.plugins"], required=("aliyun_sms",))

    assert channels.keys == ["aliyun_sms", "email", "log", "sms", "wechat"]


def test_login_codes_go_through_the_configured_channel(make_plugin, build_app, make_tenant):
    name = make_plugin("aliyun_sms", CHANNEL_PLUGIN.format(key="aliyun_sms"))
    app = build_app(PLUGINS=[name], NOTIFICATION_CHANNEL="aliyun_sms")
    with app.app_context():
        make_tenant("tenant-a")
        response = app.test_client().post("/api/v1/t/tenant-a/auth/code", json={"phone": "13800138000"})

    assert response.status_code == 202
    plugin = dict(app.extensions["yuyue.plugins"].manager.list_name_plugin())[name]
    assert [m.to for m in plugin.SENT] == ["13800138000"]
    assert list(sent_messages(app)) == []


def test_a_channel_key_taken_twice_stops_start_up_naming_the_plugin(make_plugin, build_app):
    make_plugin("fake_log", CHANNEL_PLUGIN.format(key="log"))

    with pytest.raises(PluginLoadError, match="fake_log.*'log'"):
        build_channels(make_plugin_host(["fake_log"]))


def test_a_configured_channel_nobody_registers_stops_start_up(app):
    with pytest.raises(PluginLoadError, match="'aliyun_sms' is not registered"):
        build_channels(app.extensions["yuyue.plugins"], required=("aliyun_sms",))


def test_a_channel_without_send_stops_start_up(make_plugin, build_app):
    make_plugin("mute", "from yuyue import hookimpl\n\n@hookimpl\ndef register_notification_channels():\n    return [object()]\n")

    with pytest.raises(PluginLoadError, match="mute"):
        build_channels(make_plugin_host(["mute"]))


def test_log_channel_keeps_only_the_latest_messages(app):
    for n in range(SENT_MESSAGES_KEPT + 5):
        LogChannel().send(message(to=str(n)))

    kept = sent_messages(app)
    assert len(kept) == SENT_MESSAGES_KEPT and kept[-1].to == str(SENT_MESSAGES_KEPT + 4)
    assert app.extensions["yuyue.sent_messages"] is kept


def test_a_message_cannot_be_changed_by_a_channel():
    sent = message()

    with pytest.raises(dataclasses.FrozenInstanceError):
        sent.to = "13900139000"  # type: ignore[misc]
    with pytest.raises(TypeError):
        sent.params["code"] = "000000"  # type: ignore[index]
