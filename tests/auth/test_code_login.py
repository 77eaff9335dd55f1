"""Logging in with a one-time code sent to a mobile, through HTTP."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from yuyue.customers.login import MAX_ATTEMPTS
from yuyue.customers.models import Customer, LoginCode
from yuyue.customers.operations import customer_for_phone
from yuyue.db import tenant_scope
from yuyue.events.channels import ChannelRegistry, NotificationFailed, sent_messages
from yuyue.provisioning.operations import suspend_tenant


@pytest.fixture
def a(tenant_a, customer_client):
    return customer_client("tenant-a")


def test_code_is_sent_through_the_log_channel_and_logs_the_customer_in(app, a):
    response = a.ask_code()

    assert response.status_code == 202
    assert response.get_json() == {"expires_in": 300, "resend_after": 60}
    [message] = sent_messages(app)
    assert (message.tenant, message.to, message.template, message.locale) == ("tenant-a", "13800138000", "login_code", "zh-Hans")
    assert message.params["code"].isdigit() and len(message.params["code"]) == 6

    tokens = a.login(message.params["code"]).get_json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    assert a.me(tokens["access_token"]).get_json()["phone"] == "13800138000"


def test_log_channel_writes_the_code_to_the_notifications_log(app, a, caplog):
    with caplog.at_level("INFO", logger="yuyue.notifications"):
        a.ask_code()

    assert a.last_code() in caplog.text and "13800138000" in caplog.text


def test_first_login_creates_the_customer_and_the_next_finds_it(app, a, session, tenant_a):
    first = a.me(a.log_in()["access_token"]).get_json()
    app.config["CLOCK"].advance(seconds=61)
    second = a.me(a.log_in()["access_token"]).get_json()

    assert first["id"] == second["id"]
    with tenant_scope(tenant_a.id):
        assert session.scalars(select(Customer.id)).all() == [first["id"]]


def test_phone_is_normalised_before_the_code_is_sent(app, a):
    assert a.ask_code("+86 138-0013-8000").status_code == 202

    assert sent_messages(app)[-1].to == "13800138000"
    assert a.login(a.last_code(), "138 0013 8000").status_code == 200


@pytest.mark.parametrize("phone", ["12345", "02088888888", "1380013800", "not a phone"])
def test_a_number_that_is_not_a_mainland_mobile_is_refused(a, problem, phone):
    body = problem(a.ask_code(phone), 422, "validation_failed")

    assert [(e["pointer"], e.get("code")) for e in body["errors"]] == [("/phone", "invalid_phone")]


@pytest.mark.parametrize(
    "body, pointer",
    [({}, "/phone"), ({"phone": 13800138000}, "/phone"), ({"phone": "13800138000", "extra": 1}, "/extra"), ([], "")],
)
def test_a_malformed_code_request_is_a_422(a, problem, body, pointer):
    response = a.client.post(f"{a.base}/code", json=body)

    assert pointer in [e["pointer"] for e in problem(response, 422, "validation_failed")["errors"]]


def test_code_request_answers_alike_for_a_customer_and_a_stranger(a, session, tenant_a, app):
    with tenant_scope(tenant_a.id):
        customer_for_phone(session, "13800138000")

    known, stranger = a.ask_code("13800138000"), a.ask_code("13900139000")

    assert (known.status_code, known.get_json()) == (stranger.status_code, stranger.get_json())


def test_the_code_is_stored_only_as_a_keyed_hash(a, session, tenant_a):
    a.ask_code()

    with tenant_scope(tenant_a.id):
        stored = session.scalar(select(LoginCode))
    assert a.last_code() not in stored.code_hash and len(stored.code_hash) == 64


def test_a_wrong_code_is_refused(a, problem):
    a.ask_code()
    wrong = "000000" if a.last_code() != "000000" else "111111"

    problem(a.login(wrong), 401, "invalid_code")


def test_a_code_that_was_never_sent_is_refused(a, problem):
    problem(a.login("123456"), 401, "invalid_code")


def test_a_code_past_five_minutes_is_refused(a, app, problem):
    a.ask_code()
    app.config["CLOCK"].advance(minutes=5, seconds=1)

    problem(a.login(a.last_code()), 401, "invalid_code")


def test_a_code_just_inside_five_minutes_is_accepted(a, app):
    a.ask_code()
    app.config["CLOCK"].advance(minutes=4, seconds=59)

    assert a.login(a.last_code()).status_code == 200


def test_a_code_logs_in_only_once(a, problem):
    a.ask_code()
    assert a.login(a.last_code()).status_code == 200

    problem(a.login(a.last_code()), 401, "invalid_code")


def test_after_too_many_wrong_codes_even_the_right_one_is_refused(a, problem):
    a.ask_code()
    wrong = "000000" if a.last_code() != "000000" else "111111"
    for _ in range(MAX_ATTEMPTS):
        problem(a.login(wrong), 401, "invalid_code")

    problem(a.login(a.last_code()), 429, "too_many_attempts")


def test_a_new_code_after_too_many_attempts_logs_in(a, app):
    a.ask_code()
    wrong = "000000" if a.last_code() != "000000" else "111111"
    for _ in range(MAX_ATTEMPTS):
        a.login(wrong)
    app.config["CLOCK"].advance(seconds=60)

    assert a.ask_code().status_code == 202
    assert a.login(a.last_code()).status_code == 200


def test_asking_again_within_a_minute_is_refused_with_retry_after(a, app, problem):
    a.ask_code()
    app.config["CLOCK"].advance(seconds=20)

    response = a.ask_code()

    problem(response, 429, "code_recently_sent")
    assert response.headers["Retry-After"] == "40"
    assert len(sent_messages(app)) == 1


def test_a_new_code_after_a_minute_replaces_the_old_one(a, app, problem):
    a.ask_code()
    old = a.last_code()
    app.config["CLOCK"].advance(seconds=60)

    assert a.ask_code().status_code == 202

    new = a.last_code()
    if new != old:  # one in a million they are equal
        problem(a.login(old), 401, "invalid_code")
    assert a.login(new).status_code == 200


def test_a_malformed_code_is_a_validation_error_not_an_attempt(a, problem):
    a.ask_code()
    for _ in range(MAX_ATTEMPTS + 1):
        problem(a.login("12ab"), 422, "validation_failed")

    assert a.login(a.last_code()).status_code == 200


def test_a_code_sent_for_one_tenant_does_not_log_in_at_another(a, tenant_b, customer_client, problem):
    a.ask_code()

    problem(customer_client("tenant-b").login(a.last_code()), 401, "invalid_code")


def test_one_code_used_by_concurrent_requests_logs_in_exactly_once(a, app):
    a.ask_code()
    code = a.last_code()
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def log_in() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(f"{a.base}/login", json={"phone": "13800138000", "code": code}).status_code)

    threads = [threading.Thread(target=log_in) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 401, 401, 401, 401, 401]


class BrokenGateway:
    key = "log"

    def send(self, message) -> None:
        raise NotificationFailed("gateway timeout")


def test_a_code_the_channel_cannot_deliver_is_a_502_and_may_be_asked_again_at_once(a, app, problem):
    app.extensions["yuyue.channels"] = ChannelRegistry({"log": BrokenGateway()})

    problem(a.ask_code(), 502, "notification_failed")

    app.extensions["yuyue.channels"] = ChannelRegistry({"log": type("Working", (), {"key": "log", "send": lambda self, m: None})()})
    assert a.ask_code().status_code == 202


def test_refresh_token_gives_a_new_working_pair(a, app):
    tokens = a.log_in()
    app.config["CLOCK"].advance(seconds=1)

    response = a.client.post(f"{a.base}/refresh", json={"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 200
    assert a.me(response.get_json()["access_token"]).status_code == 200


@pytest.mark.parametrize("which", ["access_token", "garbage"])
def test_refresh_refuses_anything_but_a_refresh_token(a, problem, which):
    tokens = a.log_in()
    token = tokens.get(which, "not.a.token")

    problem(a.client.post(f"{a.base}/refresh", json={"refresh_token": token}), 401, "invalid_token")


def test_an_access_token_of_tenant_a_is_refused_under_tenant_b(a, tenant_b, customer_client, problem):
    tokens = a.log_in()

    problem(customer_client("tenant-b").me(tokens["access_token"]), 401, "invalid_token")


def test_a_refresh_token_of_tenant_a_is_refused_under_tenant_b(a, tenant_b, customer_client, problem):
    tokens = a.log_in()
    b = customer_client("tenant-b")

    problem(b.client.post(f"{b.base}/refresh", json={"refresh_token": tokens["refresh_token"]}), 401, "invalid_token")


def test_a_refresh_token_is_not_an_access_token(a, problem):
    problem(a.me(a.log_in()["refresh_token"]), 401, "invalid_token")


def test_me_without_a_token_is_a_401(a, problem):
    problem(a.client.get(f"{a.base}/me"), 401, "unauthorized")


def test_a_suspended_tenant_answers_403(a, session, problem):
    suspend_tenant(session, "tenant-a")

    problem(a.ask_code(), 403, "tenant_suspended")
    problem(a.login("123456"), 403, "tenant_suspended")


def test_an_unknown_tenant_answers_404(customer_client, problem):
    problem(customer_client("nobody").ask_code(), 404)
