"""Operator API happy paths: provision, list, show, suspend and reinstate tenants and choose their plugins."""

from __future__ import annotations

from datetime import datetime

from yuyue.provisioning.operations import get_tenant
from yuyue.tenancy.models import TenantStatus

TENANTS = "/api/v1/operator/tenants"
EXHIBITION = {"max_persons_per_account_per_day": 4, "entry_grace_minutes": 15}


def test_creating_a_tenant_answers_201_with_its_location(operator):
    response = operator.post(TENANTS, json={"slug": "museum", "name": "City Museum"})

    assert response.status_code == 201
    assert response.headers["Location"].endswith("/api/v1/operator/tenants/museum")


def test_created_tenant_is_described_in_the_response(operator):
    body = operator.post(
        TENANTS, json={"slug": "museum", "name": "City Museum", "time_zone": "Europe/Berlin", "locales": ["en"], "plugins": {"exhibition": EXHIBITION}}
    ).get_json()

    assert {k: body[k] for k in ("slug", "name", "time_zone", "locales", "status", "plugins")} == {
        "slug": "museum",
        "name": "City Museum",
        "time_zone": "Europe/Berlin",
        "locales": ["en"],
        "status": "active",
        "plugins": {"exhibition": EXHIBITION},
    }
    assert datetime.fromisoformat(body["created_at"])


def test_created_tenant_defaults_to_shanghai_time_and_every_locale(operator):
    body = operator.post(TENANTS, json={"slug": "museum", "name": "City Museum"}).get_json()

    assert body["time_zone"] == "Asia/Shanghai"
    assert body["locales"] == ["zh-Hans", "zh-Hant", "en"]
    assert body["plugins"] == {}


def test_created_tenant_is_stored_with_its_plugin_configuration(operator, session):
    operator.post(TENANTS, json={"slug": "museum", "name": "City Museum", "plugins": {"exhibition": EXHIBITION, "activity": {}}})

    session.expunge_all()
    assert operator.get(f"{TENANTS}/museum").get_json()["plugins"] == {"activity": {}, "exhibition": EXHIBITION}
    assert get_tenant(session, "museum").name == "City Museum"


def test_location_of_a_created_tenant_shows_it(operator):
    location = operator.post(TENANTS, json={"slug": "museum", "name": "City Museum"}).headers["Location"]

    response = operator.get(location)

    assert response.status_code == 200
    assert response.get_json()["slug"] == "museum"


def test_listing_tenants_returns_every_tenant_by_slug(operator, create_tenant):
    create_tenant("zoo")
    create_tenant("aquarium")

    response = operator.get(TENANTS)

    assert response.status_code == 200
    assert [t["slug"] for t in response.get_json()["tenants"]] == ["aquarium", "zoo"]


def test_listing_tenants_with_none_returns_an_empty_list(operator):
    assert operator.get(TENANTS).get_json() == {"tenants": []}


def test_showing_a_tenant_returns_it_with_its_plugins(operator, create_tenant):
    create_tenant("museum", plugins={"exhibition": EXHIBITION})

    body = operator.get(f"{TENANTS}/museum").get_json()

    assert body["slug"] == "museum"
    assert body["plugins"] == {"exhibition": EXHIBITION}


def test_suspending_a_tenant_answers_with_status_suspended(operator, create_tenant):
    create_tenant("museum")

    response = operator.post(f"{TENANTS}/museum/suspend")

    assert response.status_code == 200
    assert response.get_json()["status"] == "suspended"


def test_suspension_is_stored(operator, create_tenant, session):
    create_tenant("museum")

    operator.post(f"{TENANTS}/museum/suspend")

    session.expunge_all()
    assert get_tenant(session, "museum").status is TenantStatus.suspended
    assert operator.get(f"{TENANTS}/museum").get_json()["status"] == "suspended"


def test_suspending_a_suspended_tenant_keeps_it_suspended(operator, create_tenant):
    create_tenant("museum")
    operator.post(f"{TENANTS}/museum/suspend")

    response = operator.post(f"{TENANTS}/museum/suspend")

    assert response.status_code == 200
    assert response.get_json()["status"] == "suspended"


def test_reinstating_a_suspended_tenant_makes_it_active_again(operator, create_tenant, session):
    create_tenant("museum")
    operator.post(f"{TENANTS}/museum/suspend")

    response = operator.post(f"{TENANTS}/museum/reinstate")

    assert (response.status_code, response.get_json()["status"]) == (200, "active")
    session.expunge_all()
    assert get_tenant(session, "museum").status is TenantStatus.active


def test_reinstating_an_unknown_tenant_is_404(operator):
    response = operator.post(f"{TENANTS}/ghost/reinstate")

    assert (response.status_code, response.get_json()["code"]) == (404, "tenant_not_found")


def test_replacing_plugins_enables_reconfigures_and_disables_at_once(operator, create_tenant):
    create_tenant("museum", plugins={"exhibition": EXHIBITION, "activity": {}})
    reconfigured = {"max_persons_per_account_per_day": 10}

    response = operator.put(f"{TENANTS}/museum/plugins", json={"plugins": {"exhibition": reconfigured, "course": {}}})

    assert response.status_code == 200
    assert response.get_json() == {"plugins": {"course": {}, "exhibition": reconfigured}}


def test_replaced_plugins_are_stored(operator, create_tenant, session):
    create_tenant("museum", plugins={"exhibition": EXHIBITION, "activity": {}})

    operator.put(f"{TENANTS}/museum/plugins", json={"plugins": {"course": {}}})

    session.expunge_all()
    assert operator.get(f"{TENANTS}/museum").get_json()["plugins"] == {"course": {}}


def test_replacing_plugins_with_none_disables_all(operator, create_tenant):
    create_tenant("museum", plugins={"exhibition": EXHIBITION})

    response = operator.put(f"{TENANTS}/museum/plugins", json={"plugins": {}})

    assert response.get_json() == {"plugins": {}}
    assert operator.get(f"{TENANTS}/museum").get_json()["plugins"] == {}


def test_listing_plugins_names_every_installed_plugin(operator, app):
    from yuyue.plugins import plugin_host

    body = operator.get("/api/v1/operator/plugins").get_json()

    assert sorted(p["name"] for p in body["plugins"]) == sorted(plugin_host(app).installed_names)
    assert {"activity", "vehicle", "course", "exhibition", "scenic"} <= {p["name"] for p in body["plugins"]}


def test_listed_plugins_carry_their_settings_schema_and_verticals(operator):
    plugins = {p["name"]: p for p in operator.get("/api/v1/operator/plugins").get_json()["plugins"]}

    exhibition = plugins["exhibition"]
    assert exhibition["settings_schema"]["properties"]["max_persons_per_account_per_day"]["maximum"] == 20
    assert exhibition["verticals"]
    assert isinstance(exhibition["hooks"], list)
    assert "version" in exhibition
