"""The worker's side of a request id: the outbox events a request writes keep its id, and every line the worker logs about
delivering them carries it with the event's id, so one ``grep`` over the server's and the worker's logs tells the whole story.
Events written outside a request carry none. Huey's tasks name themselves and their run in their lines. Migration 0027 adds
the column and takes it away again.
"""

from __future__ import annotations

import json
import logging

import pytest
from observability_setup import slot
from sqlalchemy import create_engine, inspect, select, text
from test_logs import captured_logs, json_lines  # noqa: F401 (captured_logs: a fixture)

from yuyue import migrate
from yuyue.db import all_tenants, tenant_scope, write_transaction
from yuyue.events import operations as events
from yuyue.events.models import Delivery, OutboxEvent
from yuyue.worker import OutboxPump, make_queue


def book_through_the_api(client, request_id: str | None = None):
    body = {"booking_type": "entry", "starts_at": slot(9), "answers": {"name": "Li Lei"}, "phone": "13800000001", "party_size": 1}
    headers = {"X-Request-ID": request_id} if request_id else {}
    response = client.post("/api/v1/t/museum/bookings", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response


def outbox(session) -> list[OutboxEvent]:
    with all_tenants():
        found = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    session.commit()
    return found


@pytest.mark.usefixtures("museum")
def test_the_events_a_request_writes_keep_its_request_id(client, session):
    book_through_the_api(client, "trace-me-1")

    written = outbox(session)
    assert written and {event.request_id for event in written} == {"trace-me-1"}


@pytest.mark.usefixtures("museum")
def test_the_events_of_a_request_without_an_id_of_its_own_keep_the_fresh_one(client, session):
    response = book_through_the_api(client)

    assert {event.request_id for event in outbox(session)} == {response.headers["X-Request-ID"]}


def test_an_event_written_outside_a_request_carries_no_request_id(session, museum):
    with tenant_scope(museum.id), write_transaction(session):
        events.emit(session, "booking.reminder", {"booking": "b-1"})

    [event] = outbox(session)
    assert event.request_id is None


@pytest.mark.usefixtures("museum")
def test_every_line_the_worker_logs_about_delivering_a_requests_events_carries_its_id(app, client, session, captured_logs):  # noqa: F811
    book_through_the_api(client, "trace-me-1")
    written = {event.id for event in outbox(session)}
    request_lines = len(json_lines(captured_logs))

    OutboxPump(app).run_once()

    worker_lines = json_lines(captured_logs)[request_lines:]
    about_events = [line for line in worker_lines if "event_id" in line]
    assert about_events and {line["event_id"] for line in about_events} <= written
    assert all(line["request_id"] == "trace-me-1" for line in about_events), about_events
    loggers = {line["logger"] for line in about_events}
    assert "yuyue.events.delivery" in loggers  # the fan-out and each send's outcome
    assert "yuyue.notifications" in loggers  # the channel's own line, written while it sent the customer's message
    with all_tenants():
        sent = session.scalars(select(Delivery)).all()
    session.commit()
    assert sent
    for delivery in sent:
        [outcome] = [line for line in about_events if line.get("delivery_id") == delivery.id]
        assert outcome["event_id"] == delivery.event_id and delivery.status.value in outcome["message"]


def test_the_delivery_lines_of_an_event_written_outside_a_request_carry_its_event_id_and_no_request_id(app, session, museum, captured_logs):  # noqa: F811
    with tenant_scope(museum.id), write_transaction(session):
        event = events.emit(session, "booking.reminder", {"booking": "b-1"})

    OutboxPump(app).run_once()

    [fanned] = [line for line in json_lines(captured_logs) if "fanned out" in line["message"]]
    assert fanned["event_id"] == event.id and "request_id" not in fanned


# --- Huey's tasks ----------------------------------------------------------------------------------


def test_the_lines_of_a_periodic_task_carry_its_name_and_hueys_id_of_the_run(app, captured_logs):  # noqa: F811
    queue = make_queue(app)
    run = queue.purge_ended_logins.s()

    queue.huey.execute(run)
    logging.getLogger("yuyue.worker").info("after the task")

    lines = json_lines(captured_logs)
    [purged] = [line for line in lines if line["message"].startswith("purged")]
    [finished] = [line for line in lines if line["logger"] == "huey" and "executed in" in line["message"]]
    assert (purged["task"], purged["task_id"]) == ("purge_ended_logins", run.id)
    assert (finished["task"], finished["task_id"]) == ("purge_ended_logins", run.id)
    assert "task" not in lines[-1] and "task_id" not in lines[-1]


def test_each_run_of_a_task_has_an_id_of_its_own(app, captured_logs):  # noqa: F811
    queue = make_queue(app)
    first, second = queue.purge_ended_logins.s(), queue.purge_ended_logins.s()

    queue.huey.execute(first)
    queue.huey.execute(second)

    ids = [line["task_id"] for line in json_lines(captured_logs) if line["message"].startswith("purged")]
    assert ids == [first.id, second.id] and first.id != second.id


# --- migration 0027 --------------------------------------------------------------------------------


def test_migration_0027_adds_the_request_id_to_the_outbox_and_takes_it_away_keeping_every_event(own_database_url):
    engine = create_engine(own_database_url)
    try:
        migrate.upgrade(engine, "0026")
        with engine.begin() as connection:
            stamp = {"now": "2026-01-01 00:00:00.000000+00:00"}
            connection.execute(
                text("INSERT INTO tenants (id, slug, name, time_zone, locales, status, created_at) VALUES (1, 'old', 'Old', 'UTC', '[]', 'active', :now)"),
                stamp,
            )
            connection.execute(
                text("INSERT INTO outbox_events (id, tenant_id, topic, payload, created_at, attempts) VALUES (1, 1, 'booking.created', :payload, :now, 0)"),
                {**stamp, "payload": json.dumps({"booking": "b-1"})},
            )
            connection.execute(
                text(
                    "INSERT INTO deliveries (id, tenant_id, message_id, event_id, topic, subscriber, kind, target, payload, status, attempts, "
                    "next_attempt_at, created_at) VALUES (1, 1, 'm-1', 1, 'booking.created', 'hook:x', 'hook', 'x', '{}', 'pending', 0, :now, :now)"
                ),
                stamp,
            )

        migrate.upgrade(engine)
        assert "request_id" in {column["name"] for column in inspect(engine).get_columns("outbox_events")}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT request_id FROM outbox_events")).all() == [(None,)]  # written before: no request known
        assert migrate.pending_model_changes(engine) == []

        migrate.downgrade(engine, "0026")
        assert "request_id" not in {column["name"] for column in inspect(engine).get_columns("outbox_events")}
        with engine.connect() as connection:
            counts = [connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in ("outbox_events", "deliveries")]
        assert counts == [1, 1]  # SQLite rebuilds the table: its deliveries (ON DELETE CASCADE) are kept
    finally:
        engine.dispose()
