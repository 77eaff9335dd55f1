"""The operator console: only Flask-AppBuilder's Admin role; tenants, plugins and their settings, staff, installed plugins, API tokens."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select

from yuyue.audit.models import AuditRecord
from yuyue.db import tenant_scope
from yuyue.provisioning.operations import create_token, enabled_plugins, get_tenant, list_staff
from yuyue.tenancy.models import StaffRole, TenantStatus, TokenKind

CONSOLE = "/admin/operator/"
TENANTS = "/admin/operator/tenants/"
# Values for the operator pages' URL arguments.
ARGUMENTS = {"tenant": "tenant-a", "plugin": "course", "token_id": "1"}


def operator_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin/operator"):
            path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", lambda m: ARGUMENTS[m.group(1)], rule.rule)
            routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def audit_of(session, slug: str, action: str) -> list[AuditRecord]:
    with tenant_scope(get_tenant(session, slug).id):
        return list(session.scalars(select(AuditRecord).where(AuditRecord.action == action)))


def form_fields(page: str) -> dict[str, str]:
    """The values a browser would send from the page's settings form (text inputs, checked boxes, text areas, selects)."""
    form = page[page.index('<form method="post"') : page.index("</form>")]
    fields = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and ('type="checkbox"' not in tag or " checked" in tag):
            fields[name.group(1)] = html.unescape(value.group(1)) if value else "on"
    for name, text in re.findall(r'<textarea[^>]*name="([^"]*)"[^>]*>(.*?)</textarea>', form, re.S):
        fields[name] = html.unescape(text)
    for name, options in re.findall(r'<select[^>]*name="([^"]*)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', options) or re.search(r'<option value="([^"]*)"', options)
        fields[name] = html.unescape(chosen.group(1)) if chosen else ""
    return fields


def with_setting(fields: dict[str, str], key: str, value: int) -> dict[str, str]:
    """``fields`` with one setting changed, whether the form is one JSON text area or a field per setting."""
    if "settings" in fields:
        return {**fields, "settings": json.dumps({**json.loads(fields["settings"] or "{}"), key: value})}
    name = next(name for name in fields if name.startswith("settings") and name.endswith(key))
    return {**fields, name: str(value)}


def test_signed_out_visitors_are_sent_to_the_login_page(app, client, tenants):
    for method, path in operator_routes(app):
        response = client.open(path, method=method)
        assert response.status_code == 302 and "/login/" in response.headers["Location"], (method, path)


@pytest.mark.parametrize("username", ["owner-a", "both"])
def test_merchant_users_get_403_on_every_operator_route(app, admin_login, session, username):
    merchant = admin_login(username, language="en")
    routes = operator_routes(app)
    assert len(routes) >= 10

    for method, path in routes:
        response = merchant.client.open(path, method=method, data={"csrf_token": merchant.csrf_token()})
        assert response.status_code == 403, (method, path)
    assert get_tenant(session, "tenant-a").status is TenantStatus.active


def test_the_console_opens_on_its_tenants(admin_login, tenants):
    operator = admin_login("operator", language="en")

    assert operator.get(CONSOLE).headers["Location"].endswith(TENANTS)
    page = operator.get(TENANTS).get_data(as_text=True)
    assert "tenant-a" in page and "tenant-b" in page


def test_the_operator_creates_a_tenant_audited_as_themselves(admin_login, admin_users, session, tenants):
    operator = admin_login("operator", language="en")

    response = operator.post(TENANTS, data={"slug": "harbour-swim", "name": "Harbour Swim", "time_zone": "Australia/Sydney", "locales": ["en", "zh-Hant"]})

    assert response.status_code == 302 and response.headers["Location"].endswith(TENANTS + "harbour-swim/")
    tenant = get_tenant(session, "harbour-swim")
    assert (tenant.name, tenant.time_zone, tenant.locales, tenant.status) == ("Harbour Swim", "Australia/Sydney", ["en", "zh-Hant"], TenantStatus.active)
    [created] = audit_of(session, "harbour-swim", "tenant.created")
    assert created.actor == f"operator-user:{admin_users['operator']}"


def test_a_bad_new_tenant_is_shown_next_to_its_fields_with_what_was_typed(admin_login, tenants):
    operator = admin_login("operator", language="en")

    response = operator.post(TENANTS, data={"slug": "Bad Slug", "name": "Kept name", "time_zone": "Mars/Olympus", "locales": ["en"]})
    taken = operator.post(TENANTS, data={"slug": "tenant-a", "name": "Again", "time_zone": "Asia/Shanghai", "locales": ["en"]})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert page.count('class="field-error"') >= 2 and "Mars/Olympus" in page and 'value="Kept name"' in page and 'value="Bad Slug"' in page
    assert taken.status_code == 409 and "already taken" in taken.get_data(as_text=True)


def test_the_operator_suspends_and_reinstates_a_tenant(admin_login, admin_users, session, tenants):
    operator = admin_login("operator", language="en")

    assert operator.post(TENANTS + "tenant-a/suspend").status_code == 302
    assert get_tenant(session, "tenant-a").status is TenantStatus.suspended
    assert "Reinstate" in operator.get(TENANTS + "tenant-a/").get_data(as_text=True)
    assert operator.post(TENANTS + "tenant-a/reinstate").status_code == 302

    session.expire_all()
    assert get_tenant(session, "tenant-a").status is TenantStatus.active
    actor = f"operator-user:{admin_users['operator']}"
    assert [r.actor for r in audit_of(session, "tenant-a", "tenant.suspended")] == [actor]
    assert [r.actor for r in audit_of(session, "tenant-a", "tenant.reinstated")] == [actor]


def test_an_unknown_tenant_is_not_found(admin_login, tenants):
    operator = admin_login("operator", language="en")

    assert operator.get(TENANTS + "no-such/").status_code == 404
    assert operator.post(TENANTS + "no-such/suspend").status_code == 404
    assert operator.get(TENANTS + "tenant-a/plugins/no_such_plugin").status_code == 404


def test_a_plugin_setting_out_of_range_is_refused_next_to_it_then_a_good_one_is_saved(admin_login, session, tenants):
    operator = admin_login("operator", language="en")
    url = TENANTS + "tenant-a/plugins/course"
    fields = form_fields(operator.get(url).get_data(as_text=True))
    assert fields.get("enabled") == "on"

    refused = operator.post(url, data=with_setting(fields, "max_bookings_per_week", 500))

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "500" in page and re.search(r'class="field-error"[^>]*>[^<]*max', page), "the problem is shown at the field, the value kept"
    assert "max_bookings_per_week" not in enabled_plugins(session, get_tenant(session, "tenant-a"))["course"]

    saved = operator.post(url, data=with_setting(fields, "max_bookings_per_week", 3))

    assert saved.status_code == 302
    session.expire_all()
    assert enabled_plugins(session, get_tenant(session, "tenant-a"))["course"]["max_bookings_per_week"] == 3
    [changed] = audit_of(session, "tenant-a", "tenant.plugins_changed")
    assert changed.data["reconfigured"] == {"course": ["max_bookings_per_week"]}


def test_a_plugin_is_enabled_and_disabled_for_a_tenant(admin_login, session, tenants):
    operator = admin_login("operator", language="en")

    operator.post(TENANTS + "tenant-a/plugins/vehicle", data={"enabled": "on", "settings": "{}"})
    assert "vehicle" in enabled_plugins(session, get_tenant(session, "tenant-a"))
    operator.post(TENANTS + "tenant-a/plugins/exhibition", data={"settings": "{}"})

    session.expire_all()
    assert set(enabled_plugins(session, get_tenant(session, "tenant-a"))) == {"course", "vehicle"}


def test_the_operator_adds_a_staff_member_and_sees_the_staff(admin_login, session, tenants):
    operator = admin_login("operator", language="en")

    response = operator.post(
        TENANTS + "tenant-b/staff", data={"username": "new-manager", "role": "manager", "email": "nm@example.invalid", "password": "pass-word-2"}
    )
    unknown = operator.post(TENANTS + "tenant-b/staff", data={"username": "nobody-yet", "role": "staff"})

    assert response.status_code == 302
    assert ("new-manager", StaffRole.manager) in [(user.username, membership.role) for membership, user in list_staff(session, "tenant-b")]
    assert unknown.status_code == 422 and 'value="nobody-yet"' in unknown.get_data(as_text=True)
    assert "new-manager" in operator.get(TENANTS + "tenant-b/").get_data(as_text=True)


def test_the_installed_plugins_are_listed_with_version_and_hooks(admin_login, tenants):
    page = admin_login("operator", language="en").get("/admin/operator/plugins/").get_data(as_text=True)

    for name in ("course", "exhibition", "vehicle", "scenic", "activity"):
        assert f"<td>{name}</td>" in page
    assert "register_verticals" in page


def test_tokens_are_listed_without_secrets_and_a_revoked_one_is_refused_by_the_api(app, admin_login, session, tenants):
    token, secret = create_token(session, kind=TokenKind.staff, name="front desk tablet", tenant_slug="tenant-a", role=StaffRole.staff)
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    assert api.get("/api/v1/t/tenant-a/admin/resources").status_code == 200
    operator = admin_login("operator", language="en")

    listed = operator.get("/admin/operator/tokens/").get_data(as_text=True)
    confirm = operator.get(f"/admin/operator/tokens/{token.id}/revoke").get_data(as_text=True)
    revoked = operator.post(f"/admin/operator/tokens/{token.id}/revoke")

    assert "front desk tablet" in listed and "tenant-a" in listed and secret not in listed and token.digest not in listed
    assert "front desk tablet" in confirm and secret not in confirm
    assert revoked.status_code == 302
    assert api.get("/api/v1/t/tenant-a/admin/resources").status_code == 401
    [record] = audit_of(session, "tenant-a", "token.revoked")
    assert record.actor.startswith("operator-user:")


@pytest.mark.parametrize(
    "path", ["/admin/operator/tokens/999999/revoke", "/admin/operator/tokens/99999999999999999999/revoke", "/admin/operator/tokens/x/revoke"]
)
def test_an_unknown_token_is_not_found(admin_login, tenants, path):
    assert admin_login("operator", language="en").get(path).status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"slug": "a" * 500, "name": "n", "time_zone": "Asia/Shanghai", "locales": ["en"]},
        {"slug": "ok-slug", "name": "n" * 5000, "time_zone": "x" * 5000, "locales": ["xx"]},
        {"slug": "ok-slug", "name": "n", "time_zone": "../../etc/passwd", "locales": ["en"]},
        {"slug": "ok-slug", "name": "n", "time_zone": "Asia/Shanghai"},
    ],
)
def test_hostile_new_tenants_are_4xx_pages(admin_login, tenants, data):
    assert 400 <= admin_login("operator", language="en").post(TENANTS, data=data).status_code < 500


@pytest.mark.parametrize(
    "data",
    [
        {"username": "u" * 500, "role": "staff"},
        {"username": "someone", "role": "emperor"},
        {"username": "someone", "role": "staff", "email": "e" * 500 + "@x.invalid", "password": "p"},
    ],
)
def test_hostile_staff_input_is_a_4xx_page(admin_login, tenants, data):
    assert 400 <= admin_login("operator", language="en").post(TENANTS + "tenant-a/staff", data=data).status_code < 500
