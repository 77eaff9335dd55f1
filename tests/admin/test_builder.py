"""The booking-type builder: creating a booking type, designing its form on a draft, previewing, publishing, tickets, rules and the calendar."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from builder_setup import BASE, add_field, design, designer, field_index, form_html, page_form, press
from tenant_setup import id_number, make_booking_type

from yuyue.catalog.operations import form_draft, get_booking_type
from yuyue.provisioning.operations import get_tenant
from yuyue.tenancy.models import StaffRole


@pytest.fixture
def owner(admin_login):
    return admin_login("owner-a", language="en")


def create(client, slug: str = "piano", vertical: str = "course", **extra):
    data = {"vertical": vertical, "slug": slug, "name.zh-Hans": "钢琴课", "name.en": "Piano", **extra}
    return client.post(f"{BASE}/new", data)


def test_an_owner_creates_a_booking_type_from_an_enabled_vertical(owner, session):
    page = owner.get(f"{BASE}/new").get_data(as_text=True)
    assert 'value="course"' in page and 'value="exhibition"' in page and 'value="vehicle"' not in page
    response = create(owner)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{BASE}/piano/form")
    listed = owner.get(f"{BASE}/").get_data(as_text=True)
    assert "Piano" in listed and "<code>piano</code>" in listed, "the English name, for a reader in English"
    booking_type = get_booking_type(session, get_tenant(session, "tenant-a"), "piano")
    assert booking_type.vertical == "course" and booking_type.form_version == 1


def test_a_vertical_that_is_not_enabled_is_refused_beside_its_choice(owner):
    response = create(owner, vertical="vehicle")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "vehicle plugin is not enabled" in page and 'value="piano"' in page and 'value="钢琴课"' in page


def test_a_bad_slug_is_shown_beside_it_with_everything_typed_kept(owner):
    response = create(owner, slug="Piano Class!")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="slug-error"' in page and 'value="Piano Class!"' in page and 'value="Piano"' in page


def test_the_designer_lists_every_field_type_of_the_registry(owner, app):
    create(owner)
    page = designer(owner, "piano")
    offered = re.findall(r'<option value="([a-z_]+)">', page.split('id="new_type"')[1].split("</select>")[0])
    assert offered == list(app.extensions["yuyue.forms"].field_types)


def test_adding_a_field_changes_the_draft_and_its_preview_but_not_the_published_form(owner, session, client):
    create(owner)
    key = add_field(owner, "piano", "id_card")
    page = owner.get(f"{BASE}/piano/form").get_data(as_text=True)
    assert f'name="preview.{key}"' in page, "the preview shows the new field"
    assert re.search(rf'class="panel pending-changes">.*added</span> <code>{key}</code>', page, re.S), "the draft's changes are listed before publishing"
    booking_type = get_booking_type(session, get_tenant(session, "tenant-a"), "piano")
    assert form_draft(session, booking_type) is not None and booking_type.form_version == 1
    published = client.get("/api/v1/t/tenant-a/booking-types/piano").get_json()
    assert key not in published["form_schema"]["properties"], "customers never see a draft"


def test_the_preview_endpoint_renders_the_unsaved_form(owner):
    create(owner)
    html = designer(owner, "piano")
    index = field_index(html, "student_name")
    response = press(owner, f"{BASE}/piano/form/preview", html, "preview", **{f"f{index}.label.zh-Hans": "学员全名", "preview_locale": "zh-Hans"})
    assert response.status_code == 200 and "学员全名" in response.get_data(as_text=True)
    assert "学员全名" not in designer(owner, "piano"), "previewing saves nothing"


def test_fields_move_and_are_removed_without_javascript(owner):
    create(owner)
    html = designer(owner, "piano")
    assert field_index(html, "mobile") == 1
    design(owner, "piano", "up:1")
    assert field_index(designer(owner, "piano"), "mobile") == 0
    design(owner, "piano", f"remove:{field_index(designer(owner, 'piano'), 'remarks')}")
    assert 'value="remarks"' not in designer(owner, "piano")


def test_a_limit_that_is_not_a_number_is_kept_and_shown_beside_it(owner):
    create(owner)
    index = field_index(designer(owner, "piano"), "student_name")
    design(owner, "piano", "save", **{f"f{index}.limit.maxLength": "lots"})
    page = owner.get(f"{BASE}/piano/form").get_data(as_text=True)
    assert f'name="f{index}.limit.maxLength" value="lots"' in page
    assert f'id="f{index}.limit.maxLength-error"' in page
    response = design(owner, "piano", "publish")
    assert response.status_code == 422 and 'value="lots"' in response.get_data(as_text=True)


@pytest.mark.parametrize("vertical", ["course", "exhibition"])
def test_publishing_an_unchanged_draft_says_so_and_creates_nothing(owner, session, vertical):
    create(owner, vertical=vertical)
    response = design(owner, "piano", "publish")
    assert response.status_code == 302
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert "no new version was published" in page
    assert get_booking_type(session, get_tenant(session, "tenant-a"), "piano").form_version == 1


def test_publishing_shows_what_changed_and_versions_compare_later(owner, session):
    create(owner)
    key = add_field(owner, "piano", "select")
    index = field_index(designer(owner, "piano"), "student_name")
    design(owner, "piano", "save", **{f"f{index}.label.en": "Full name", f"f{index}.limit.maxLength": "30"})
    response = design(owner, "piano", "publish")
    assert response.status_code == 302 and "from=1" in response.headers["Location"] and "to=2" in response.headers["Location"]
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(rf"added</span> <code>{key}</code>", page)
    changed = re.search(r"changed</span> <code>student_name</code>: ([^<]*)", page).group(1)
    assert "maxLength" in changed and "label" in changed
    assert get_booking_type(session, get_tenant(session, "tenant-a"), "piano").form_version == 2
    same = owner.get(f"{BASE}/piano/versions?from=2&to=2").get_data(as_text=True)
    assert "Choose two different versions" in same
    assert owner.get(f"{BASE}/piano/versions?from=9&to=2").status_code == 404
    assert owner.get(f"{BASE}/piano/versions?from=abc").status_code == 404


def test_discarding_the_draft_goes_back_to_the_published_form(owner, session):
    create(owner)
    key = add_field(owner, "piano", "text")
    design(owner, "piano", "discard")
    assert f'value="{key}"' not in designer(owner, "piano")
    assert form_draft(session, get_booking_type(session, get_tenant(session, "tenant-a"), "piano")) is None


def test_ticket_types_and_prices_are_saved_through_the_update_operation(owner, session):
    create(owner)
    html = page_form(owner, f"{BASE}/piano/tickets")
    response = press(owner, f"{BASE}/piano/tickets", html, "save", price="120.50", **{"t0.key": "adult", "t0.name.zh-Hans": "成人", "t0.price": "100"})
    assert response.status_code == 302
    html = page_form(owner, f"{BASE}/piano/tickets")
    press(owner, f"{BASE}/piano/tickets", html, "save", **{"t1.key": "child", "t1.name.zh-Hans": "儿童", "t1.price": "50", "t1.max_age": "12"})
    booking_type = get_booking_type(session, get_tenant(session, "tenant-a"), "piano")
    session.refresh(booking_type)
    assert booking_type.price_amount == 12050
    assert booking_type.ticket_types == [
        {"key": "adult", "name": {"zh-Hans": "成人"}, "price_amount": 10000},
        {"key": "child", "name": {"zh-Hans": "儿童"}, "price_amount": 5000, "max_age": 12},
    ]


def test_a_bad_ticket_is_shown_beside_its_field_and_nothing_is_lost(owner, session):
    create(owner)
    html = page_form(owner, f"{BASE}/piano/tickets")
    response = press(owner, f"{BASE}/piano/tickets", html, "save", price="abc", **{"t0.key": "Adult Ticket", "t0.name.zh-Hans": "成人", "t0.price": "1.005"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="price-error"' in page and 'value="abc"' in page
    assert 'id="t0.key-error"' in page and 'value="Adult Ticket"' in page and 'value="1.005"' in page and 'value="成人"' in page
    assert get_booking_type(session, get_tenant(session, "tenant-a"), "piano").ticket_types == []


def test_the_rules_page_shows_the_schemas_texts_in_chinese(owner):
    create(owner)
    assert owner.get("/lang/zh_Hans").status_code == 302
    page = unescape(owner.get(f"{BASE}/piano/rules").get_data(as_text=True))
    assert "每周营业时间" in page and "每个时段分钟数" in page and "限购规则" in page
    assert '<option value="booking_window">预约开放时间</option>' in page
    assert "Weekly opening hours" not in page and "Slot minutes" not in page


def test_slot_rules_and_policies_are_edited_through_their_schemas(owner, session):
    create(owner)
    html = page_form(owner, f"{BASE}/piano/rules")
    assert 'name="rule0.slot_minutes"' in html and 'name="policies.reschedule.max_per_booking"' in html
    response = press(owner, f"{BASE}/piano/rules", html, "save", **{"rule0.capacity": "12", "policies.reschedule.max_per_booking": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)
    booking_type = get_booking_type(session, get_tenant(session, "tenant-a"), "piano")
    session.refresh(booking_type)
    assert booking_type.availability_rules[0]["params"]["capacity"] == 12
    assert booking_type.policies["reschedule"] == {"max_per_booking": 2, "deadline_hours": 6}


def test_a_rule_out_of_bounds_comes_back_as_typed_beside_its_field(owner, session):
    create(owner)
    html = page_form(owner, f"{BASE}/piano/rules")
    response = press(owner, f"{BASE}/piano/rules", html, "save", **{"rule0.capacity": "0", "policies.reschedule.max_per_booking": "x"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="sf-rule0.capacity-error"' in page and 'id="sf-policies.reschedule.max_per_booking-error"' in page
    assert 'name="policies.reschedule.max_per_booking" value="x"' in page
    booking_type = get_booking_type(session, get_tenant(session, "tenant-a"), "piano")
    assert booking_type.availability_rules[0]["params"]["capacity"] == 8


def test_a_rule_is_added_and_removed(owner, session):
    create(owner)
    html = page_form(owner, f"{BASE}/piano/rules")
    response = press(owner, f"{BASE}/piano/rules", html, "add", new_rule="closed_dates")
    assert response.status_code == 200 and 'name="rule1.type" value="closed_dates"' in response.get_data(as_text=True)
    html = form_html(response.get_data(as_text=True))
    response = press(owner, f"{BASE}/piano/rules", html, "save", **{"rule1.dates.0": "2030-01-01"})
    assert response.status_code == 302, response.get_data(as_text=True)
    booking_type = get_booking_type(session, get_tenant(session, "tenant-a"), "piano")
    session.refresh(booking_type)
    assert booking_type.availability_rules[1] == {"type": "closed_dates", "params": {"dates": ["2030-01-01"]}}
    html = page_form(owner, f"{BASE}/piano/rules")
    assert press(owner, f"{BASE}/piano/rules", html, "remove:1").status_code == 200


def test_the_calendar_shows_two_weeks_of_slots_with_places_and_reasons(owner, session):
    create(owner)
    page = owner.get(f"{BASE}/piano/calendar").get_data(as_text=True)
    assert page.count('class="calendar-day panel"') == 14
    assert "8 of 8 left" in page
    assert "Asia/Shanghai" in page


def test_the_calendar_says_why_a_slot_is_closed(owner, session):
    create(owner)
    html = page_form(owner, f"{BASE}/piano/rules")
    html = form_html(press(owner, f"{BASE}/piano/rules", html, "add", new_rule="booking_window").get_data(as_text=True))
    press(owner, f"{BASE}/piano/rules", html, "save", **{"rule1.opens_days_ahead": "1", "rule1.release_time": "00:00", "rule1.closes_minutes_before": "0"})
    page = owner.get(f"{BASE}/piano/calendar").get_data(as_text=True)
    assert 'data-reason="not_released"' in page


def test_a_booking_type_id_card_select_and_conditional_field_are_bookable_through_the_customer_api(owner, session, client):
    create(owner)
    id_key = add_field(owner, "piano", "id_card")
    select_key = add_field(owner, "piano", "select")
    school_key = add_field(owner, "piano", "text")
    html = designer(owner, "piano")
    s, c, i = field_index(html, select_key), field_index(html, school_key), field_index(html, id_key)
    design(
        owner,
        "piano",
        "save",
        **{
            f"f{s}.key": "kind",
            f"f{s}.required": "on",
            f"f{s}.opt0.value": "adult",
            f"f{s}.opt0.label.zh-Hans": "成人",
            f"f{s}.opt1.value": "student",
            f"f{s}.opt1.label.zh-Hans": "学生",
            f"f{c}.key": "school",
            f"f{c}.label.zh-Hans": "学校",
            f"f{c}.required": "on",
            f"f{i}.required": "on",
        },
    )
    html = designer(owner, "piano")
    c = field_index(html, "school")
    assert '["kind", "student"]' in unescape(html), "the select's options are offered as conditions"
    design(owner, "piano", "save", **{f"f{c}.show_if": '["kind", "student"]'})
    preview = owner.get(f"{BASE}/piano/form").get_data(as_text=True)
    assert "data-show-if=" in preview and "Only when" in preview
    tickets = page_form(owner, f"{BASE}/piano/tickets")
    press(owner, f"{BASE}/piano/tickets", tickets, "save", **{"t0.key": "adult", "t0.name.zh-Hans": "成人", "t0.price": "100"})
    tickets = page_form(owner, f"{BASE}/piano/tickets")
    press(owner, f"{BASE}/piano/tickets", tickets, "save", **{"t1.key": "student", "t1.name.zh-Hans": "学生", "t1.price": "60"})
    response = design(owner, "piano", "publish")
    assert response.status_code == 302, response.get_data(as_text=True)

    first = date.today() + timedelta(days=2)
    slots = client.get(f"/api/v1/t/tenant-a/booking-types/piano/availability?from={first}&to={first + timedelta(days=6)}").get_json()["slots"]
    starts_at = next(slot["starts_at"] for slot in slots if slot["bookable"])
    answers = {"student_name": "李雷", "mobile": "13800000001", "level": "beginner", id_key: id_number(date(1990, 3, 7))}
    body = {"booking_type": "piano", "starts_at": starts_at, "phone": "13800000001", "tickets": {"adult": 1}}
    refused = client.post("/api/v1/t/tenant-a/bookings", json={**body, "answers": {**answers, "kind": "student"}})
    assert refused.status_code == 422
    assert {error["pointer"] for error in refused.get_json()["errors"]} == {"/answers/school"}
    booked = client.post("/api/v1/t/tenant-a/bookings", json={**body, "answers": {**answers, "kind": "adult"}})
    assert booked.status_code == 201, booked.get_data(as_text=True)
    assert booked.get_json()["form_version"] == 2
    student = client.post("/api/v1/t/tenant-a/bookings", json={**body, "tickets": {"student": 1}, "answers": {**answers, "kind": "student", "school": "一中"}})
    assert student.status_code == 201, student.get_data(as_text=True)


# --- who may use the builder -----------------------------------------------------------------


ROUTES = [
    ("GET", "/"),
    ("GET", "/new"),
    ("POST", "/new"),
    ("GET", "/piano/form"),
    ("POST", "/piano/form"),
    ("POST", "/piano/form/preview"),
    ("GET", "/piano/versions"),
    ("GET", "/piano/tickets"),
    ("POST", "/piano/tickets"),
    ("GET", "/piano/rules"),
    ("POST", "/piano/rules"),
    ("GET", "/piano/calendar"),
    ("GET", "/piano/privacy-notice"),
    ("POST", "/piano/privacy-notice"),
]


def test_every_builder_route_is_listed_here(app):
    prefix = "/admin/t/<slug:tenant_slug>/booking-types"
    routes = {
        (method, rule.rule.removeprefix(prefix).replace("<slug:booking_type>", "piano") or "/")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("BuilderView.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == set(ROUTES)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_staff_get_403_on_every_builder_route(admin_login, session, method, path):
    make_booking_type(session, get_tenant(session, "tenant-a"), "piano", vertical="course")
    staff = admin_login("staff-a", language="en")
    response = staff.get(BASE + path) if method == "GET" else staff.post(BASE + path, {"action": "save"})
    assert response.status_code == 403


def test_a_manager_may_use_the_builder(admin_login):
    manager = admin_login("manager-a", language="en")
    assert create(manager).status_code == 302
    assert manager.get(f"{BASE}/piano/form").status_code == 200


def test_tenant_bs_booking_types_never_appear_for_tenant_a(admin_login, session):
    # One signed-in user per test: the test's app context keeps the first user's login in g for every client.
    make_booking_type(session, get_tenant(session, "tenant-b"), "bee-only", vertical="course", name={"zh-Hans": "乙的课"})
    owner = admin_login("owner-a", language="en")
    assert create(owner, slug="piano").status_code == 302
    listed = owner.get(f"{BASE}/").get_data(as_text=True)
    assert "bee-only" not in listed and "乙的课" not in listed
    for path in ("/bee-only/form", "/bee-only/tickets", "/bee-only/rules", "/bee-only/calendar", "/bee-only/versions"):
        assert owner.get(BASE + path).status_code == 404
    assert owner.post(f"{BASE}/bee-only/form", {"action": "publish"}).status_code == 404
    assert "bee-only" not in owner.get(f"{BASE}/piano/form").get_data(as_text=True)
    assert owner.post(f"{BASE}/new", {"vertical": "course", "slug": "bee-only", "name.zh-Hans": "甲的课"}).status_code == 302, "slugs are per tenant"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/new", {"vertical": "course", "slug": "a" * 5000, "name.zh-Hans": "x" * 100000}),
        ("/piano/form", {"action": "add", "new_type": "nope", "field_count": "99999999999"}),
        (
            "/piano/form",
            {"action": "up:99999999999999", "field_count": "1", "f0.type": "text", "f0.key": "x" * 300, "f0.extra": "[[[[[[[[[[", "f0.show_if": "{"},
        ),
        ("/piano/tickets", {"ticket_count": "5", "t0.key": "a", "t0.price": "1e999999", "t0.min_age": "99999999999999999999"}),
        ("/piano/rules", {"rule_count": "3", "rule0.type": "weekly_hours", "rule0.capacity": "9" * 50, "policies.quotas.#count": "999999"}),
    ],
)
def test_hostile_input_is_refused_or_shown_never_a_server_error(owner, path, data):
    assert create(owner).status_code == 302
    assert owner.post(BASE + path, data).status_code < 500


def test_a_garbage_draft_from_the_api_still_opens_in_the_designer(owner, session, staff_client):
    create(owner)
    manager = staff_client("tenant-a", StaffRole.manager)
    garbage = {
        "type": "object",
        "properties": {
            "a": {"x-field": "select", "enum": 5, "x-options": "x", "x-show-if": {"field": 3, "enum": 7}},
            "b": {"x-field": "person_list", "items": "nope", "maxItems": "many", "minItems": None},
            "c": "not a field",
            "d": {"x-field": 9, "title": ["x"], "minLength": {}},
        },
        "required": "all",
        "if": 1,
    }
    ui = {"order": 5, "fields": {"a": "x", "b": {"fields": 3, "label": 4, "help": [], "widget": 7}}}
    assert manager.put("/api/v1/t/tenant-a/admin/booking-types/piano/form-draft", json={"form": garbage, "ui": ui}).status_code == 200
    assert owner.get(f"{BASE}/piano/form").status_code == 200
    assert design(owner, "piano", "save").status_code == 302
    assert design(owner, "piano", "publish").status_code == 422
