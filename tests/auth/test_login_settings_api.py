"""A tenant's own login-provider settings through the merchant API: validated by the provider's schema, the secret never shown."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from yuyue.audit.models import AuditRecord
from yuyue.customers.login_providers import WeChatMiniProgram, build_login_providers
from yuyue.db import tenant_scope
from yuyue.plugins import PluginLoadError, make_plugin_host
from yuyue.provisioning.operations import create_token
from yuyue.tenancy.models import StaffRole, TokenKind

APPID, SECRET = "wx" + "0123456789abcdef", "0123456789abcdef0123456789abcdef"
NEW_APPID, NEW_SECRET = "wx" + "fedcba9876543210", "another-secret-for-the-same-app"
URL = "/api/v1/t/{slug}/admin/login-providers/{provider}"


@pytest.fixture
def staff(client, session, tenant_a):
    """``staff(role, slug="tenant-a")``: a client whose requests carry a staff token of that role."""

    def make(role: StaffRole = StaffRole.owner, slug: str = "tenant-a"):
        _, token = create_token(session, kind=TokenKind.staff, name=role.value, tenant_slug=slug, role=role)
        headers = {"Authorization": f"Bearer {token}"}

        class Staff:
            def get(self, provider: str = "wechat", slug: str = slug):
                return client.get(URL.format(slug=slug, provider=provider), headers=headers)

            def put(self, body, provider: str = "wechat", slug: str = slug):
                return client.put(URL.format(slug=slug, provider=provider), json=body, headers=headers)

            def delete(self, provider: str = "wechat", slug: str = slug):
                return client.delete(URL.format(slug=slug, provider=provider), headers=headers)

            def list(self):
                return client.get(f"/api/v1/t/{slug}/admin/login-providers", headers=headers)

        return Staff()

    return make


@pytest.fixture
def owner(staff):
    return staff(StaffRole.owner)


def test_the_owner_sets_the_mini_program_and_the_answer_leaves_the_secret_out(owner):
    response = owner.put({"appid": APPID, "secret": SECRET})

    assert response.status_code == 200
    body = response.get_json()
    assert {key: body[key] for key in ("provider", "source", "settings", "write_only_set")} == {
        "provider": "wechat",
        "source": "tenant",
        "settings": {"appid": APPID},
        "write_only_set": ["secret"],
    }
    assert SECRET not in response.get_data(as_text=True)


def test_reading_the_settings_never_shows_the_secret(owner):
    owner.put({"appid": APPID, "secret": SECRET})

    response = owner.get()

    assert response.get_json()["settings"] == {"appid": APPID}
    assert SECRET not in response.get_data(as_text=True)
    assert SECRET not in owner.list().get_data(as_text=True)


def test_the_settings_schema_is_served_so_a_form_can_be_rendered_from_it(owner):
    schema = owner.get().get_json()["settings_schema"]

    assert schema == WeChatMiniProgram.settings_schema
    assert schema["properties"]["secret"]["writeOnly"] is True


def test_listing_shows_every_login_provider(owner):
    assert [p["provider"] for p in owner.list().get_json()["login_providers"]] == ["wechat"]


@pytest.mark.parametrize(
    "app_settings, source", [({"WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET}, "application"), ({"WECHAT_APPID": None, "WECHAT_SECRET": None}, "none")]
)
def test_without_settings_of_its_own_a_tenant_uses_the_applications_if_there_are_any(build_app, session, tenant_a, app_settings, source):
    client = build_app(**app_settings).test_client()
    _, token = create_token(session, kind=TokenKind.staff, name="owner", tenant_slug="tenant-a", role=StaffRole.owner)

    body = client.get(URL.format(slug="tenant-a", provider="wechat"), headers={"Authorization": f"Bearer {token}"}).get_json()

    assert (body["source"], body["settings"], body["write_only_set"]) == (source, {}, [])
    assert SECRET not in json.dumps(body)


def test_settings_without_the_secret_keep_the_stored_one(owner):
    owner.put({"appid": APPID, "secret": SECRET})

    response = owner.put({"appid": NEW_APPID})

    assert response.status_code == 200
    assert response.get_json()["settings"] == {"appid": NEW_APPID}
    assert response.get_json()["write_only_set"] == ["secret"]


def test_the_first_settings_need_the_secret(owner, problem):
    body = problem(owner.put({"appid": APPID}), 422, "validation_failed")

    assert [e["pointer"] for e in body["errors"]] == ["/secret"]


@pytest.mark.parametrize("appid", ["wx123", "WX0123456789ABCDEF", "0123456789abcdef01", 42])
def test_an_appid_that_is_not_a_mini_programs_is_refused_at_its_pointer(owner, problem, appid):
    body = problem(owner.put({"appid": appid, "secret": SECRET}), 422, "validation_failed")

    assert [e["pointer"] for e in body["errors"]] == ["/appid"]


@pytest.mark.parametrize("secret", ["short-secret", "x" * 129])
def test_a_refused_secret_is_pointed_at_but_never_repeated(owner, problem, secret):
    response = owner.put({"appid": APPID, "secret": secret})

    body = problem(response, 422, "validation_failed")
    assert [e["pointer"] for e in body["errors"]] == ["/secret"]
    assert secret not in response.get_data(as_text=True)


def test_a_tenant_cannot_point_logins_at_another_server(owner, problem):
    body = problem(owner.put({"appid": APPID, "secret": SECRET, "api_base": "http://attacker.example"}), 422, "validation_failed")

    assert [e["pointer"] for e in body["errors"]] == ["/api_base"]


def test_settings_that_are_not_an_object_are_refused(owner, problem):
    problem(owner.put(["appid", APPID]), 422, "validation_failed")


def test_deleting_the_settings_answers_204_and_falls_back(owner):
    owner.put({"appid": APPID, "secret": SECRET})

    assert owner.delete().status_code == 204

    assert owner.get().get_json()["source"] in ("application", "none")
    assert owner.get().get_json()["write_only_set"] == []


def test_an_unknown_login_provider_is_a_404(owner, problem):
    problem(owner.get("alipay"), 404, "login_provider_unknown")
    problem(owner.put({}, "alipay"), 404, "login_provider_unknown")
    problem(owner.delete("alipay"), 404, "login_provider_unknown")


@pytest.mark.parametrize("role", [StaffRole.staff, StaffRole.manager])
def test_only_the_owner_changes_the_settings(staff, problem, role):
    someone = staff(role)

    problem(someone.put({"appid": APPID, "secret": SECRET}), 403, "forbidden")
    problem(someone.delete(), 403, "forbidden")


def test_a_manager_may_read_the_settings_but_staff_may_not(staff, problem):
    assert staff(StaffRole.manager).get().status_code == 200
    problem(staff(StaffRole.staff).get(), 403, "forbidden")


def test_an_owner_of_tenant_a_cannot_touch_tenant_bs_settings(owner, tenant_b, problem):
    problem(owner.put({"appid": APPID, "secret": SECRET}, slug="tenant-b"), 403, "forbidden")
    problem(owner.get(slug="tenant-b"), 403, "forbidden")


def test_each_tenant_sees_only_its_own_settings(owner, staff, tenant_b):
    owner.put({"appid": APPID, "secret": SECRET})

    other = staff(StaffRole.owner, "tenant-b").get().get_json()

    assert (other["settings"], other["write_only_set"]) == ({}, [])


def test_the_audit_log_records_the_change_without_the_secret(owner, session, tenant_a):
    owner.put({"appid": APPID, "secret": SECRET})
    owner.put({"appid": NEW_APPID})

    with tenant_scope(tenant_a.id):
        records = session.scalars(select(AuditRecord).where(AuditRecord.action == "login_settings.changed").order_by(AuditRecord.seq)).all()
    assert [r.data for r in records] == [
        {"settings": {"appid": APPID}, "write_only_changed": ["secret"]},
        {"settings": {"appid": NEW_APPID}, "write_only_changed": []},
    ]
    assert SECRET not in json.dumps([r.data for r in records])


def test_the_operator_api_never_shows_a_tenants_secret(owner, client, session):
    owner.put({"appid": APPID, "secret": SECRET})
    _, token = create_token(session, kind=TokenKind.operator, name="ops")
    headers = {"Authorization": f"Bearer {token}"}

    for path in ("/api/v1/operator/tenants", "/api/v1/operator/tenants/tenant-a", "/api/v1/operator/plugins"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        assert SECRET not in response.get_data(as_text=True)


def test_the_settings_appear_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    assert set(paths["/api/v1/t/{tenant_slug}/admin/login-providers/{provider}"]) >= {"get", "put", "delete"}


# -- the provider's declaration ------------------------------------------------------------------------


BROKEN_SCHEMA_PLUGIN = """
from yuyue import hookimpl


class Alipay:
    key = "alipay"
    settings_schema = {"type": "object", "properties": {"app_id": {"type": "strng"}}}

    def exchange(self, code, tenant_config):
        raise NotImplementedError


@hookimpl
def register_login_providers():
    return [Alipay()]
"""


def test_a_login_provider_with_a_broken_settings_schema_stops_start_up_naming_the_plugin(make_plugin):
    make_plugin("alipay_login", BROKEN_SCHEMA_PLUGIN)

    with pytest.raises(PluginLoadError, match="alipay_login.*settings_schema.*'alipay'"):
        build_login_providers(make_plugin_host(["alipay_login"]))


def test_a_login_provider_whose_settings_admit_an_unbounded_number_stops_start_up(make_plugin):
    unbounded = '{"type": "object", "properties": {"timeout_seconds": {"type": "integer", "minimum": 1}}}'
    make_plugin("alipay_login", BROKEN_SCHEMA_PLUGIN.replace('{"type": "object", "properties": {"app_id": {"type": "strng"}}}', unbounded))

    with pytest.raises(PluginLoadError, match="'alipay'.*/properties/timeout_seconds: a number here needs minimum and maximum"):
        build_login_providers(make_plugin_host(["alipay_login"]))


def test_a_provider_without_a_settings_schema_accepts_no_settings(make_plugin, build_app, client, problem, session, tenant_a):
    make_plugin("noop_login", BROKEN_SCHEMA_PLUGIN.replace('    settings_schema = {"type": "object", "properties": {"app_id": {"type": "strng"}}}\n', ""))
    app = build_app(PLUGINS=["noop_login"])
    _, token = create_token(session, kind=TokenKind.staff, name="owner", tenant_slug="tenant-a", role=StaffRole.owner)
    headers = {"Authorization": f"Bearer {token}"}

    response = app.test_client().put(URL.format(slug="tenant-a", provider="alipay"), json={"app_id": "x"}, headers=headers)

    problem(response, 422, "validation_failed")
    assert app.test_client().put(URL.format(slug="tenant-a", provider="alipay"), json={}, headers=headers).status_code == 200
