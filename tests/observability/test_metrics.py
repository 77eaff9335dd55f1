"""/metrics: requests by route template, bookings placed and refused by code, places taken, waitlist offers and bookings,
429s by limit, outbox lag, job failures.

Counters live for the whole test process (as they do for a server's), so each
test reads a scrape before and after what it does and compares the two.
"""

from __future__ import annotations

import time

import pytest
from huey import MemoryHuey
from huey.exceptions import TaskException
from observability_setup import slot

from yuyue.db import write_transaction
from yuyue.events.delivery import fan_out
from yuyue.observability.heartbeat import Heartbeat
from yuyue.observability.metrics import record_waitlist_offer
from yuyue.worker import count_job_failures

BOOKING_TYPES_ROUTE = "/api/v1/t/<slug:tenant_slug>/booking-types"


def test_metrics_answer_in_prometheus_text_format(client):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "version=0.0.4" in response.headers["Content-Type"]
    assert "# TYPE yuyue_http_requests_total counter" in response.get_data(as_text=True)


def test_requests_are_counted_by_route_template_method_and_status(client, museum, scrape):
    before = scrape(client)

    for _ in range(3):
        assert client.get("/api/v1/t/museum/booking-types").status_code == 200
    assert client.get("/api/v1/t/nowhere/booking-types").status_code == 404

    after = scrape(client)
    labels = {"route": BOOKING_TYPES_ROUTE, "method": "GET"}
    assert after.value("yuyue_http_requests_total", **labels, status="200") - before.value("yuyue_http_requests_total", **labels, status="200") == 3
    assert after.value("yuyue_http_requests_total", **labels, status="404") - before.value("yuyue_http_requests_total", **labels, status="404") == 1
    assert (
        after.value("yuyue_http_request_duration_seconds_count", route=BOOKING_TYPES_ROUTE)
        - before.value("yuyue_http_request_duration_seconds_count", route=BOOKING_TYPES_ROUTE)
        == 4
    )


def test_no_label_holds_a_tenant_slug_or_a_raw_path(client, museum, scrape):
    client.get("/api/v1/t/museum/booking-types")
    client.get("/no/such/page/anywhere")

    body = scrape(client).body

    assert "museum" not in body
    assert "/no/such/page" not in body
    assert 'route="<unmatched>"' in body


def test_an_invented_method_is_counted_as_other(client, scrape):
    before = scrape(client).value("yuyue_http_requests_total", method="OTHER")

    client.open("/api/v1/health", method="BREW")

    after = scrape(client)
    assert after.value("yuyue_http_requests_total", method="OTHER") - before == 1
    assert "BREW" not in after.body


def test_a_scrape_does_not_count_itself(client, scrape):
    before = scrape(client)
    scrape(client)
    after = scrape(client)

    assert after.value("yuyue_http_requests_total", route="/metrics") == before.value("yuyue_http_requests_total", route="/metrics") == 0


def test_with_a_metrics_token_a_scrape_without_it_is_refused_with_a_problem(make_app, problem, scrape):
    client = make_app(METRICS_TOKEN="scrape-secret").test_client()

    problem(client.get("/metrics"), 401, "unauthorized")
    problem(client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
    assert scrape(client, Authorization="Bearer scrape-secret").value("yuyue_outbox_lag_seconds") >= 0


def test_bookings_placed_count_their_places_and_a_retry_counts_once(client, museum, guest_books, scrape):
    before = scrape(client)

    assert guest_books(party_size=2, n=1).status_code == 201
    retry = {"Idempotency-Key": "same-request"}
    first = client.post("/api/v1/t/museum/bookings", json=_body(n=2), headers=retry)
    assert first.status_code == 201
    again = client.post("/api/v1/t/museum/bookings", json=_body(n=2), headers=retry | {"X-Booking-Token": first.get_json()["booking_token"]})
    assert again.status_code == 200

    after = scrape(client)
    assert after.value("yuyue_bookings_placed_total") - before.value("yuyue_bookings_placed_total") == 2
    assert after.value("yuyue_capacity_taken_seats_total") - before.value("yuyue_capacity_taken_seats_total") == 3


def _body(n: int, party_size: int = 1) -> dict:
    return {"booking_type": "entry", "starts_at": slot(9), "answers": {"name": "Li Lei"}, "phone": f"138{n:08d}", "party_size": party_size}


def test_refused_bookings_are_counted_by_problem_code(client, museum, guest_books, scrape, problem):
    before = scrape(client)

    assert guest_books(party_size=4, n=1).status_code == 201
    problem(guest_books(party_size=1, n=2), 409, "slot_full")
    problem(guest_books(party_size=1, n=3, answers={}), 422, "validation_failed")

    after = scrape(client)
    for code in ("slot_full", "validation_failed"):
        assert after.value("yuyue_bookings_refused_total", code=code) - before.value("yuyue_bookings_refused_total", code=code) == 1
    assert after.value("yuyue_bookings_placed_total") - before.value("yuyue_bookings_placed_total") == 1


def test_waitlist_offers_and_the_bookings_placed_for_waiters_are_counted_apart_from_customers_bookings(client, museum, signed_in_customer, scrape):
    alice, bob, carol = (signed_in_customer(n, tenant="museum") for n in (1, 2, 3))
    placed = alice.post("/api/v1/t/museum/bookings", json=_body(n=1, party_size=4))
    assert placed.status_code == 201, placed.get_json()
    wait = {"booking_type": "entry", "starts_at": slot(9), "answers": {"name": "Waiter"}}
    offered_to_bob = bob.post("/api/v1/t/museum/waitlist", json=wait)
    assert offered_to_bob.status_code == 201, offered_to_bob.get_json()
    assert carol.post("/api/v1/t/museum/waitlist", json=wait | {"auto_confirm": True}).status_code == 201
    before = scrape(client)

    assert alice.post(f"/api/v1/t/museum/bookings/{placed.get_json()['id']}/cancel").status_code == 200
    offers = scrape(client)
    assert bob.post(f"/api/v1/t/museum/waitlist/{offered_to_bob.get_json()['id']}/accept").status_code == 201

    after = scrape(client)
    assert offers.value("yuyue_waitlist_offers_total") - before.value("yuyue_waitlist_offers_total") == 1
    assert after.value("yuyue_waitlist_offers_total") == offers.value("yuyue_waitlist_offers_total")
    for how in ("at_once", "offer_accepted"):
        assert after.value("yuyue_waitlist_bookings_total", how=how) - before.value("yuyue_waitlist_bookings_total", how=how) == 1, how
    assert after.value("yuyue_bookings_placed_total") == before.value("yuyue_bookings_placed_total")


def test_a_waitlist_offer_whose_transaction_rolls_back_is_not_counted(client, session, scrape):
    before = scrape(client).value("yuyue_waitlist_offers_total")

    with pytest.raises(RuntimeError), write_transaction(session):
        record_waitlist_offer(session)
        raise RuntimeError("a later step refused")
    with write_transaction(session):
        record_waitlist_offer(session)

    assert scrape(client).value("yuyue_waitlist_offers_total") - before == 1


def test_rate_limit_refusals_are_counted_by_limit_and_scrapes_are_never_limited(make_app, museum, scrape):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_BOOKING="1/minute", RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    before = scrape(client)

    statuses = [client.post("/api/v1/t/museum/bookings", json={}).status_code for _ in range(3)]

    assert statuses[1:] == [429, 429]
    for _ in range(40):
        after = scrape(client)
    assert after.value("yuyue_rate_limited_total", limit="RATELIMIT_BOOKING") - before.value("yuyue_rate_limited_total", limit="RATELIMIT_BOOKING") == 2


def test_outbox_lag_is_the_age_of_the_oldest_event_waiting_and_nothing_once_delivered(client, museum, guest_books, scrape, session):
    assert scrape(client).value("yuyue_outbox_lag_seconds") == 0
    assert guest_books(n=1).status_code == 201
    time.sleep(0.05)

    waiting = scrape(client)
    assert waiting.value("yuyue_outbox_lag_seconds") > 0
    assert waiting.value("yuyue_outbox_backlog", stage="events") >= 1

    while fan_out(session, []):
        pass
    assert scrape(client).value("yuyue_outbox_lag_seconds") == 0


def test_job_failures_reach_the_metrics_through_the_workers_heartbeat(app, client, scrape):
    queue = MemoryHuey("metrics-test", immediate=True)
    heartbeat = Heartbeat(app)
    count_job_failures(queue, heartbeat)

    @queue.task(name="always_fails")
    def always_fails() -> None:
        raise RuntimeError("broken on purpose")

    for _ in range(2):
        with pytest.raises(TaskException):
            always_fails().get()
    heartbeat.beat()

    scraped = scrape(client)
    assert scraped.value("yuyue_job_failures_total", task="always_fails") == 2
    assert 0 <= scraped.value("yuyue_worker_heartbeat_age_seconds") < 60
