"""WeChat mini-program login against a local stand-in for code2session, each tenant with its own mini-program, and the login-provider hook."""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from yuyue.customers.login_providers import LoginIdentity, WeChatMiniProgram, build_login_providers
from yuyue.customers.models import Customer
from yuyue.db import tenant_scope
from yuyue.plugins import PluginLoadError, make_plugin_host
from yuyue.provisioning.operations import create_token
from yuyue.tenancy.models import StaffRole, TokenKind

APPID, SECRET = "wx0123456789abcdef", "app-secret-not-to-be-logged"
# Each merchant's own mini-program.
APPID_A, SECRET_A = "wx" + "a" * 16, "secret-of-tenant-a-mini-program"
APPID_B, SECRET_B = "wx" + "b" * 16, "secret-of-tenant-b-mini-program"


class FakeWeChat:
    """An HTTP server on 127.0.0.1 that answers ``/sns/jscode2session`` as told and records every query."""

    def __init__(self) -> None:
        self.answer: bytes = b"{}"
        self.queries: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                url = urllib.parse.urlsplit(self.path)
                fake.queries.append({"path": url.path, **dict(urllib.parse.parse_qsl(url.query))})
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")  # what WeChat really sends
                self.end_headers()
                self.wfile.write(fake.answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answers(self, body: dict | str) -> None:
        self.answer = (body if isinstance(body, str) else json.dumps(body)).encode()


@pytest.fixture
def wechat() -> Iterator[FakeWeChat]:
    fake = FakeWeChat()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
    thread.join()


@pytest.fixture
def app(build_app, wechat):
    app = build_app(WECHAT_APPID=APPID, WECHAT_SECRET=SECRET, WECHAT_API_BASE=wechat.url)
    with app.app_context():
        yield app


@pytest.fixture
def login(client, tenant_a):
    return lambda code="wx-code", slug="tenant-a": client.post(f"/api/v1/t/{slug}/auth/wechat", json={"code": code})


def test_wechat_code_logs_in_a_new_customer_by_openid(login, wechat, customer_client, session, tenant_a):
    wechat.answers({"openid": "o-abc", "session_key": "sk", "unionid": "u-1"})

    response = login("the-code")

    assert response.status_code == 200
    me = customer_client().me(response.get_json()["access_token"]).get_json()
    assert me == {"id": me["id"], "phone": None, "name": None, "wechat": True}
    with tenant_scope(tenant_a.id):
        assert session.scalars(select(Customer.wechat_openid)).all() == ["o-abc"]


def test_code2session_is_asked_with_the_apps_credentials_and_the_code(login, wechat):
    wechat.answers({"openid": "o-abc", "session_key": "sk"})

    login("the-code")

    assert wechat.queries == [{"path": "/sns/jscode2session", "appid": APPID, "secret": SECRET, "js_code": "the-code", "grant_type": "authorization_code"}]


def test_the_same_openid_logs_into_the_same_customer(login, wechat, customer_client):
    wechat.answers({"openid": "o-abc", "session_key": "sk"})

    first, second = (customer_client().me(login().get_json()["access_token"]).get_json()["id"] for _ in range(2))

    assert first == second


def test_the_same_openid_is_a_different_customer_in_another_tenant(login, wechat, customer_client, tenant_b):
    wechat.answers({"openid": "o-abc", "session_key": "sk"})

    a = customer_client("tenant-a").me(login(slug="tenant-a").get_json()["access_token"]).get_json()["id"]
    b = customer_client("tenant-b").me(login(slug="tenant-b").get_json()["access_token"]).get_json()["id"]

    assert a != b


@pytest.fixture
def own_mini_program(session):
    """``own_mini_program(client, "tenant-a", appid, secret)``: the tenant's owner sets its mini-program through the merchant API."""

    def configure(client, slug: str, appid: str, secret: str) -> None:
        _, token = create_token(session, kind=TokenKind.staff, name="owner", tenant_slug=slug, role=StaffRole.owner)
        response = client.put(
            f"/api/v1/t/{slug}/admin/login-providers/wechat", json={"appid": appid, "secret": secret}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.get_json()

    return configure


def credentials(wechat) -> list[tuple[str, str, str]]:
    return [(query["appid"], query["secret"], query["js_code"]) for query in wechat.queries]


def test_each_tenant_asks_code2session_with_its_own_mini_programs_credentials(client, login, wechat, own_mini_program, tenant_b):
    own_mini_program(client, "tenant-a", APPID_A, SECRET_A)
    own_mini_program(client, "tenant-b", APPID_B, SECRET_B)
    wechat.answers({"openid": "o-abc", "session_key": "sk"})

    assert login("code-at-a", slug="tenant-a").status_code == 200
    assert login("code-at-b", slug="tenant-b").status_code == 200

    assert credentials(wechat) == [(APPID_A, SECRET_A, "code-at-a"), (APPID_B, SECRET_B, "code-at-b")]


def test_a_tenant_without_its_own_mini_program_falls_back_to_the_applications(client, login, wechat, own_mini_program, tenant_b):
    own_mini_program(client, "tenant-a", APPID_A, SECRET_A)
    wechat.answers({"openid": "o-abc", "session_key": "sk"})

    login("code-at-b", slug="tenant-b")

    assert credentials(wechat) == [(APPID, SECRET, "code-at-b")]


def test_a_tenant_with_its_own_mini_program_needs_no_application_credentials(build_app, wechat, own_mini_program, tenant_a, tenant_b, problem):
    app = build_app(WECHAT_APPID=None, WECHAT_SECRET=None, WECHAT_API_BASE=wechat.url)
    client = app.test_client()
    own_mini_program(client, "tenant-a", APPID_A, SECRET_A)
    wechat.answers({"openid": "o-abc", "session_key": "sk"})

    assert client.post("/api/v1/t/tenant-a/auth/wechat", json={"code": "c"}).status_code == 200
    problem(client.post("/api/v1/t/tenant-b/auth/wechat", json={"code": "c"}), 404, "login_provider_not_configured")
    assert credentials(wechat) == [(APPID_A, SECRET_A, "c")]


def test_deleting_a_tenants_mini_program_falls_back_to_the_applications(client, login, wechat, own_mini_program, session):
    own_mini_program(client, "tenant-a", APPID_A, SECRET_A)
    _, token = create_token(session, kind=TokenKind.staff, name="owner", tenant_slug="tenant-a", role=StaffRole.owner)
    assert client.delete("/api/v1/t/tenant-a/admin/login-providers/wechat", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    wechat.answers({"openid": "o-abc", "session_key": "sk"})

    login("c")

    assert credentials(wechat) == [(APPID, SECRET, "c")]


def test_a_tenants_secret_is_not_logged_when_wechat_fails(client, login, wechat, own_mini_program, problem, caplog):
    own_mini_program(client, "tenant-a", APPID_A, SECRET_A)
    wechat.answers({"errcode": 40013, "errmsg": "invalid appid"})

    problem(login(), 502, "login_provider_failed")
    assert SECRET_A not in caplog.text


@pytest.mark.parametrize("errcode", [40029, 40163])
def test_a_code_wechat_refuses_is_an_invalid_code(login, wechat, problem, errcode):
    wechat.answers({"errcode": errcode, "errmsg": "invalid code"})

    problem(login(), 401, "invalid_code")


@pytest.mark.parametrize(
    "answer", [{"errcode": -1, "errmsg": "system error"}, {"errcode": 40013, "errmsg": "invalid appid"}, "<html>busy</html>", {"session_key": "sk"}]
)
def test_an_error_of_wechat_is_a_502(login, wechat, problem, answer, caplog):
    wechat.answers(answer)

    problem(login(), 502, "login_provider_failed")
    assert SECRET not in caplog.text


def test_wechat_unreachable_is_a_502(build_app, client, tenant_a, problem, caplog):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = build_app(WECHAT_APPID=APPID, WECHAT_SECRET=SECRET, WECHAT_API_BASE=f"http://127.0.0.1:{port}")

    response = app.test_client().post("/api/v1/t/tenant-a/auth/wechat", json={"code": "c"})

    problem(response, 502, "login_provider_failed")
    assert SECRET not in caplog.text


def test_wechat_login_without_an_appid_is_not_offered(build_app, tenant_a, problem):
    app = build_app(WECHAT_APPID=None, WECHAT_SECRET=None)

    problem(app.test_client().post("/api/v1/t/tenant-a/auth/wechat", json={"code": "c"}), 404, "login_provider_not_configured")


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 5}, {"code": "c", "openid": "o"}])
def test_a_malformed_wechat_login_is_a_422(login, client, problem, body):
    problem(client.post("/api/v1/t/tenant-a/auth/wechat", json=body), 422, "validation_failed")


def test_wechat_provider_times_out(wechat, monkeypatch):
    import time

    from yuyue.customers.login_providers import LoginProviderFailed

    release = threading.Event()
    original = wechat.server.RequestHandlerClass.do_GET

    def slow(handler):
        release.wait(5)
        original(handler)

    monkeypatch.setattr(wechat.server.RequestHandlerClass, "do_GET", slow)
    started = time.monotonic()
    with pytest.raises(LoginProviderFailed):
        WeChatMiniProgram().exchange("c", {"appid": APPID, "secret": SECRET, "api_base": wechat.url, "timeout": 0.2})
    release.set()
    assert time.monotonic() - started < 2


# -- the hook --------------------------------------------------------------------------------------


def test_hook_register_login_providers_gives_the_builtin_wechat_provider(app):
    providers = build_login_providers(app.extensions["yuyue.plugins"])

    assert isinstance(providers.get("wechat"), WeChatMiniProgram)


PROVIDER_PLUGIN = """
from yuyue import hookimpl
from yuyue.customers.login_providers import LoginIdentity


class Alipay:
    key = "{key}"

    def exchange(self, code, tenant_config):
        return LoginIdentity("{key}", "2088" + code)


@hookimpl
def register_login_providers():
    return [Alipay()]
"""


def test_hook_register_login_providers_collects_a_plugins_provider(make_plugin, build_app):
    make_plugin("alipay_login", PROVIDER_PLUGIN.format(key="alipay"))
    app = build_app(PLUGINS=["alipay_login"])

    providers = build_login_providers(app.extensions["yuyue.plugins"])

    assert providers.keys == ["alipay", "wechat"]
    assert providers.get("alipay").exchange("42", {}) == LoginIdentity("alipay", "208842")


def test_a_provider_key_taken_twice_stops_start_up_naming_the_plugin(make_plugin, build_app):
    make_plugin("fake_wechat", PROVIDER_PLUGIN.format(key="wechat"))

    with pytest.raises(PluginLoadError, match="fake_wechat.*'wechat'"):
        build_login_providers(make_plugin_host(["fake_wechat"]))
