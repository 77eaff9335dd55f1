"""Booking types through the merchant API: created from a vertical, changed with the same checks, forms versioned."""

from __future__ import annotations

from merchant_setup import NAME_FORM, NAME_UI, windows

from yuyue.db import tenant_scope
from yuyue.forms.operations import form_version

TYPES = "/api/v1/t/tenant-a/admin/booking-types"
NEW_FORM = {**NAME_FORM, "properties": {**NAME_FORM["properties"], "school": {"type": "string", "x-field": "text"}}}
NEW_UI = {"order": ["name", "note", "school"], "fields": {}}


def test_manager_creates_a_booking_type_from_a_vertical_with_its_defaults(manager):
    response = manager.post(TYPES, json={"vertical": "course", "slug": "yoga", "name": {"zh-Hans": "瑜伽", "en": "Yoga"}, "price_amount": 8800})

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith("/api/v1/t/tenant-a/admin/booking-types/yoga")
    assert (body["slug"], body["vertical"], body["status"], body["price_amount"], body["form_version"]) == ("yoga", "course", "active", 8800, 1)
    assert body["availability_rules"] and body["form"]["version"] == 1
    assert "student_name" in body["form"]["definition"]["properties"]


def test_created_booking_type_is_listed_and_shown(manager):
    manager.post(TYPES, json={"vertical": "exhibition", "slug": "entry", "name": "Entry", "availability_rules": windows(("09:00", "11:00"))})

    listed = manager.get(TYPES).get_json()["booking_types"]
    shown = manager.get(f"{TYPES}/entry").get_json()

    assert [t["slug"] for t in listed] == ["entry"]
    assert "form" not in listed[0]
    assert shown["availability_rules"] == windows(("09:00", "11:00")) and shown["form"]["version"] == 1


def test_a_taken_slug_is_a_conflict_pointing_at_the_slug(manager, problem):
    manager.post(TYPES, json={"vertical": "exhibition", "slug": "entry", "name": "Entry"})

    body = problem(manager.post(TYPES, json={"vertical": "course", "slug": "entry", "name": "Other"}), 409, "slug_taken")

    assert [e["pointer"] for e in body["errors"]] == ["/slug"]


def test_a_vertical_that_is_not_installed_is_not_found(manager, problem):
    problem(manager.post(TYPES, json={"vertical": "spaceflight", "slug": "moon", "name": "Moon"}), 404, "vertical_not_found")


def test_a_vertical_whose_plugin_the_tenant_has_not_enabled_is_refused(manager, problem):
    problem(manager.post(TYPES, json={"vertical": "vehicle", "slug": "bus", "name": "Bus"}), 409, "plugin_not_enabled")


def test_patch_changes_only_the_settings_given(manager, make_type):
    make_type("tenant-a", "entry", price_amount=100)

    response = manager.patch(f"{TYPES}/entry", json={"name": {"en": "Morning visit"}, "price_amount": 0, "policies": {"cancellation": {"deadline_hours": 6}}})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name"] == {"en": "Morning visit"} and body["price_amount"] == 0
    assert body["policies"] == {"cancellation": {"deadline_hours": 6}}
    assert body["availability_rules"] == windows(("09:00", "11:00"), ("14:00", "16:00"))
    assert body["form_version"] == 1


def test_patch_archives_a_booking_type_which_staff_still_see(manager, make_type):
    make_type("tenant-a", "entry")

    manager.patch(f"{TYPES}/entry", json={"status": "archived"})

    assert manager.get(f"{TYPES}/entry").get_json()["status"] == "archived"
    assert [t["status"] for t in manager.get(TYPES).get_json()["booking_types"]] == ["archived"]


def test_a_new_form_publishes_the_next_version_and_leaves_the_old_one_untouched(manager, make_type, session, tenant_of):
    booking_type = make_type("tenant-a", "entry")

    body = manager.patch(f"{TYPES}/entry", json={"form": NEW_FORM, "ui": NEW_UI}).get_json()

    assert body["form_version"] == 2 and "school" in body["form"]["definition"]["properties"]
    with tenant_scope(tenant_of("tenant-a").id):
        assert form_version(session, booking_type.id, 1).definition == NAME_FORM
        assert form_version(session, booking_type.id, 2).ui == NEW_UI


def test_a_new_ui_alone_keeps_the_current_form_definition(manager, make_type):
    make_type("tenant-a", "entry")

    body = manager.patch(f"{TYPES}/entry", json={"ui": {"order": ["note", "name"], "fields": {}}}).get_json()

    assert body["form_version"] == 2
    assert body["form"]["definition"] == NAME_FORM and body["form"]["ui"]["order"] == ["note", "name"]


def test_posting_the_current_form_again_publishes_nothing(manager, make_type):
    make_type("tenant-a", "entry")

    assert manager.patch(f"{TYPES}/entry", json={"form": NAME_FORM, "ui": NAME_UI}).get_json()["form_version"] == 1


def test_a_ui_naming_a_field_the_form_lacks_is_refused_at_the_ui(manager, make_type, problem):
    make_type("tenant-a", "entry")

    body = problem(manager.patch(f"{TYPES}/entry", json={"ui": {"order": ["name", "ghost"], "fields": {}}}), 422, "validation_failed")

    assert [e["pointer"] for e in body["errors"]] == ["/ui/order/1"]
    assert manager.get(f"{TYPES}/entry").get_json()["form_version"] == 1


def test_a_broken_form_is_refused_at_the_form_field(manager, make_type, problem):
    make_type("tenant-a", "entry")
    broken = {"type": "object", "properties": {"name": {"type": "string", "x-field": "no-such-field-type"}}}

    body = problem(manager.patch(f"{TYPES}/entry", json={"form": broken, "ui": {"order": ["name"], "fields": {}}}), 422, "validation_failed")

    assert body["errors"] and all(e["pointer"].startswith("/form/properties/name") for e in body["errors"])


def test_invalid_changes_are_all_reported_and_nothing_is_stored(manager, make_type, problem):
    make_type("tenant-a", "entry", price_amount=100)

    body = problem(
        manager.patch(f"{TYPES}/entry", json={"name": "", "availability_rules": [{"type": "moon_phases", "params": {}}], "policies": {"nonsense": 1}}),
        422,
        "validation_failed",
    )

    pointers = {e["pointer"] for e in body["errors"]}
    assert "/name" in pointers and any(p.startswith("/availability_rules/0") for p in pointers) and any(p.startswith("/policies") for p in pointers)
    assert manager.get(f"{TYPES}/entry").get_json()["name"] == {"zh-Hans": "参观", "en": "Visit"}


def test_requirements_may_name_only_this_tenants_resources(manager, make_type, make_coach, problem):
    make_type("tenant-a", "entry")
    theirs = make_coach("tenant-b", "coach-wang")

    body = problem(
        manager.patch(f"{TYPES}/entry", json={"resource_requirements": [{"kind": "coach", "resource_ids": [theirs.id]}]}),
        422,
        "validation_failed",
    )

    assert [e["pointer"] for e in body["errors"]] == ["/resource_requirements/0/resource_ids/0"]


def test_requirements_naming_own_resources_are_stored(manager, make_type, make_coach):
    make_type("tenant-a", "entry")
    ours = make_coach("tenant-a")

    body = manager.patch(f"{TYPES}/entry", json={"resource_requirements": [{"kind": "coach", "resource_ids": [ours.id]}]}).get_json()

    assert body["resource_requirements"] == [{"kind": "coach", "resource_ids": [ours.id]}]


def test_an_unknown_slug_is_not_found(manager, problem):
    problem(manager.get(f"{TYPES}/nothing"), 404, "booking_type_not_found")
    problem(manager.patch(f"{TYPES}/nothing", json={"price_amount": 1}), 404, "booking_type_not_found")


def test_slug_and_vertical_cannot_be_changed(manager, make_type, problem):
    make_type("tenant-a", "entry")

    body = problem(manager.patch(f"{TYPES}/entry", json={"slug": "other", "vertical": "course"}), 422, "validation_failed")

    assert {e["pointer"] for e in body["errors"]} == {"/slug", "/vertical"}
