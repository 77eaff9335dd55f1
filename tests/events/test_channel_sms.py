"""The SMS channel: the sandbox provider records, the http provider posts to a real signed gateway on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from channel_receivers import HttpReceiver, ReceivedRequest, free_port

from yuyue.events.channels import NotificationFailed, NotificationMessage, channels, messages_log_path
from yuyue.events.sms import sandbox_messages, sms_settings_from_url
from yuyue.tenancy.models import StaffRole

KEY_ID, SECRET = "LTAI-museum", "gateway-secret-of-the-museum"


def gateway_settings(url: str, **more) -> dict:
    return {
        "provider": "http",
        "endpoint": f"{url}/sms/send?version=1",
        "access_key_id": KEY_ID,
        "access_key_secret": SECRET,
        "sign_name": "博物馆",
        "templates": {"booking.confirmed": "SMS_100", "login_code": "SMS_200"},
        **more,
    }


def confirmation(settings: dict, **more) -> NotificationMessage:
    params = {"name": "Ann", "time": "3月28日 10:00", "places": 2, "booking": {"id": "b-1"}}
    return NotificationMessage(tenant="museum", to="13800138000", template="booking.confirmed", params=params, settings=settings, message_id="out-1", **more)


def verified(request: ReceivedRequest) -> bool:
    """The gateway's check, written from its documentation: HMAC-SHA256 over method, path, timestamp, nonce and the body's hash."""
    headers = request.headers
    digest = hashlib.sha256(request.body).hexdigest()
    text = "\n".join(["POST", request.path, headers["x-sms-timestamp"], headers["x-sms-nonce"], digest])
    expected = base64.b64encode(hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).digest()).decode()
    fresh = abs(time.time() - int(headers["x-sms-timestamp"])) < 300
    return (
        headers["x-sms-access-key-id"] == KEY_ID
        and headers["x-sms-content-sha256"] == digest
        and hmac.compare_digest(expected, headers["x-sms-signature"])
        and fresh
    )


def gateway(request: ReceivedRequest) -> tuple[int, dict]:
    if not verified(request):
        return 403, {"code": "SignatureDoesNotMatch"}
    if request.json()["phone"] == "13900000000":
        return 200, {"code": "isv.MOBILE_NUMBER_ILLEGAL", "message": "invalid mobile"}
    if request.json()["phone"] == "13900000001":
        return 200, {"code": "isv.BUSINESS_LIMIT_CONTROL", "message": "too many messages"}
    return 200, {"code": "OK", "biz_id": "biz-1"}


def test_the_http_provider_posts_a_signed_request_the_gateway_verifies(app):
    with HttpReceiver(gateway) as receiver:
        channels(app).get("sms").send(confirmation(gateway_settings(receiver.url)))

    [request] = receiver.requests
    assert verified(request) and request.path == "/sms/send?version=1"
    assert request.json() == {
        "phone": "13800138000",
        "sign_name": "博物馆",
        "template_id": "SMS_100",
        "params": {"name": "Ann", "time": "3月28日 10:00", "places": "2"},
        "out_id": "out-1",
    }


def test_a_wrong_secret_is_refused_by_the_gateway_and_not_retried(app):
    with HttpReceiver(gateway) as receiver, pytest.raises(NotificationFailed, match="HTTP 403") as failed:
        channels(app).get("sms").send(confirmation(gateway_settings(receiver.url, access_key_secret="not-the-secret")))

    assert failed.value.retryable is False and not verified(receiver.requests[0])


def test_a_number_the_gateway_calls_illegal_is_not_retried_and_a_rate_limit_is(app):
    with HttpReceiver(gateway) as receiver:
        with pytest.raises(NotificationFailed, match="MOBILE_NUMBER_ILLEGAL") as illegal:
            channels(app).get("sms").send(NotificationMessage(**{**confirmation(gateway_settings(receiver.url)).__dict__, "to": "13900000000"}))
        with pytest.raises(NotificationFailed, match="BUSINESS_LIMIT_CONTROL") as limited:
            channels(app).get("sms").send(NotificationMessage(**{**confirmation(gateway_settings(receiver.url)).__dict__, "to": "13900000001"}))

    assert illegal.value.retryable is False and limited.value.retryable is True


def test_a_gateway_that_fails_or_is_not_there_is_retried(app):
    with HttpReceiver(lambda request: (503, {"code": "ServiceUnavailable"})) as receiver, pytest.raises(NotificationFailed, match="HTTP 503") as down:
        channels(app).get("sms").send(confirmation(gateway_settings(receiver.url)))
    with pytest.raises(NotificationFailed, match="could not be reached") as gone:
        channels(app).get("sms").send(confirmation(gateway_settings(f"http://127.0.0.1:{free_port()}")))

    assert down.value.retryable and gone.value.retryable


def test_an_event_without_a_template_id_is_not_sent(app):
    with HttpReceiver(gateway) as receiver, pytest.raises(NotificationFailed, match="no SMS template for 'booking.cancelled'") as failed:
        channels(app).get("sms").send(NotificationMessage(**{**confirmation(gateway_settings(receiver.url)).__dict__, "template": "booking.cancelled"}))

    assert failed.value.retryable is False and receiver.requests == []


def test_a_template_id_and_params_in_the_message_data_win_over_the_settings(app):
    with HttpReceiver(gateway) as receiver:
        channels(app).get("sms").send(confirmation(gateway_settings(receiver.url), data={"template_id": "SMS_999", "params": {"code": "1234"}}))

    assert (receiver.requests[0].json()["template_id"], receiver.requests[0].json()["params"]) == ("SMS_999", {"code": "1234"})


def test_the_sandbox_records_the_text_for_tests_and_in_the_messages_file(app):
    channels(app).get("sms").send(confirmation({"provider": "sandbox", "sign_name": "博物馆", "templates": {"booking.confirmed": "SMS_100"}}))

    [sent] = sandbox_messages(app)
    assert (sent.tenant, sent.phone, sent.template_id, sent.out_id) == ("museum", "13800138000", "SMS_100", "out-1")
    assert sent.params == {"name": "Ann", "time": "3月28日 10:00", "places": "2"}
    logged = messages_log_path(app).read_text(encoding="utf-8")
    assert "channel sms (sandbox)  to 13800138000  [SMS_100]" in logged and "【博物馆】" in logged


def test_the_sandbox_needs_no_template_ids(app):
    channels(app).get("sms").send(confirmation({"provider": "sandbox"}))

    assert sandbox_messages(app)[-1].template_id == "booking.confirmed"


def test_login_codes_go_through_the_sms_channel_with_the_tenants_gateway(app, staff_client, tenants):
    app.config.update(NOTIFICATION_CHANNEL="sms", CHANNEL_PRIVATE_HOSTS=True)
    with HttpReceiver(gateway) as receiver:
        manager = staff_client("tenant-a", StaffRole.manager)
        response = manager.put("/api/v1/t/tenant-a/admin/notifications/channels/sms", json={"settings": gateway_settings(receiver.url)})
        assert response.status_code == 200, response.get_json()

        asked = app.test_client().post("/api/v1/t/tenant-a/auth/code", json={"phone": "13800138000"})

    assert asked.status_code == 202
    [request] = receiver.requests
    assert verified(request) and request.json()["template_id"] == "SMS_200"
    assert set(request.json()["params"]) == {"code", "minutes"} and request.json()["params"]["minutes"] == "5"


def test_the_installation_sms_url_names_a_shared_gateway():
    settings = sms_settings_from_url("https://KEY:S%2Fecret@sms.example:8443/v1/send?region=cn&sign_name=预约&template.login_code=SMS_9")

    assert settings == {
        "provider": "http",
        "endpoint": "https://sms.example:8443/v1/send?region=cn",
        "access_key_id": "KEY",
        "access_key_secret": "S/ecret",
        "templates": {"login_code": "SMS_9"},
        "sign_name": "预约",
    }
    assert sms_settings_from_url(None) == {"provider": "sandbox"}
