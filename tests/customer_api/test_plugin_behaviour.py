"""The behaviour hooks' contracts, through the customer API and the booking operations.

An out-of-tree plugin ``rules`` declares the vertical ``rules`` and answers
every behaviour hook from its tenant settings; a second plugin ``spy`` records
what it is called with. Each test enables them per tenant through the
operator API or the provisioning operation, exactly as an operator would.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from importlib import resources

import pytest
from customer_api_setup import SLOT_DAY, at, iso, phone
from sqlalchemy import func, select
from tenant_setup import NAME_FORM, NAME_UI, make_booking_type, windows

from yuyue.audit.models import AuditRecord
from yuyue.bookings import operations as ops
from yuyue.bookings.models import Booking, BookingStatus
from yuyue.db import tenant_scope
from yuyue.events.models import OutboxEvent
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import create_tenant, get_tenant
from yuyue.scheduling.models import SlotInventory

SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "units": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
        "refused_name": {"type": "string", "maxLength": 50, "default": "Nobody"},
        "may_cancel": {"type": "boolean", "default": True},
        "may_move": {"type": "boolean", "default": True},
        "fail_in": {"type": "string", "maxLength": 50, "default": ""},
        "late_minutes": {"type": "integer", "minimum": 0, "maximum": 240, "default": 0},
    },
    "additionalProperties": False,
}

RULES_SOURCE = """
    from datetime import timedelta

    from yuyue.plugin_api import CancellationTerms, FieldProblem, PriceLine, PriceQuote, RescheduleTerms, VerticalFile, hookimpl

    calls = []


    def ours(booking_type, settings, hook):
        if booking_type.vertical != "rules":
            return False
        if settings["fail_in"] == hook:
            raise RuntimeError("the plugin broke")
        return True


    @hookimpl
    def register_verticals():
        return [VerticalFile(__package__, "vertical/vertical.json")]


    @hookimpl
    def booking_units(booking_type, settings):
        if ours(booking_type, settings, "booking_units"):
            return settings["units"]


    @hookimpl
    def validate_booking(booking_type, request, settings):
        if ours(booking_type, settings, "validate_booking") and request.answers["name"] == settings["refused_name"]:
            return [FieldProblem("/answers/name", "not this name", "name_refused")]


    @hookimpl
    def quote_price(booking_type, request, settings):
        if ours(booking_type, settings, "quote_price"):
            return PriceQuote((PriceLine("ticket", "Ticket", 300, request.units), PriceLine("guide", "Guide", 1000, 1)))


    @hookimpl
    def cancellation_terms(booking, settings):
        if ours(booking.booking_type, settings, "cancellation_terms"):
            return CancellationTerms(allowed=settings["may_cancel"], late=not settings["may_cancel"], code="on_time" if settings["may_cancel"] else "cancellation_closed")


    @hookimpl
    def check_in_window(booking, window, settings):
        if ours(booking.booking_type, settings, "check_in_window") and settings["late_minutes"]:
            return booking.starts_at, window[1] + timedelta(minutes=settings["late_minutes"])


    @hookimpl
    def reschedule_terms(booking, settings):
        if ours(booking.booking_type, settings, "reschedule_terms") and not settings["may_move"]:
            return RescheduleTerms(allowed=False, code="reschedule_closed", message="this plugin keeps bookings where they are")


    def lifecycle(name):
        def record(booking, settings, session):
            if ours(booking.booking_type, settings, name):
                # Inside the transaction that changes the state: the booking's row already says so.
                status = session.execute(__import__("sqlalchemy").text("SELECT status FROM bookings WHERE public_id = :id"), {"id": booking.public_id}).scalar()
                calls.append((name, booking.public_id, booking.status, status))
        record.__name__ = name
        return hookimpl(record)


    for _name in ("booking_placed", "booking_confirmed", "booking_cancelled", "booking_rescheduled", "booking_checked_in", "booking_no_show", "booking_expired", "booking_completed"):
        globals()[_name] = lifecycle(_name)
"""

SPY_SOURCE = """
    from yuyue.plugin_api import FieldProblem, VerticalFile, hookimpl

    calls = []


    @hookimpl
    def register_verticals():
        return [VerticalFile(__package__, "vertical/vertical.json")]


    @hookimpl(tryfirst=True)
    def booking_units(booking_type, settings):
        calls.append(("booking_units", dict(settings)))
        return settings.get("units")


    @hookimpl
    def validate_booking(booking_type, request, settings):
        calls.append(("validate_booking", request.answers["name"]))
        if request.answers["name"] == "Nobody":
            return [FieldProblem("/answers/note", "the spy objects too", "spy_objects")]
"""

SPY_SETTINGS = {"type": "object", "properties": {"units": {"type": "integer", "minimum": 1, "maximum": 10}}, "additionalProperties": False}


def _vertical_files(key: str, settings_schema: dict) -> dict[str, object]:
    folder = resources.files("yuyue_exhibition") / "vertical"
    files = {f"vertical/{p.name}": json.loads(p.read_text("utf-8")) for p in folder.iterdir() if p.name.endswith(".json")}
    files = copy.deepcopy(files)
    files["vertical/vertical.json"]["key"] = key
    files["vertical/vertical.json"].pop("default_policies", None)
    files["vertical/settings.schema.json"] = settings_schema
    return files


@pytest.fixture
def installed(make_plugin):
    """The two plugins, installed before the application is built."""
    make_plugin("rules", RULES_SOURCE, _vertical_files("rules", SETTINGS_SCHEMA))
    make_plugin("spy", SPY_SOURCE, _vertical_files("spy", SPY_SETTINGS))


@pytest.fixture
def calls(installed, app):
    host = plugin_host()
    return {name: host.manager.get_plugin(name).calls for name in ("rules", "spy")}


def provision(session, slug: str, plugins: dict, max_party_size: int = 10) -> None:
    tenant = create_tenant(session, plugin_host(), slug=slug, name=slug.title(), plugins=plugins)
    rules = windows(("09:00", "10:00"), ("10:00", "11:00"), capacity=10)
    make_booking_type(session, tenant, "visit", vertical="rules", rules=rules, max_party_size=max_party_size, form=NAME_FORM, ui=NAME_UI)


def post_booking(client, tenant: str = "tenant-a", name: str = "Li Lei", hour: int = 9, n: int = 1):
    body = {"booking_type": "visit", "starts_at": iso(hour), "answers": {"name": name}, "phone": phone(n)}
    return client.post(f"/api/v1/t/{tenant}/bookings", json=body)


def taken(session, tenant: str) -> int:
    with tenant_scope(get_tenant(session, tenant).id):
        return session.scalar(select(func.coalesce(func.sum(SlotInventory.taken), 0)))


def nothing_written(session, tenant: str) -> bool:
    with tenant_scope(get_tenant(session, tenant).id):
        bookings = session.scalar(select(func.count()).select_from(Booking))
        events = session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.topic.like("booking.%")))
        records = session.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.action.like("booking.%")))
    return (bookings, events, records, taken(session, tenant)) == (0, 0, 0, 0)


def put_plugins(client, operator_headers, tenant: str, plugins: dict):
    response = client.put(f"/api/v1/operator/tenants/{tenant}/plugins", json={"plugins": plugins}, headers=operator_headers)
    assert response.status_code == 200, response.get_json()


# --- booking_units -----------------------------------------------------------------------


def test_hook_booking_units_counts_the_places_of_each_tenant_from_its_settings(calls, session, client):
    provision(session, "tenant-a", {"rules": {"units": 3}})
    provision(session, "tenant-b", {"rules": {}})
    a, b = post_booking(client), post_booking(client, "tenant-b")
    assert (a.status_code, b.status_code) == (201, 201)
    assert (a.get_json()["party_size"], b.get_json()["party_size"]) == (3, 1)
    assert (taken(session, "tenant-a"), taken(session, "tenant-b")) == (3, 1)


def test_hook_booking_units_first_answer_wins_and_tryfirst_goes_first(calls, session, client):
    provision(session, "tenant-a", {"rules": {"units": 3}, "spy": {"units": 2}})
    provision(session, "tenant-b", {"rules": {"units": 3}, "spy": {}})
    assert post_booking(client).get_json()["party_size"] == 2  # the spy is tryfirst
    assert post_booking(client, "tenant-b").get_json()["party_size"] == 3  # the spy answered None: the next one counts
    assert ("booking_units", {"units": 2}) in calls["spy"] and ("booking_units", {}) in calls["spy"]


def test_hook_booking_units_beyond_the_booking_types_party_limit_is_refused(calls, session, client, problem):
    provision(session, "tenant-a", {"rules": {"units": 5}}, max_party_size=4)
    provision(session, "tenant-b", {"rules": {"units": 4}}, max_party_size=4)
    body = problem(post_booking(client), 422, "validation_failed")
    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [("/party_size", "party_size_out_of_range")]
    assert post_booking(client, "tenant-b").status_code == 201


# --- validate_booking ----------------------------------------------------------------------


def test_hook_validate_booking_reports_every_plugins_problems_together(calls, session, client, problem):
    provision(session, "tenant-a", {"rules": {}, "spy": {}})
    body = problem(post_booking(client, name="Nobody"), 422, "validation_failed")
    assert {(e["pointer"], e["code"]) for e in body["errors"]} == {("/answers/name", "name_refused"), ("/answers/note", "spy_objects")}
    assert nothing_written(session, "tenant-a")


def test_hook_validate_booking_reaches_only_plugins_the_tenant_enabled(calls, session, client):
    provision(session, "tenant-a", {"rules": {}})
    provision(session, "tenant-b", {"rules": {}, "spy": {}})
    assert post_booking(client, name="Han Meimei").status_code == 201
    assert calls["spy"] == []
    assert post_booking(client, "tenant-b", name="Han Meimei").status_code == 201
    assert ("validate_booking", "Han Meimei") in calls["spy"]


def test_hook_validate_booking_failure_refuses_without_a_500_and_writes_nothing(calls, session, client, problem):
    provision(session, "tenant-a", {"rules": {"fail_in": "validate_booking"}})
    body = problem(post_booking(client), 409, "plugin_failed")
    assert "rules" in body["detail"]
    assert nothing_written(session, "tenant-a")


def test_a_disabled_vertical_takes_no_bookings_and_settings_apply_at_once(calls, session, client, operator_headers, problem):
    provision(session, "tenant-a", {"rules": {}})
    assert post_booking(client).get_json()["party_size"] == 1
    put_plugins(client, operator_headers, "tenant-a", {"rules": {"units": 4}})
    assert post_booking(client, n=2).get_json()["party_size"] == 4  # the same app, no restart
    put_plugins(client, operator_headers, "tenant-a", {"spy": {}})
    problem(post_booking(client, n=3), 409, "vertical_disabled")


# --- quote_price -------------------------------------------------------------------------


def test_hook_quote_price_is_the_amount_charged(calls, session, client):
    provision(session, "tenant-a", {"rules": {"units": 2}})
    booking = post_booking(client).get_json()
    assert (booking["status"], booking["price_amount"]) == ("held", 2 * 300 + 1000)
    assert booking["payment"]["amount"] == 1600  # opened when placed, for the quoted total


def test_hook_quote_price_failure_writes_nothing(calls, session, client, problem):
    provision(session, "tenant-a", {"rules": {"fail_in": "quote_price"}})
    problem(post_booking(client), 409, "plugin_failed")
    assert nothing_written(session, "tenant-a")


# --- terms -------------------------------------------------------------------------------


def _guest_booking(client, tenant: str = "tenant-a", **fields) -> tuple[dict, dict]:
    response = post_booking(client, tenant, **fields)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return body, {"X-Booking-Token": body["booking_token"]}


def test_hook_cancellation_terms_decide_whether_a_customer_may_cancel(calls, session, client, problem):
    provision(session, "tenant-a", {"rules": {"may_cancel": False}})
    provision(session, "tenant-b", {"rules": {}})
    booking, token = _guest_booking(client)
    problem(client.post(f"/api/v1/t/tenant-a/bookings/{booking['id']}/cancel", headers=token), 409, "cancellation_closed")
    other, other_token = _guest_booking(client, "tenant-b")
    assert client.post(f"/api/v1/t/tenant-b/bookings/{other['id']}/cancel", headers=other_token).status_code == 200


def test_hook_reschedule_terms_decide_whether_a_booking_may_move(calls, session, client, problem):
    provision(session, "tenant-a", {"rules": {"may_move": False}})
    booking, token = _guest_booking(client)
    body = problem(client.post(f"/api/v1/t/tenant-a/bookings/{booking['id']}/reschedule", json={"starts_at": iso(10)}, headers=token), 409, "reschedule_closed")
    assert body["detail"] == "this plugin keeps bookings where they are"


# --- lifecycle events ----------------------------------------------------------------------


def _events(calls, name):
    return [call for call in calls["rules"] if call[0] == name]


def test_hook_booking_placed_runs_inside_the_transaction_and_its_failure_writes_nothing(calls, session, client, problem):
    provision(session, "tenant-a", {"rules": {}})
    provision(session, "tenant-b", {"rules": {"fail_in": "booking_placed"}})
    booking, _ = _guest_booking(client)
    assert _events(calls, "booking_placed") == [("booking_placed", booking["id"], "held", "held")]
    problem(post_booking(client, "tenant-b"), 409, "plugin_failed")
    assert nothing_written(session, "tenant-b")


def test_hook_booking_rescheduled_is_told_in_its_transaction(calls, session, client):
    provision(session, "tenant-a", {"rules": {}})
    booking, token = _guest_booking(client)
    assert client.post(f"/api/v1/t/tenant-a/bookings/{booking['id']}/reschedule", json={"starts_at": iso(10)}, headers=token).status_code == 200
    assert _events(calls, "booking_rescheduled") == [("booking_rescheduled", booking["id"], "held", "held")]


def test_hook_booking_cancelled_is_told_in_its_transaction(calls, session, client):
    provision(session, "tenant-a", {"rules": {}})
    booking, token = _guest_booking(client)
    assert client.post(f"/api/v1/t/tenant-a/bookings/{booking['id']}/cancel", headers=token).status_code == 200
    assert _events(calls, "booking_cancelled") == [("booking_cancelled", booking["id"], "cancelled", "cancelled")]


def _placed(session, client) -> tuple:
    provision(session, "tenant-a", {"rules": {}})
    booking, _ = _guest_booking(client)
    return get_tenant(session, "tenant-a"), booking["id"]


def test_hook_booking_confirmed_is_told_when_a_held_booking_is_paid(calls, session, client):
    tenant, public_id = _placed(session, client)
    ops.confirm(session, tenant, public_id)
    assert _events(calls, "booking_confirmed") == [("booking_confirmed", public_id, "confirmed", "confirmed")]


def test_hook_booking_expired_is_told_when_a_hold_runs_out(calls, session, client):
    tenant, public_id = _placed(session, client)
    ops.expire_holds(session, tenant, now=at(8, day=SLOT_DAY + timedelta(days=1)))
    assert _events(calls, "booking_expired") == [("booking_expired", public_id, "expired", "expired")]


def test_hook_booking_no_show_is_told(calls, session, client):
    tenant, public_id = _placed(session, client)
    ops.confirm(session, tenant, public_id)
    ops.mark_no_show(session, tenant, public_id, now=at(9, 30))
    assert _events(calls, "booking_no_show") == [("booking_no_show", public_id, "no_show", "no_show")]


def test_hook_booking_completed_is_told_after_the_check_in(calls, session, client, app):
    from yuyue.bookings.checkin import check_in

    tenant, public_id = _placed(session, client)
    booking = ops.confirm(session, tenant, public_id)
    check_in(session, tenant, secret_key=app.config["SECRET_KEY"], code=booking.voucher_code, now=at(9, 5))
    ops.complete(session, tenant, public_id)
    assert _events(calls, "booking_checked_in") == [("booking_checked_in", public_id, "checked_in", "checked_in")]
    assert _events(calls, "booking_completed") == [("booking_completed", public_id, "completed", "completed")]


def test_hook_booking_checked_in_may_turn_someone_away(calls, session, client, app):
    from yuyue.bookings.checkin import check_in
    from yuyue.errors import Refused

    provision(session, "tenant-a", {"rules": {"fail_in": "booking_checked_in"}})
    booking, _ = _guest_booking(client)
    tenant = get_tenant(session, "tenant-a")
    confirmed = ops.confirm(session, tenant, booking["id"])
    with pytest.raises(Refused) as refused:
        check_in(session, tenant, secret_key=app.config["SECRET_KEY"], code=confirmed.voucher_code, now=at(9, 5))
    assert refused.value.code == "plugin_failed"
    with tenant_scope(tenant.id):
        assert session.scalar(select(Booking.status).where(Booking.public_id == booking["id"])) is BookingStatus.confirmed


def test_hook_check_in_window_lets_a_venue_admit_latecomers(calls, session, client, app):
    from yuyue.bookings.checkin import check_in
    from yuyue.errors import Refused

    provision(session, "tenant-a", {"rules": {"late_minutes": 30}})
    provision(session, "tenant-b", {"rules": {}})
    codes = {}
    for tenant_slug in ("tenant-a", "tenant-b"):
        booking, _ = _guest_booking(client, tenant_slug)
        codes[tenant_slug] = ops.confirm(session, get_tenant(session, tenant_slug), booking["id"]).voucher_code
    late = at(10, 29)  # the 09:00-10:00 slot ended 29 minutes ago
    with pytest.raises(Refused) as refused:
        check_in(session, get_tenant(session, "tenant-b"), secret_key=app.config["SECRET_KEY"], code=codes["tenant-b"], now=late)
    assert refused.value.code == "slot_ended"
    with pytest.raises(Refused) as refused:
        check_in(session, get_tenant(session, "tenant-a"), secret_key=app.config["SECRET_KEY"], code=codes["tenant-a"], now=at(8, 59))
    assert refused.value.code == "too_early"  # this plugin opens the gate at the slot's start
    assert not check_in(session, get_tenant(session, "tenant-a"), secret_key=app.config["SECRET_KEY"], code=codes["tenant-a"], now=late).already_checked_in
