"""Login request bodies refuse bad input field by field: a 422 problem pointing at the field, never a 500.

Each matrix is read off the schema the endpoint validates with (see
bad_inputs), plus the rows only the endpoint can judge. A refusal spends no
attempt and sends no code.
"""

from __future__ import annotations

import pytest
from bad_inputs import bad_inputs, case

from yuyue.api.customer_auth import CODE_LOGIN, CODE_REQUEST, TOKEN_REFRESH, WECHAT_LOGIN
from yuyue.events.channels import sent_messages

AUTH = "/api/v1/t/tenant-a/auth"
PHONE = {"phone": "13800138000"}
LOGIN = {"phone": "13800138000", "code": "123456"}
REFRESH = {"refresh_token": "not-a-token"}
WECHAT = {"code": "wx-login-code"}

ENDPOINTS = {
    "code": [*bad_inputs(CODE_REQUEST, PHONE), case("phone: not a mainland mobile", PHONE, "/phone", phone="02088888888")],
    "login": [*bad_inputs(CODE_LOGIN, LOGIN), case("phone: not a mainland mobile", LOGIN, "/phone", phone="12345")],
    "refresh": bad_inputs(TOKEN_REFRESH, REFRESH),
    "wechat": bad_inputs(WECHAT_LOGIN, WECHAT),
}
CASES = [pytest.param(endpoint, bad, id=f"{endpoint} {bad}") for endpoint, cases in ENDPOINTS.items() for bad in cases]


@pytest.mark.parametrize(
    ("endpoint", "body", "status", "code"),
    [
        ("code", PHONE, 202, None),
        ("login", LOGIN, 401, "invalid_code"),
        ("refresh", REFRESH, 401, "invalid_token"),
        ("wechat", WECHAT, 404, "login_provider_not_configured"),
    ],
)
def test_the_valid_body_of_each_matrix_gets_past_validation(client, tenant_a, endpoint, body, status, code):
    response = client.post(f"{AUTH}/{endpoint}", json=body)

    assert response.status_code == status, response.get_json()
    assert code is None or response.get_json()["code"] == code


@pytest.mark.parametrize(("endpoint", "bad"), CASES)
def test_a_bad_login_body_is_refused_at_its_field(app, client, tenant_a, problem, endpoint, bad):
    body = problem(client.post(f"{AUTH}/{endpoint}", json=bad.body), 422, "validation_failed")

    assert bad.pointer in [e["pointer"] for e in body["errors"]], body["errors"]
    assert not sent_messages(app)
