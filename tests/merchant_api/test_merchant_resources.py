"""Resources through the merchant API: added, listed, renamed, rescheduled, deactivated."""

from __future__ import annotations

RESOURCES = "/api/v1/t/tenant-a/admin/resources"
HOURS = {"mon": [{"start": "09:00", "end": "17:00"}], "sat": [{"start": "10:00", "end": "12:00"}]}


def test_manager_adds_a_resource_and_staff_list_it(manager, front_desk):
    response = manager.post(RESOURCES, json={"kind": "coach", "code": "coach-li", "name": {"zh-Hans": "李教练"}, "schedule": HOURS})

    assert response.status_code == 201, response.get_json()
    listed = front_desk.get(RESOURCES).get_json()["resources"]
    assert [(r["code"], r["kind"], r["name"], r["schedule"], r["active"]) for r in listed] == [("coach-li", "coach", {"zh-Hans": "李教练"}, HOURS, True)]
    assert listed[0]["id"] == response.get_json()["id"]


def test_resources_are_listed_by_kind_then_code(manager, make_coach):
    manager.post(RESOURCES, json={"kind": "room", "code": "a-room", "name": "Room"})
    make_coach("tenant-a", "coach-zhang")
    make_coach("tenant-a", "coach-li")

    assert [r["code"] for r in manager.get(RESOURCES).get_json()["resources"]] == ["coach-li", "coach-zhang", "a-room"]


def test_patch_renames_reschedules_and_deactivates(manager, make_coach):
    make_coach("tenant-a")

    body = manager.patch(f"{RESOURCES}/coach-li", json={"name": "Li Lei", "schedule": HOURS, "active": False}).get_json()

    assert (body["name"], body["schedule"], body["active"]) == ("Li Lei", HOURS, False)


def test_a_null_schedule_makes_a_resource_always_available(manager):
    manager.post(RESOURCES, json={"kind": "coach", "code": "coach-li", "name": "Li", "schedule": HOURS})

    assert manager.patch(f"{RESOURCES}/coach-li", json={"schedule": None}).get_json()["schedule"] is None


def test_a_taken_code_is_a_conflict(manager, make_coach, problem):
    make_coach("tenant-a")

    body = problem(manager.post(RESOURCES, json={"kind": "coach", "code": "coach-li", "name": "Li"}), 409, "code_taken")

    assert [e["pointer"] for e in body["errors"]] == ["/code"]


def test_the_same_code_in_another_tenant_is_free(manager, make_coach):
    make_coach("tenant-b")

    assert manager.post(RESOURCES, json={"kind": "coach", "code": "coach-li", "name": "Li"}).status_code == 201


def test_bad_working_hours_point_at_the_interval(manager, make_coach, problem):
    make_coach("tenant-a")

    body = problem(manager.patch(f"{RESOURCES}/coach-li", json={"schedule": {"mon": [{"start": "9:00", "end": "17:00"}]}}), 422, "validation_failed")

    assert [e["pointer"] for e in body["errors"]] == ["/schedule/mon/0/start"]


def test_bad_resource_bodies_are_refused_field_by_field(manager, problem):
    cases = [
        ({"kind": "coach", "code": "coach li", "name": "Li"}, "/code"),
        ({"kind": "", "code": "c1", "name": "Li"}, "/kind"),
        ({"kind": "coach", "code": "c1", "name": ""}, "/name"),
        ({"kind": "coach", "code": "c1", "name": "Li", "schedule": {"someday": []}}, "/schedule"),
        ({"kind": "coach", "code": "c1", "name": "Li", "active": True}, "/active"),
        ({"code": "c1", "name": "Li"}, "/kind"),
    ]
    for body, pointer in cases:
        errors = problem(manager.post(RESOURCES, json=body), 422, "validation_failed")["errors"]
        assert any(e["pointer"].startswith(pointer) for e in errors), (body, errors)
    assert manager.get(RESOURCES).get_json()["resources"] == []


def test_patching_with_a_wrong_type_is_refused(manager, make_coach, problem):
    make_coach("tenant-a")

    problem(manager.patch(f"{RESOURCES}/coach-li", json={"active": "no"}), 422, "validation_failed")


def test_an_unknown_code_is_not_found(manager, problem):
    problem(manager.patch(f"{RESOURCES}/nobody", json={"active": False}), 404, "resource_not_found")
