"""The WeChat channel against a fake WeChat on loopback: the token endpoint (fetches counted) and subscribe/send."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field

import pytest
from channel_receivers import HttpReceiver, ReceivedRequest

from yuyue.db import db, tenant_scope
from yuyue.events.channel_settings import set_channel_settings, settings_for
from yuyue.events.channels import NotificationFailed, NotificationMessage, channels
from yuyue.events.wechat import WeChatChannel
from yuyue.tenancy.models import StaffRole

APPID, SECRET = "wx00000000000000aa", "tenant-a-wechat-secret"
TEMPLATES = {
    "booking.confirmed": {
        "template_id": "TPL-confirmed",
        "page": "pages/booking?id={{ booking.id }}",
        "data": {"thing1": "{{ booking.type_name }}", "time2": "{{ booking.starts_at }}", "phrase3": "已确认预约成功"},
    }
}


@dataclass
class FakeWeChat:
    """Issues tokens ``token-1``, ``token-2``…; ``invalidate`` makes the current token expire early (errcode 40001 on its next use)."""

    token_fetches: list[dict] = field(default_factory=list)
    sent: list[dict] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    refuse_with: int | None = None

    def __call__(self, request: ReceivedRequest) -> tuple[int, dict]:
        path, _, query = request.path.partition("?")
        if path == "/cgi-bin/stable_token":
            self.token_fetches.append(request.json())
            if request.json()["secret"] != SECRET:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            token = f"token-{len(self.token_fetches)}"
            self.valid.add(token)
            return 200, {"access_token": token, "expires_in": 7200}
        if path == "/cgi-bin/message/subscribe/send":
            token = urllib.parse.parse_qs(query)["access_token"][0]
            if token not in self.valid:
                return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            if self.refuse_with:
                return 200, {"errcode": self.refuse_with, "errmsg": "user refuse to accept the msg"}
            self.sent.append({**request.json(), "access_token": token})
            return 200, {"errcode": 0, "errmsg": "ok"}
        return 404, {}

    def invalidate(self) -> None:
        self.valid.clear()


@pytest.fixture
def wechat():
    fake = FakeWeChat()
    with HttpReceiver(fake) as receiver:
        fake.url = receiver.url
        yield fake


def message(wechat, **more) -> NotificationMessage:
    params = {"booking": {"id": "b-1", "type_name": "Pottery class for beginners and their families", "starts_at": "2027-03-28 10:00"}}
    settings = {"appid": APPID, "secret": SECRET, "api_base": wechat.url, "templates": TEMPLATES, **more.pop("settings", {})}
    return NotificationMessage(tenant="museum", to="o-openid-ann", template="booking.confirmed", params=params, locale="en", settings=settings, **more)


def test_a_subscribe_message_is_sent_with_its_rendered_page_and_data(app, wechat):
    WeChatChannel().send(message(wechat))

    [sent] = wechat.sent
    assert sent["touser"] == "o-openid-ann" and sent["template_id"] == "TPL-confirmed" and sent["page"] == "pages/booking?id=b-1"
    # thing: at most 20 characters; phrase: at most 5.
    assert sent["data"] == {"thing1": {"value": "Pottery class for b…"}, "time2": {"value": "2027-03-28 10:00"}, "phrase3": {"value": "已确认预…"}}
    assert sent["miniprogram_state"] == "formal" and sent["lang"] == "en_US"


def test_the_token_is_fetched_once_and_reused_while_fresh(app, wechat):
    channel = WeChatChannel()
    for _ in range(3):
        channel.send(message(wechat))

    assert len(wechat.token_fetches) == 1 and len(wechat.sent) == 3
    assert wechat.token_fetches[0] == {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, "force_refresh": False}


def test_an_invalid_token_is_refreshed_once_forced_and_the_message_sent(app, wechat):
    channel = WeChatChannel()
    channel.send(message(wechat))
    wechat.invalidate()

    channel.send(message(wechat))

    assert [fetch["force_refresh"] for fetch in wechat.token_fetches] == [False, True]
    assert [sent["access_token"] for sent in wechat.sent] == ["token-1", "token-2"]


def test_a_customer_who_refused_the_subscription_is_not_retried(app, wechat):
    wechat.refuse_with = 43101

    with pytest.raises(NotificationFailed, match="43101") as failed:
        WeChatChannel().send(message(wechat))

    assert failed.value.retryable is False


def test_a_wrong_secret_fails_without_sending(app, wechat):
    with pytest.raises(NotificationFailed, match="40125") as failed:
        WeChatChannel().send(message(wechat, settings={"secret": "not-the-app-secret-at-all"}))

    assert wechat.sent == [] and "not-the-app-secret" not in failed.value.reason


def test_a_template_that_reaches_outside_the_sandbox_is_refused(app, wechat):
    unsafe = {"booking.confirmed": {"template_id": "T", "data": {"thing1": "{{ booking.__class__.__mro__ }}"}}}

    with pytest.raises(NotificationFailed, match="does not render") as failed:
        WeChatChannel().send(message(wechat, settings={"templates": unsafe}))

    assert failed.value.retryable is False and wechat.sent == []


def test_an_event_without_a_template_is_not_sent(app, wechat):
    with pytest.raises(NotificationFailed, match="no WeChat subscribe-message template") as failed:
        WeChatChannel().send(NotificationMessage(**{**message(wechat).__dict__, "template": "booking.cancelled"}))

    assert failed.value.retryable is False and wechat.token_fetches == []


def test_the_channel_uses_the_mini_program_of_the_tenants_wechat_login(app, session, tenants, staff_client, wechat):
    app.config["WECHAT_API_BASE"] = wechat.url
    owner = staff_client("tenant-a", StaffRole.owner)
    assert owner.put("/api/v1/t/tenant-a/admin/login-providers/wechat", json={"appid": APPID, "secret": SECRET}).status_code == 200
    with tenant_scope(tenants["tenant-a"].id):
        set_channel_settings(db.session, app, "wechat", config={"templates": TEMPLATES}, actor="test")
        settings = settings_for(db.session, app, "wechat")
    with tenant_scope(tenants["tenant-b"].id):
        other = settings_for(db.session, app, "wechat")

    channels(app).get("wechat").send(NotificationMessage(**{**message(wechat).__dict__, "settings": settings}))

    assert (settings["appid"], settings["secret"], settings["api_base"]) == (APPID, SECRET, wechat.url)
    assert "appid" not in other and "templates" not in other
    assert len(wechat.sent) == 1
