"""What the browser is told about admin pages: the Content-Security-Policy, two more headers, and the session cookie."""

from __future__ import annotations

import re

from yuyue.config import settings_from_env

DASHBOARD = "/admin/t/tenant-a/"


def _directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in policy.split(";"))}


def test_admin_pages_allow_only_their_own_scripts(admin_login):
    response = admin_login("owner-a").get(DASHBOARD)
    policy = _directives(response)
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'" and policy["form-action"] == "'self'" and policy["img-src"] == "'self' data:"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_login_page_carries_the_policy(client, admin_users):
    assert _directives(client.get("/login/"))["script-src"] == "'self'"


def test_refusals_carry_the_policy(admin_login):
    refusal = admin_login("owner-a").get("/admin/t/tenant-b/")
    assert refusal.status_code == 404 and _directives(refusal)["script-src"] == "'self'"


def test_flask_appbuilders_inline_scripts_run_by_nonce_only(admin_login):
    operator = admin_login("operator")
    response = operator.get("/users/list/")
    assert response.status_code == 200
    nonce = re.fullmatch(r"'self' 'nonce-([\w-]+)'", _directives(response)["script-src"]).group(1)
    page = response.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert inline and all(f'nonce="{nonce}"' in attributes for attributes in inline)
    assert _directives(operator.get("/users/list/"))["script-src"] != _directives(response)["script-src"], "a nonce per response"


def test_the_api_is_left_to_its_own_headers(client, tenants):
    assert "Content-Security-Policy" not in client.get("/api/v1/health").headers


def test_the_session_cookie_is_http_only_and_same_site(client, admin_users):
    response = client.get("/login/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_the_session_cookie_is_secure_when_served_over_https(make_app, tenants):
    app = make_app(SESSION_COOKIE_SECURE=True)
    assert "Secure" in app.test_client().get("/login/").headers["Set-Cookie"]


def test_secure_cookies_follow_the_public_url_unless_set(tmp_path):
    base = {"YUYUE_INSTANCE_PATH": str(tmp_path), "YUYUE_SECRET_KEY": "k"}
    assert settings_from_env(base)["SESSION_COOKIE_SECURE"] is False
    assert settings_from_env({**base, "YUYUE_PUBLIC_URL": "https://book.example.cn"})["SESSION_COOKIE_SECURE"] is True
    assert settings_from_env({**base, "YUYUE_PUBLIC_URL": "https://book.example.cn", "YUYUE_SECURE_COOKIES": "0"})["REMEMBER_COOKIE_SECURE"] is False
    assert settings_from_env({**base, "YUYUE_SECURE_COOKIES": "yes"})["SESSION_COOKIE_SECURE"] is True
