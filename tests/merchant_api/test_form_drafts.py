"""The draft of a booking type's next form: kept valid or not, never seen by customers, published as the next version."""

from __future__ import annotations

import pytest

BASE = "/api/v1/t/tenant-a/admin/booking-types/entry"
FORM = {"type": "object", "properties": {"name": {"x-field": "text", "minLength": 1}, "school": {"x-field": "text"}}, "required": ["name"]}
UI = {"order": ["name", "school"], "fields": {}}


@pytest.fixture
def entry(make_type):
    return make_type("tenant-a", "entry")


def test_a_draft_is_kept_and_customers_never_see_it(manager, client, entry):
    assert manager.get(f"{BASE}/form-draft").status_code == 404
    response = manager.put(f"{BASE}/form-draft", json={"form": FORM, "ui": UI})
    assert response.status_code == 200 and response.get_json()["problems"] == [] and response.get_json()["based_on"] == 1
    assert manager.get(f"{BASE}/form-draft").get_json()["form"] == FORM
    customer_view = client.get("/api/v1/t/tenant-a/booking-types/entry").get_json()
    assert "school" not in customer_view["form_schema"]["properties"]


def test_an_invalid_draft_is_kept_with_its_problems_and_cannot_be_published(manager, entry, problem):
    broken = {**FORM, "properties": {**FORM["properties"], "age": {"x-field": "number", "minimum": "ten"}}}
    response = manager.put(f"{BASE}/form-draft", json={"form": broken, "ui": UI})
    assert [p["pointer"] for p in response.get_json()["problems"]] == ["/form/properties/age/minimum"]
    body = problem(manager.post(f"{BASE}/form-draft/publish"), 422)
    assert [e["pointer"] for e in body["errors"]] == ["/form/properties/age/minimum"]
    assert manager.get(f"{BASE}/form-draft").status_code == 200, "a refused draft is kept"


def test_publishing_adds_the_next_version_and_drops_the_draft(manager, entry):
    manager.put(f"{BASE}/form-draft", json={"form": FORM, "ui": UI})
    response = manager.post(f"{BASE}/form-draft/publish")
    assert response.status_code == 200
    assert response.get_json()["published"] is True and response.get_json()["booking_type"]["form_version"] == 2
    assert manager.get(f"{BASE}/form-draft").status_code == 404


def test_an_unchanged_draft_publishes_nothing(manager, entry):
    current = manager.get(BASE).get_json()["form"]
    manager.put(f"{BASE}/form-draft", json={"form": current["definition"], "ui": current["ui"]})
    response = manager.post(f"{BASE}/form-draft/publish")
    assert response.get_json()["published"] is False and response.get_json()["booking_type"]["form_version"] == 1


def test_a_draft_is_discarded(manager, entry):
    manager.put(f"{BASE}/form-draft", json={"form": FORM, "ui": UI})
    assert manager.delete(f"{BASE}/form-draft").status_code == 204
    assert manager.get(f"{BASE}/form-draft").status_code == 404


def test_staff_may_read_but_not_write_a_draft(front_desk, manager, entry, problem):
    manager.put(f"{BASE}/form-draft", json={"form": FORM, "ui": UI})
    assert front_desk.get(f"{BASE}/form-draft").status_code == 200
    problem(front_desk.put(f"{BASE}/form-draft", json={"form": FORM, "ui": UI}), 403)
    problem(front_desk.post(f"{BASE}/form-draft/publish"), 403)
    problem(front_desk.delete(f"{BASE}/form-draft"), 403)
