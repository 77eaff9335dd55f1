"""/api/v1/ready: 200 with every check passing, else 503 ``not_ready`` naming each check and why it failed."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from local_services import redis_reachable
from sqlalchemy import create_engine

from yuyue import migrate
from yuyue.app import normalize_database_url
from yuyue.observability.heartbeat import Heartbeat, WorkerHeartbeat
from yuyue.types import utcnow

READY = "/api/v1/ready"


def closed_port() -> int:
    """A port on this machine nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_ready_with_the_database_at_head_and_a_worker_beating(app, client):
    Heartbeat(app).beat()

    response = client.get(READY)

    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": {"status": "ok"}, "migrations": {"status": "ok"}, "worker": {"status": "ok"}}}


def test_no_worker_ever_seen_is_not_ready_and_says_how_to_start_one(client, problem):
    body = problem(client.get(READY), 503, "not_ready")

    assert body["checks"]["database"] == body["checks"]["migrations"] == {"status": "ok"}
    assert body["checks"]["worker"]["status"] == "failed"
    assert "yuyue worker" in body["checks"]["worker"]["detail"]
    assert "worker" in body["detail"]


def test_a_worker_silent_for_three_minutes_is_not_ready(app, client, session, problem):
    Heartbeat(app).beat()
    session.query(WorkerHeartbeat).update({WorkerHeartbeat.seen_at: utcnow() - timedelta(minutes=4)})
    session.commit()

    body = problem(client.get(READY), 503, "not_ready")

    assert "no worker heartbeat since" in body["checks"]["worker"]["detail"]


def test_the_worker_check_can_be_turned_off(make_app):
    response = make_app(READY_REQUIRE_WORKER=False).test_client().get(READY)

    assert response.status_code == 200
    assert response.get_json()["checks"].keys() == {"database", "migrations"}


def test_a_redis_that_does_not_answer_is_not_ready(make_app, problem):
    client = make_app(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0", READY_REQUIRE_WORKER=False).test_client()

    body = problem(client.get(READY), 503, "not_ready")

    assert body["checks"]["redis"]["status"] == "failed"
    assert "YUYUE_REDIS_URL" in body["checks"]["redis"]["detail"]
    assert body["checks"]["database"] == {"status": "ok"}


def test_a_redis_that_answers_is_ready(make_app):
    if not redis_reachable():
        pytest.skip("no Redis server answers on 127.0.0.1:6379")
    response = make_app(REDIS_URL="redis://127.0.0.1:6379/7", READY_REQUIRE_WORKER=False).test_client().get(READY)

    assert response.status_code == 200
    assert response.get_json()["checks"]["redis"] == {"status": "ok"}


def test_a_database_behind_the_releases_migrations_is_not_ready_until_upgraded(own_database_url, make_app, problem):
    engine = create_engine(normalize_database_url(own_database_url))
    try:
        migrate.upgrade(engine, "0024")
        client = make_app(SQLALCHEMY_DATABASE_URI=own_database_url, READY_REQUIRE_WORKER=False).test_client()

        body = problem(client.get(READY), 503, "not_ready")
        assert body["checks"]["migrations"]["status"] == "failed"
        assert "0024" in body["checks"]["migrations"]["detail"] and "yuyue init" in body["checks"]["migrations"]["detail"]

        migrate.upgrade(engine)
        assert client.get(READY).status_code == 200
    finally:
        engine.dispose()


def test_a_database_a_newer_release_migrated_is_ready(own_database_url, make_app):
    """During an upgrade the new release migrates first; this release's nodes keep serving until replaced."""
    engine = create_engine(normalize_database_url(own_database_url))
    try:
        migrate.upgrade(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
        client = make_app(SQLALCHEMY_DATABASE_URI=own_database_url, READY_REQUIRE_WORKER=False).test_client()

        response = client.get(READY)

        assert response.status_code == 200
        assert response.get_json()["checks"]["migrations"] == {"status": "ok"}
    finally:
        engine.dispose()


def test_health_stays_liveness_without_the_readiness_checks(client):
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
