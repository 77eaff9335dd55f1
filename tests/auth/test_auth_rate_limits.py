"""Rate limits on code sending, login and booking creation: 429 ``rate_limited`` with Retry-After, in the node's file or Redis.

These run in one process (in memory, unless a test says otherwise); ``tests/serving`` holds the limits on the real server.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from flask import Flask, g, jsonify
from flask_babel import Babel
from local_services import redis_reachable

from yuyue.api.auth import access_token
from yuyue.api.limit_storage import NodeLimitStorage
from yuyue.api.limits import booking_limit, init_limits, rate_limit, rate_limit_settings
from yuyue.observability.logs import init_request_ids

REDIS_URL = "redis://127.0.0.1:6379/15"
LIMITS_ON = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def ask_code(client, phone: str = "13800138000", address: str = "10.0.0.1"):
    return client.post("/api/v1/t/tenant-a/auth/code", json={"phone": phone}, environ_base={"REMOTE_ADDR": address})


def assert_rate_limited(problem, response) -> None:
    problem(response, 429, "rate_limited")
    assert 0 < int(response.headers["Retry-After"]) <= 3601  # a window of at most an hour, rounded up


def test_codes_to_one_phone_are_limited_whatever_the_address(build_app, tenant_a, clock, problem):
    app = build_app(**LIMITS_ON, RATELIMIT_AUTH_CODE_PER_PHONE="2/hour")
    client = app.test_client()
    for n in range(2):
        assert ask_code(client, address=f"10.0.0.{n}").status_code == 202
        clock.advance(seconds=61)

    assert_rate_limited(problem, ask_code(client, address="10.0.0.9"))
    assert ask_code(client, phone="13900139000").status_code == 202


def test_codes_from_one_address_are_limited_whatever_the_phone(build_app, tenant_a, problem):
    app = build_app(**LIMITS_ON, RATELIMIT_AUTH_CODE_PER_ADDRESS="2/hour")
    client = app.test_client()
    assert ask_code(client, "13800138001").status_code == 202
    assert ask_code(client, "13800138002").status_code == 202

    assert_rate_limited(problem, ask_code(client, "13800138003"))
    assert ask_code(client, "13800138003", address="10.0.0.2").status_code == 202


def test_login_attempts_from_one_address_are_limited(build_app, tenant_a, problem):
    app = build_app(**LIMITS_ON, RATELIMIT_AUTH_LOGIN="3/minute")
    client = app.test_client()
    for _ in range(3):
        problem(client.post("/api/v1/t/tenant-a/auth/login", json={"phone": "13800138000", "code": "123456"}), 401, "invalid_code")

    assert_rate_limited(problem, client.post("/api/v1/t/tenant-a/auth/login", json={"phone": "13800138000", "code": "123456"}))


def test_a_limit_string_can_be_changed_while_the_app_runs(build_app, tenant_a, problem):
    app = build_app(**LIMITS_ON)
    app.config["RATELIMIT_AUTH_LOGIN"] = "1/minute"
    client = app.test_client()
    client.post("/api/v1/t/tenant-a/auth/login", json={"phone": "13800138000", "code": "123456"})

    assert_rate_limited(problem, client.post("/api/v1/t/tenant-a/auth/login", json={"phone": "13800138000", "code": "123456"}))


def test_limits_switched_off_let_everything_through(build_app, tenant_a):
    app = build_app(RATELIMIT_ENABLED=False, RATELIMIT_AUTH_LOGIN="1/hour")
    client = app.test_client()

    statuses = {client.post("/api/v1/t/tenant-a/auth/login", json={"phone": "13800138000", "code": "123456"}).status_code for _ in range(5)}

    assert statuses == {401}


def test_an_unknown_tenant_is_a_404_before_any_limit_counts(build_app, problem):
    app = build_app(**LIMITS_ON, RATELIMIT_AUTH_LOGIN="1/hour")
    client = app.test_client()

    for _ in range(3):
        problem(client.post("/api/v1/t/nobody/auth/login", json={"phone": "13800138000", "code": "123456"}), 404)


# -- booking_limit, as the bookings API applies it --------------------------------------------------


@pytest.fixture
def booking_app() -> Flask:
    """A bare app with one view marked like ``POST bookings``, so the limit is tested without the booking machinery."""
    app = Flask("booking_limit_test")
    app.config.update(LIMITS_ON, SECRET_KEY="booking-limit-test-" + "k" * 32, RATELIMIT_BOOKING="2/minute")
    Babel(app)  # the refusal's words come from the catalogs

    @app.before_request
    def _tenant() -> None:
        g.tenant = SimpleNamespace(id=1)

    @app.post("/bookings")
    @booking_limit
    def create_booking():
        return jsonify({}), 201

    init_limits(app)
    init_request_ids(app)  # last, as create_app does: every problem names its request
    return app


def bearer(app: Flask, customer_id: int) -> dict[str, str]:
    with app.test_request_context():
        g.tenant = SimpleNamespace(id=1)
        return {"Authorization": "Bearer " + access_token(SimpleNamespace(id=customer_id, tenant_id=1))}


def test_booking_limit_counts_each_logged_in_customer_on_its_own(booking_app, problem):
    client = booking_app.test_client()
    alice, bob = bearer(booking_app, 1), bearer(booking_app, 2)
    for _ in range(2):
        assert client.post("/bookings", headers=alice).status_code == 201

    assert_rate_limited(problem, client.post("/bookings", headers=alice))
    assert client.post("/bookings", headers=bob).status_code == 201


def test_booking_limit_counts_guests_by_address(booking_app, problem):
    client = booking_app.test_client()
    for _ in range(2):
        assert client.post("/bookings").status_code == 201

    assert_rate_limited(problem, client.post("/bookings"))
    assert client.post("/bookings", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 201


def test_rate_limit_refuses_a_setting_without_a_default():
    with pytest.raises(ValueError, match="RATELIMIT_TYPO"):
        rate_limit("RATELIMIT_TYPO")


# -- settings and storage ---------------------------------------------------------------------------


def test_settings_default_to_moving_windows_on():
    assert rate_limit_settings({}) == {"RATELIMIT_ENABLED": True, "RATELIMIT_STRATEGY": "moving-window"}


def test_settings_use_redis_when_yuyue_redis_url_is_set_and_can_be_switched_off():
    settings = rate_limit_settings({"YUYUE_REDIS_URL": REDIS_URL, "YUYUE_RATELIMIT_ENABLED": "0", "YUYUE_RATELIMIT_KEY_PREFIX": "shop-a"})

    assert settings == {"RATELIMIT_ENABLED": False, "RATELIMIT_STRATEGY": "moving-window", "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": "shop-a"}


def test_without_redis_every_limiter_counts_in_the_instance_folders_file(make_app, tmp_path):
    app = make_app(RATELIMIT_ENABLED=True, INSTANCE_PATH=str(tmp_path / "instance"))

    # One file every worker process of the machine opens, never per-process memory.
    assert app.config["RATELIMIT_STORAGE_URI"] == f"yuyue-sqlite:///{tmp_path / 'instance' / 'rate-limits.db'}"
    assert isinstance(app.extensions["yuyue.limiter"].storage, NodeLimitStorage)
    assert isinstance(app.appbuilder.sm.limiter.storage, NodeLimitStorage)  # Flask-AppBuilder's own, built from the same keys


def test_a_refused_request_is_told_the_first_second_it_could_pass(build_app, tenant_a):
    app = build_app(**LIMITS_ON, RATELIMIT_AUTH_LOGIN="2/minute")
    client = app.test_client()
    for _ in range(2):
        client.post("/api/v1/t/tenant-a/auth/login", json={"phone": "13800138000", "code": "123456"})

    refused = client.post("/api/v1/t/tenant-a/auth/login", json={"phone": "13800138000", "code": "123456"})

    assert refused.status_code == 429 and 50 <= int(refused.headers["Retry-After"]) <= 60  # never the window and a second


def test_limits_are_counted_in_redis_when_yuyue_redis_url_is_set(build_app, tenant_a, problem, monkeypatch):
    if not redis_reachable():
        pytest.skip("no Redis server answers on 127.0.0.1:6379 (start one to test the shared limit storage)")
    pytest.importorskip("redis", reason="the redis client is installed by Flask-Limiter[redis]")
    monkeypatch.setenv("YUYUE_REDIS_URL", REDIS_URL)
    # A fresh key prefix: counts left in database 15 by an earlier run must not leak in.
    settings = {**rate_limit_settings(), "RATELIMIT_KEY_PREFIX": f"yuyue-test-{uuid.uuid4().hex}", "RATELIMIT_AUTH_LOGIN": "2/minute"}
    apps = [build_app(**settings), build_app(**settings)]  # two workers sharing one store
    login = {"phone": "13800138000", "code": "123456"}

    assert apps[0].extensions["yuyue.limiter"]._storage_uri == REDIS_URL
    assert apps[0].test_client().post("/api/v1/t/tenant-a/auth/login", json=login).status_code == 401
    assert apps[1].test_client().post("/api/v1/t/tenant-a/auth/login", json=login).status_code == 401
    assert_rate_limited(problem, apps[0].test_client().post("/api/v1/t/tenant-a/auth/login", json=login))
