"""Resources in the admin: every role reads the list, managers and owners add and change them, with their working hours."""

from __future__ import annotations

import pytest
from tenant_setup import make_coach

from yuyue.catalog.operations import get_resource
from yuyue.provisioning.operations import get_tenant

RESOURCES = "/admin/t/tenant-a/resources/"
NEW = RESOURCES + "new"


def coach_form(**fields) -> dict:
    return {"kind": "coach", "code": "coach-wang", "name-zh-Hans": "王教练", "name-en": "Coach Wang", "hours_mode": "always", "action": "save", **fields}


def test_staff_read_the_list_without_the_add_button(admin_login, session, tenants):
    make_coach(session, tenants["tenant-a"])
    page = admin_login("staff-a").get(RESOURCES).get_data(as_text=True)

    assert "coach-li" in page and "李教练" in page
    assert NEW not in page and RESOURCES + "coach-li/" not in page


def test_managers_see_the_add_and_edit_links(admin_login, session, tenants):
    make_coach(session, tenants["tenant-a"])
    page = admin_login("manager-a").get(RESOURCES).get_data(as_text=True)

    assert NEW in page and RESOURCES + "coach-li/" in page


@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_may_not_add_or_edit_a_resource(admin_login, session, tenants, method):
    make_coach(session, tenants["tenant-a"])
    staff = admin_login("staff-a")

    assert getattr(staff, method)(NEW).status_code == 403
    assert getattr(staff, method)(RESOURCES + "coach-li/").status_code == 403


def test_a_manager_adds_a_coach_with_working_hours(admin_login, session):
    manager = admin_login("manager-a")
    form = coach_form(
        hours_mode="weekly", **{"hours-mon-0-start": "09:00", "hours-mon-0-end": "12:00", "hours-mon-1-start": "14:00", "hours-mon-1-end": "18:00"}
    )

    response = manager.post(NEW, data=form)

    assert response.status_code == 302, response.get_data(as_text=True)
    coach = get_resource(session, get_tenant(session, "tenant-a"), "coach-wang")
    assert (coach.kind, coach.name) == ("coach", {"zh-Hans": "王教练", "en": "Coach Wang"})
    assert coach.schedule == {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "14:00", "end": "18:00"}]}
    assert "coach-wang" in manager.get(RESOURCES).get_data(as_text=True)


def test_the_kind_picker_offers_the_kinds_of_the_enabled_verticals(admin_login):
    page = admin_login("manager-a").get(NEW).get_data(as_text=True)

    assert 'value="coach"' in page and 'value="hall"' in page, "course and exhibition are enabled"
    assert 'value="vehicle"' not in page, "the vehicle plugin is not enabled for tenant-a"


def test_add_and_remove_buttons_change_the_rows_and_keep_what_was_typed(admin_login, session):
    manager = admin_login("manager-a")
    typed = coach_form(hours_mode="weekly", **{"hours-tue-0-start": "08:00", "hours-tue-0-end": "10:00"})

    added = manager.post(NEW, data={**typed, "action": "add-tue"}).get_data(as_text=True)
    assert 'name="hours-tue-1-start"' in added and 'value="08:00"' in added and 'value="coach-wang"' in added

    removed = manager.post(NEW, data={**typed, "hours-tue-1-start": "11:00", "hours-tue-1-end": "12:00", "action": "remove-tue-0"}).get_data(as_text=True)
    assert 'value="11:00"' in removed and 'value="08:00"' not in removed
    with pytest.raises(Exception, match="no resource"):
        get_resource(session, get_tenant(session, "tenant-a"), "coach-wang")


def test_bad_hours_are_shown_next_to_their_row_with_every_value_kept(admin_login):
    manager = admin_login("manager-a")

    response = manager.post(NEW, data=coach_form(hours_mode="weekly", **{"hours-wed-0-start": "9:00", "hours-wed-0-end": "17:00"}))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="error-hours-wed-0"' in page
    assert 'value="9:00"' in page and 'value="17:00"' in page and 'value="王教练"' in page and 'value="coach-wang"' in page


def test_a_name_in_no_language_and_a_taken_code_are_shown_at_their_fields(admin_login, session, tenants):
    make_coach(session, tenants["tenant-a"])
    manager = admin_login("manager-a")

    nameless = manager.post(NEW, data=coach_form(**{"name-zh-Hans": "", "name-en": ""}))
    taken = manager.post(NEW, data=coach_form(code="coach-li"))

    assert nameless.status_code == 422 and 'id="error-name"' in nameless.get_data(as_text=True)
    assert taken.status_code == 409 and 'id="error-code"' in taken.get_data(as_text=True)


def test_a_manager_edits_name_hours_and_active(admin_login, session, tenants):
    make_coach(session, tenants["tenant-a"])
    manager = admin_login("manager-a")
    edit = RESOURCES + "coach-li/"
    assert 'value="李教练"' in manager.get(edit).get_data(as_text=True)

    response = manager.post(
        edit, data={"name-zh-Hans": "李雷", "hours_mode": "weekly", "hours-sat-0-start": "10:00", "hours-sat-0-end": "16:00", "action": "save"}
    )

    assert response.status_code == 302
    coach = get_resource(session, get_tenant(session, "tenant-a"), "coach-li")
    assert (coach.name, coach.schedule, coach.active) == ({"zh-Hans": "李雷"}, {"sat": [{"start": "10:00", "end": "16:00"}]}, False)


def test_always_available_clears_the_hours(admin_login, session, tenants):
    make_coach(session, tenants["tenant-a"])
    manager = admin_login("manager-a")
    manager.post(
        RESOURCES + "coach-li/", data={"name-zh-Hans": "李", "hours_mode": "weekly", "hours-sat-0-start": "10:00", "hours-sat-0-end": "16:00", "active": "on"}
    )

    manager.post(
        RESOURCES + "coach-li/", data={"name-zh-Hans": "李", "hours_mode": "always", "hours-sat-0-start": "10:00", "hours-sat-0-end": "16:00", "active": "on"}
    )

    coach = get_resource(session, get_tenant(session, "tenant-a"), "coach-li")
    assert (coach.schedule, coach.active) == (None, True)


def test_another_tenants_resources_are_neither_listed_nor_reachable(admin_login, session, tenants):
    make_coach(session, tenants["tenant-b"], "coach-of-b")
    manager = admin_login("manager-a")

    assert "coach-of-b" not in manager.get(RESOURCES).get_data(as_text=True)
    assert manager.get(RESOURCES + "coach-of-b/").status_code == 404
    assert manager.post(RESOURCES + "coach-of-b/", data={"name-zh-Hans": "x", "action": "save"}).status_code == 404
    assert get_resource(session, tenants["tenant-b"], "coach-of-b").name == {"zh-Hans": "李教练", "en": "Coach Li"}


@pytest.mark.parametrize(
    "fields",
    [
        {"code": "x" * 61},
        {"code": "bad code/"},
        {"kind": "k" * 41},
        {"name-en": "n" * 5000, "action": "add-mon" * 3},
        {"hours_mode": "weekly", "hours-mon-0-start": "99:99:99", "hours-mon-0-end": "x"},
    ],
)
def test_hostile_input_is_a_4xx_page_never_a_500(admin_login, fields):
    response = admin_login("manager-a").post(NEW, data=coach_form(**fields))

    assert 400 <= response.status_code < 500
