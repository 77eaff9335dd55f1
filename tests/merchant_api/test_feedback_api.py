"""Reviews and feedback over HTTP: customers review bookings that are over and send feedback; staff read the inbox, reply, hide, mark handled.

A customer's class at 09:00-10:00 on the slot day, taught by a coach the class's slot holds; the
application's clock (``CLOCK``) stands after the class unless a test moves it.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from merchant_setup import SLOT_DAY, at, windows
from sqlalchemy import select
from tenant_setup import make_booking_type, phone

from yuyue.audit.models import AuditRecord
from yuyue.bookings import operations as booking_operations
from yuyue.bookings.checkin import check_in
from yuyue.db import tenant_scope
from yuyue.events.models import OutboxEvent
from yuyue.events.webhooks import WEBHOOK_TOPICS
from yuyue.notifying.webhooks import webhook_body
from yuyue.tenancy.models import StaffRole

ME = "/api/v1/t/tenant-a/me"
INBOX = "/api/v1/t/tenant-a/admin/feedback"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp; \u202e'


@pytest.fixture
def yoga(session, tenant_of, make_coach):
    """tenant-a's ``yoga`` class, 09:00-10:00, each slot holding one of the tenant's coaches (Li, the only one)."""
    make_coach("tenant-a", "coach-li")
    return make_booking_type(
        session, tenant_of("tenant-a"), "yoga", vertical="course", rules=windows(("09:00", "10:00")), resource_requirements=[{"kind": "coach"}]
    )


@pytest.fixture
def after_class(app):
    app.config["CLOCK"] = lambda: at(12)


@pytest.fixture
def attended(session, app, tenant_of, yoga, book, after_class):
    """``attended(n)``: customer n's yoga booking, checked in at 09:05 and completed at 10:30."""

    def make(n: int = 1, *, complete: bool = True):
        tenant = tenant_of("tenant-a")
        booking = book("tenant-a", at(9), phone(n), booking_type="yoga")
        check_in(session, tenant, secret_key=app.config["SECRET_KEY"], code=booking.voucher_code, now=at(9, 5))
        if complete:
            booking_operations.complete(session, tenant, booking.public_id, now=at(10, 30))
        return booking

    return make


@pytest.fixture
def ann(signed_in_customer):
    return signed_in_customer(1)


@pytest.fixture
def bob(signed_in_customer):
    return signed_in_customer(2)


def created(response) -> dict:
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def ok(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# --- reviews ----------------------------------------------------------------------------


def test_customer_reviews_a_completed_booking_naming_the_coach_of_its_slot(ann, attended):
    booking = attended()

    review = created(ann.post(f"{ME}/bookings/{booking.public_id}/review", json={"rating": 5, "comment": "Great class", "resource": "coach-li"}))

    assert (review["kind"], review["booking"], review["booking_type"], review["rating"], review["comment"]) == (
        "review",
        booking.public_id,
        "yoga",
        5,
        "Great class",
    )
    assert review["resource"]["code"] == "coach-li" and review["reply"] is None and review["editable"] is True


def test_a_checked_in_booking_may_be_reviewed_once_its_slot_has_ended_and_not_before(app, ann, attended, problem):
    booking = attended(complete=False)
    app.config["CLOCK"] = lambda: at(9, 30)
    problem(ann.post(f"{ME}/bookings/{booking.public_id}/review", json={"rating": 4}), 409, "booking_not_over")

    app.config["CLOCK"] = lambda: at(10)
    assert created(ann.post(f"{ME}/bookings/{booking.public_id}/review", json={"rating": 4}))["rating"] == 4


def test_a_confirmed_or_cancelled_booking_cannot_be_reviewed(session, tenant_of, ann, yoga, book, after_class, problem):
    confirmed = book("tenant-a", at(9), phone(1), booking_type="yoga")
    problem(ann.post(f"{ME}/bookings/{confirmed.public_id}/review", json={"rating": 3}), 409, "booking_not_over")
    booking_operations.cancel(session, tenant_of("tenant-a"), confirmed.public_id, by_staff=True)
    problem(ann.post(f"{ME}/bookings/{confirmed.public_id}/review", json={"rating": 3}), 409, "booking_not_over")


def test_a_second_review_of_a_booking_is_refused(ann, attended, problem):
    booking = attended()
    created(ann.post(f"{ME}/bookings/{booking.public_id}/review", json={"rating": 5}))

    problem(ann.post(f"{ME}/bookings/{booking.public_id}/review", json={"rating": 1}), 409, "review_exists")


def test_another_customers_booking_cannot_be_reviewed_and_looks_missing(ann, bob, attended, problem):
    booking = attended(1)

    problem(bob.post(f"{ME}/bookings/{booking.public_id}/review", json={"rating": 1}), 404, "booking_not_found")
    problem(bob.put(f"{ME}/bookings/{booking.public_id}/review", json={"rating": 1}), 404, "booking_not_found")
    problem(bob.post(f"{ME}/bookings/NOSUCHBOOKING/review", json={"rating": 1}), 404, "booking_not_found")


def test_a_resource_that_did_not_serve_the_booking_is_refused(ann, attended, make_coach, problem):
    booking = attended()
    make_coach("tenant-a", "coach-wang")

    body = problem(ann.post(f"{ME}/bookings/{booking.public_id}/review", json={"rating": 5, "resource": "coach-wang"}), 422)

    assert [e["pointer"] for e in body["errors"]] == ["/resource"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"rating": 0}, "/rating"),
        ({"rating": 6}, "/rating"),
        ({"rating": 4.5}, "/rating"),
        ({"rating": True}, "/rating"),
        ({}, "/rating"),
        ({"rating": 5, "comment": "x" * 1001}, "/comment"),
        ({"rating": 5, "comment": "a\x00b"}, "/comment"),
        ({"rating": 5, "resource": "r" * 61}, "/resource"),
        ({"rating": 5, "extra": 1}, "/extra"),
    ],
)
def test_a_review_out_of_bounds_is_refused_at_its_field(ann, attended, problem, body, pointer):
    booking = attended()

    found = problem(ann.post(f"{ME}/bookings/{booking.public_id}/review", json=body), 422)

    assert pointer in [e["pointer"] for e in found["errors"]]


def test_a_review_is_changed_until_the_merchant_replies(ann, attended, manager, problem):
    booking = attended()
    review = created(ann.post(f"{ME}/bookings/{booking.public_id}/review", json={"rating": 2, "comment": "Too hot"}))

    changed = ok(ann.put(f"{ME}/bookings/{booking.public_id}/review", json={"rating": 3, "comment": "Too hot, nice coach", "resource": "coach-li"}))
    assert (changed["rating"], changed["comment"], changed["resource"]["code"]) == (3, "Too hot, nice coach", "coach-li")

    ok(manager.post(f"{INBOX}/{review['id']}/reply", json={"reply": "We fixed the heating."}))
    problem(ann.put(f"{ME}/bookings/{booking.public_id}/review", json={"rating": 5}), 409, "review_replied")


def test_changing_a_review_that_was_never_written_is_not_found(ann, attended, problem):
    problem(ann.put(f"{ME}/bookings/{attended().public_id}/review", json={"rating": 5}), 404, "review_not_found")


# --- feedback and the reply round trip -----------------------------------------------------


def test_feedback_reply_round_trip_customer_sees_the_reply_on_their_booking_and_in_their_list(ann, attended, manager):
    booking = attended()
    review = created(ann.post(f"{ME}/bookings/{booking.public_id}/review", json={"rating": 4, "comment": "Good"}))
    feedback = created(ann.post(f"{ME}/feedback", json={"comment": "Please add evening classes", "category": "suggestion"}))

    ok(manager.post(f"{INBOX}/{review['id']}/reply", json={"reply": "Thank you!"}))
    ok(manager.post(f"{INBOX}/{feedback['id']}/reply", json={"reply": "From January on."}))

    shown = ok(ann.get(f"/api/v1/t/tenant-a/bookings/{booking.public_id}"))["review"]
    assert (shown["rating"], shown["reply"]["text"], shown["editable"]) == (4, "Thank you!", False)
    listed = ok(ann.get(f"{ME}/feedback"))["items"]
    assert [(i["kind"], i["reply"]["text"]) for i in listed] == [("feedback", "From January on."), ("review", "Thank you!")]
    assert listed[0]["category"] == "suggestion"


def test_the_customers_list_of_bookings_shows_each_ones_review_or_none(ann, attended, manager):
    reviewed, other = attended(), attended()
    review = created(ann.post(f"{ME}/bookings/{reviewed.public_id}/review", json={"rating": 5, "comment": "Great coach"}))
    ok(manager.post(f"{INBOX}/{review['id']}/reply", json={"reply": "See you again"}))

    listed = {b["id"]: b["review"] for b in ok(ann.get(f"{ME}/bookings"))["bookings"]}

    assert (listed[reviewed.public_id]["rating"], listed[reviewed.public_id]["reply"]["text"]) == (5, "See you again")
    assert listed[other.public_id] is None


def test_a_customers_list_shows_only_their_own_items(ann, bob):
    created(ann.post(f"{ME}/feedback", json={"comment": "Ann's idea"}))
    created(bob.post(f"{ME}/feedback", json={"comment": "Bob's idea"}))

    assert [i["comment"] for i in ok(bob.get(f"{ME}/feedback"))["items"]] == ["Bob's idea"]


def test_the_customers_list_pages_newest_first(ann, problem):
    for n in range(3):
        created(ann.post(f"{ME}/feedback", json={"comment": f"idea {n}"}))

    first = ok(ann.get(f"{ME}/feedback?limit=2"))
    second = ok(ann.get(f"{ME}/feedback?limit=2&cursor={first['next_cursor']}"))

    assert [i["comment"] for i in first["items"] + second["items"]] == ["idea 2", "idea 1", "idea 0"]
    assert second["next_cursor"] is None
    problem(ann.get(f"{ME}/feedback?cursor=nonsense"), 422)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"comment": ""}, "/comment"),
        ({"comment": "   "}, "/comment"),
        ({"comment": "x" * 5000}, "/comment"),
        ({"comment": "ok", "category": "rant"}, "/category"),
    ],
)
def test_feedback_out_of_bounds_is_refused(ann, problem, body, pointer):
    assert pointer in [e["pointer"] for e in problem(ann.post(f"{ME}/feedback", json=body), 422)["errors"]]


def test_feedback_needs_a_logged_in_customer(client, tenants, problem):
    problem(client.post(f"{ME}/feedback", json={"comment": "anonymous"}), 401)


def test_hostile_text_is_stored_as_given_and_returned_as_json_text(ann, manager):
    item = created(ann.post(f"{ME}/feedback", json={"comment": HOSTILE}))

    assert item["comment"] == HOSTILE
    assert ok(manager.get(f"{INBOX}/{item['id']}"))["comment"] == HOSTILE


# --- the inbox --------------------------------------------------------------------------


def test_the_inbox_filters_by_kind_rating_handled_hidden_type_resource_and_text(ann, bob, attended, manager):
    review = created(ann.post(f"{ME}/bookings/{attended(1).public_id}/review", json={"rating": 2, "comment": "cold room", "resource": "coach-li"}))
    other = created(bob.post(f"{ME}/bookings/{attended(2).public_id}/review", json={"rating": 5}))
    feedback = created(bob.post(f"{ME}/feedback", json={"comment": "Parking is hard", "category": "complaint"}))
    ok(manager.post(f"{INBOX}/{feedback['id']}/handled", json={"handled": True}))
    ok(manager.post(f"{INBOX}/{review['id']}/hide", json={"reason": "names a staff member"}))

    def ids(query: str) -> list[int]:
        return [i["id"] for i in ok(manager.get(f"{INBOX}?{query}"))["items"]]

    assert ids("") == [feedback["id"], other["id"], review["id"]]
    assert ids("kind=review") == [other["id"], review["id"]]
    assert ids("kind=feedback") == [feedback["id"]]
    assert ids("rating=2") == [review["id"]]
    assert ids("handled=true") == [feedback["id"]]
    assert ids("handled=false") == [other["id"], review["id"]]
    assert ids("hidden=true") == [review["id"]]
    assert ids("booking_type=yoga") == [other["id"], review["id"]]
    assert ids("resource=coach-li") == [review["id"]]
    assert ids("q=PARKING") == [feedback["id"]]
    assert ids("q=100%25") == []
    assert ids(f"from={SLOT_DAY}&to={SLOT_DAY}") == ids("")
    assert ids(f"from={SLOT_DAY + timedelta(days=1)}") == []


def test_the_inbox_pages_by_cursor(bob, manager):
    for n in range(3):
        created(bob.post(f"{ME}/feedback", json={"comment": f"idea {n}"}))

    first = ok(manager.get(f"{INBOX}?limit=2"))
    second = ok(manager.get(f"{INBOX}?limit=2&cursor={first['next_cursor']}"))

    assert [i["comment"] for i in first["items"] + second["items"]] == ["idea 2", "idea 1", "idea 0"]


@pytest.mark.parametrize(
    "query",
    [
        "kind=praise",
        "rating=6",
        "rating=x",
        "handled=yes",
        "from=2026-13-01",
        "from=0001-01-01",
        "to=9999-12-31",
        "to=yesterday",
        "q=" + "x" * 101,
        "limit=0",
        "cursor=bad",
        "sort=id",
    ],
)
def test_the_inbox_refuses_a_bad_query_at_its_parameter(manager, tenants, problem, query):
    name = query.split("=")[0]
    assert f"/{name}" in [e["pointer"] for e in problem(manager.get(f"{INBOX}?{query}"), 422)["errors"]]


def test_staff_read_but_only_managers_act(ann, front_desk, manager, staff_client, problem):
    item = created(ann.post(f"{ME}/feedback", json={"comment": "Hello"}))

    assert ok(front_desk.get(INBOX))["items"][0]["customer"]["phone"] == "138****0001"
    assert ok(manager.get(f"{INBOX}/{item['id']}"))["customer"]["phone"] == phone(1)
    for action, body in (("reply", {"reply": "hi"}), ("hide", {"reason": "r"}), ("unhide", None), ("handled", {"handled": True})):
        problem(front_desk.post(f"{INBOX}/{item['id']}/{action}", json=body), 403)
    ok(staff_client("tenant-a", StaffRole.owner).post(f"{INBOX}/{item['id']}/handled", json={"handled": True}))


def test_hiding_keeps_the_reason_and_who_and_unhiding_shows_again(ann, manager, problem):
    item = created(ann.post(f"{ME}/feedback", json={"comment": "You are all idiots"}))

    hidden = ok(manager.post(f"{INBOX}/{item['id']}/hide", json={"reason": "abusive"}))
    assert (hidden["hidden"], hidden["hidden_reason"], hidden["hidden_by"].startswith("staff:")) == (True, "abusive", True)
    assert ok(ann.get(f"{ME}/feedback"))["items"][0]["hidden"] is True

    shown = ok(manager.post(f"{INBOX}/{item['id']}/unhide"))
    assert (shown["hidden"], shown["hidden_reason"]) == (False, None)
    problem(manager.post(f"{INBOX}/{item['id']}/unhide"), 409, "feedback_not_hidden")


def test_handled_is_set_and_cleared_with_who_and_when(ann, manager):
    item = created(ann.post(f"{ME}/feedback", json={"comment": "Noted?"}))

    done = ok(manager.post(f"{INBOX}/{item['id']}/handled", json={"handled": True}))
    assert done["handled"] is True and done["handled_at"] and done["handled_by"].startswith("staff:")
    assert ok(manager.post(f"{INBOX}/{item['id']}/handled", json={"handled": False}))["handled"] is False


@pytest.mark.parametrize(
    ("action", "body", "pointer"),
    [
        ("reply", {"reply": ""}, "/reply"),
        ("reply", {"reply": " "}, "/reply"),
        ("reply", {"reply": "x" * 1001}, "/reply"),
        ("reply", {"reply": "a\x00"}, "/reply"),
        ("hide", {"reason": "x" * 201}, "/reason"),
        ("hide", {}, "/reason"),
        ("handled", {"handled": "yes"}, "/handled"),
    ],
)
def test_staff_actions_out_of_bounds_are_refused(ann, manager, problem, action, body, pointer):
    item = created(ann.post(f"{ME}/feedback", json={"comment": "Hi"}))

    assert pointer in [e["pointer"] for e in problem(manager.post(f"{INBOX}/{item['id']}/{action}", json=body), 422)["errors"]]


def test_an_item_of_another_tenant_or_none_is_not_found(signed_in_customer, manager, problem):
    dora = signed_in_customer(4, tenant="tenant-b")
    item = created(dora.post("/api/v1/t/tenant-b/me/feedback", json={"comment": "Bee's"}))

    problem(manager.get(f"{INBOX}/{item['id']}"), 404, "feedback_not_found")
    problem(manager.post(f"{INBOX}/{item['id']}/reply", json={"reply": "x"}), 404, "feedback_not_found")
    assert ok(manager.get(INBOX))["items"] == []


def test_every_change_is_audited_and_announced_without_its_texts(session, tenant_of, ann, attended, manager):
    review = created(ann.post(f"{ME}/bookings/{attended().public_id}/review", json={"rating": 1, "comment": "secret-comment-text"}))
    ok(manager.post(f"{INBOX}/{review['id']}/reply", json={"reply": "secret-reply-text"}))
    ok(manager.post(f"{INBOX}/{review['id']}/hide", json={"reason": "abuse"}))
    ok(manager.post(f"{INBOX}/{review['id']}/handled", json={"handled": True}))
    created(ann.post(f"{ME}/feedback", json={"comment": "secret-feedback-text"}))

    with tenant_scope(tenant_of("tenant-a").id):
        actions = [r.action for r in session.scalars(select(AuditRecord).where(AuditRecord.subject_type == "feedback").order_by(AuditRecord.id))]
        events = [e for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)) if e.topic.startswith(("review.", "feedback."))]
    assert actions == ["review.created", "review.replied", "feedback.hidden", "feedback.handled", "feedback.created"]
    assert [e.topic for e in events] == actions
    assert all(topic in WEBHOOK_TOPICS for topic in actions)
    assert "secret" not in repr([e.payload for e in events])


# --- a customer's page and their data -------------------------------------------------------


def test_the_customers_page_lists_the_reviews_they_wrote(ann, attended, manager):
    created(ann.post(f"{ME}/bookings/{attended().public_id}/review", json={"rating": 5, "comment": "Loved it"}))

    page = ok(manager.get(f"/api/v1/t/tenant-a/admin/customers/{ann.customer.id}"))

    assert [(r["kind"], r["rating"], r["comment"]) for r in page["reviews"]] == [("review", 5, "Loved it")]


def test_the_data_download_holds_reviews_and_feedback_with_replies(ann, attended, manager):
    review = created(ann.post(f"{ME}/bookings/{attended().public_id}/review", json={"rating": 5, "comment": "Loved it"}))
    created(ann.post(f"{ME}/feedback", json={"comment": "More mats"}))
    ok(manager.post(f"{INBOX}/{review['id']}/reply", json={"reply": "Thanks"}))

    data = ann.get(f"{ME}/data").get_json()

    assert [(r["kind"], r["comment"], (r["reply"] or {}).get("text")) for r in data["reviews"]] == [
        ("review", "Loved it", "Thanks"),
        ("feedback", "More mats", None),
    ]


# --- public rating ----------------------------------------------------------------------


def test_the_public_rating_shows_from_three_reviews_with_the_coachs(signed_in_customer, attended, client):
    detail = "/api/v1/t/tenant-a/booking-types/yoga"
    for n, rating in ((1, 5), (2, 4)):
        created(signed_in_customer(n).post(f"{ME}/bookings/{attended(n).public_id}/review", json={"rating": rating, "resource": "coach-li"}))
    shown = ok(client.get(detail))
    assert (shown["rating"], shown["resource_ratings"]) == (None, [])

    created(signed_in_customer(3).post(f"{ME}/bookings/{attended(3).public_id}/review", json={"rating": 4, "resource": "coach-li"}))
    shown = ok(client.get(detail))

    assert shown["rating"] == {"average": 4.33, "count": 3}
    assert [(r["code"], r["rating"]) for r in shown["resource_ratings"]] == [("coach-li", {"average": 4.33, "count": 3})]


# --- statistics -------------------------------------------------------------------------


def test_the_statistics_average_ratings_per_booking_type_resource_and_month_hidden_ones_included(signed_in_customer, attended, manager, front_desk, problem):
    for n, rating in ((1, 5), (2, 2)):
        created(
            signed_in_customer(n).post(f"{ME}/bookings/{attended(n).public_id}/review", json={"rating": rating, "resource": "coach-li" if n == 1 else None})
        )
    hidden = ok(manager.get(f"{INBOX}?rating=2"))["items"][0]
    ok(manager.post(f"{INBOX}/{hidden['id']}/hide", json={"reason": "abusive"}))
    stats = "/api/v1/t/tenant-a/admin/stats/ratings"

    found = ok(manager.get(f"{stats}?from={SLOT_DAY}&to={SLOT_DAY}"))

    assert [(t["slug"], t["reviews"], t["average"]) for t in found["booking_types"]] == [("yoga", 2, 3.5)]
    assert [(r["code"], r["reviews"], r["average"]) for r in found["resources"]] == [("coach-li", 1, 5.0)]
    assert found["months"] == [{"month": f"{SLOT_DAY:%Y-%m}", "reviews": 2, "average": 3.5}]
    day_before = SLOT_DAY - timedelta(days=1)
    assert ok(manager.get(f"{stats}?from={day_before}&to={day_before}"))["booking_types"] == []
    problem(front_desk.get(stats), 403)


def test_a_lone_surrogate_is_refused_and_nothing_is_stored(ann, problem):
    body = b'{"comment": "half \\ud800 a character"}'

    problem(ann.post(f"{ME}/feedback", data=body, content_type="application/json"), 400)
    assert ok(ann.get(f"{ME}/feedback"))["items"] == []


def test_a_webhook_of_a_review_carries_the_item_as_the_inbox_shows_it(session, tenant_of, ann, attended):
    review = created(ann.post(f"{ME}/bookings/{attended().public_id}/review", json={"rating": 5, "comment": "Loved it", "resource": "coach-li"}))
    tenant = tenant_of("tenant-a")
    with tenant_scope(tenant.id):
        event = session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "review.created"))
        body = json.loads(webhook_body(session, tenant, event))

    assert body["type"] == "review.created"
    assert (body["data"]["id"], body["data"]["comment"], body["data"]["customer"]["phone"]) == (review["id"], "Loved it", phone(1))
