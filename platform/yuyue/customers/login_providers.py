"""Login providers: turn a code from a third-party client (a WeChat mini-program) into who the customer is.

Providers come from plugins through ``register_login_providers()``; the host's
own ``wechat`` provider (``code2session``) is one of them. :func:`build_login_providers`
collects them once per application, kept at ``app.extensions["yuyue.login_providers"]``.

A provider may declare ``settings_schema``, the JSON Schema of what a tenant
configures for it (the tenant's own mini-program); values it marks
``writeOnly`` are secrets that no API shows again. A tenant's settings overlay
the application's (:meth:`LoginProviderRegistry.settings`), which are only a
fallback for tenants that configured none.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import yuyue_schemas
from yuyue.registry import PluginLoadError, Registry, collect

if TYPE_CHECKING:
    from yuyue.plugins import PluginHost

__all__ = [
    "LoginIdentity",
    "LoginProvider",
    "LoginProviderFailed",
    "LoginProviderNotConfigured",
    "LoginProviderRegistry",
    "LoginRefused",
    "WeChatMiniProgram",
    "application_login_settings",
    "build_login_providers",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginIdentity:
    """Who the provider says the customer is: ``subject`` is stable per provider and app (WeChat's openid)."""

    provider: str
    subject: str
    union_id: str | None = None


class LoginProviderFailed(Exception):
    """The provider could not be asked or answered with an error of its own (down, misconfigured, busy)."""


class LoginProviderNotConfigured(LoginProviderFailed):
    """The provider lacks the settings it needs (an appid, a secret): this deployment does not offer it yet."""


class LoginRefused(Exception):
    """The provider refused the customer's code (invalid, expired, already used): the client should get a new one."""


@runtime_checkable
class LoginProvider(Protocol):
    """What a plugin's login provider offers: a unique ``key`` and ``exchange``.

    ``exchange`` raises :class:`LoginRefused` when the code is bad and
    :class:`LoginProviderFailed` when the provider cannot answer.
    """

    key: str

    def exchange(self, code: str, tenant_config: Mapping[str, Any]) -> LoginIdentity: ...


# The application-wide settings of the built-in ``wechat`` provider: a fallback for tenants without their own.
WECHAT_APPLICATION_SETTINGS = {"appid": "WECHAT_APPID", "secret": "WECHAT_SECRET", "api_base": "WECHAT_API_BASE"}


class WeChatMiniProgram:
    """WeChat mini-program login: ``wx.login()`` gives the client a code, ``code2session`` turns it into an openid.

    ``tenant_config``: ``appid`` and ``secret`` of the mini-program (a tenant
    sets them, see :attr:`settings_schema`), optional ``api_base`` (default
    :attr:`API_BASE`; tests point it at a local server) and ``timeout`` in
    seconds (default 5), which only the application sets.
    """

    key = "wechat"
    settings_schema: dict[str, Any] = {
        "type": "object",
        "title": "WeChat mini-program",
        "required": ["appid", "secret"],
        "additionalProperties": False,
        "properties": {
            "appid": {
                "type": "string",
                "pattern": "^wx[0-9a-f]{16}$",
                "title": "AppID",
                "description": "the mini-program's AppID: wx and 16 hexadecimal digits",
            },
            "secret": {
                "type": "string",
                "minLength": 16,
                "maxLength": 128,
                "writeOnly": True,
                "title": "AppSecret",
                "description": "the mini-program's AppSecret; stored to call WeChat, never shown again",
            },
        },
    }
    API_BASE = "https://api.weixin.qq.com"
    TIMEOUT_SECONDS = 5.0
    # 40029 invalid code, 40163 code already used, 40226 user blocked as high-risk: the customer's code, not our setup.
    REFUSED = frozenset({40029, 40163, 40226})

    def exchange(self, code: str, tenant_config: Mapping[str, Any]) -> LoginIdentity:
        appid, secret = tenant_config.get("appid"), tenant_config.get("secret")
        if not appid or not secret:
            raise LoginProviderNotConfigured("WeChat login is not configured: the mini-program's appid and secret are missing")
        query = urllib.parse.urlencode({"appid": appid, "secret": secret, "js_code": code, "grant_type": "authorization_code"})
        url = f"{str(tenant_config.get('api_base') or self.API_BASE).rstrip('/')}/sns/jscode2session?{query}"
        try:
            with urllib.request.urlopen(url, timeout=float(tenant_config.get("timeout") or self.TIMEOUT_SECONDS)) as response:
                answer = json.loads(response.read())
        except (OSError, http.client.HTTPException, ValueError) as error:
            # Never log the URL: it carries the app secret.
            log.warning("WeChat code2session for appid %s failed: %s", appid, type(error).__name__)
            raise LoginProviderFailed(f"WeChat could not be reached ({type(error).__name__})") from None
        if not isinstance(answer, dict):
            raise LoginProviderFailed("WeChat answered with something other than a JSON object")
        errcode = answer.get("errcode") or 0
        if errcode in self.REFUSED:
            raise LoginRefused(f"WeChat refused the login code ({errcode}: {answer.get('errmsg', '')})")
        if errcode:
            log.warning("WeChat code2session for appid %s answered errcode %s: %s", appid, errcode, answer.get("errmsg"))
            raise LoginProviderFailed(f"WeChat answered with error {errcode}: {answer.get('errmsg', '')}")
        openid = answer.get("openid")
        if not isinstance(openid, str) or not openid:
            raise LoginProviderFailed("WeChat answered without an openid")
        union_id = answer.get("unionid")
        return LoginIdentity(self.key, openid, union_id if isinstance(union_id, str) and union_id else None)


class LoginProviderRegistry(Registry[LoginProvider]):
    """The login providers of one application, by key, with their settings schemas and application-wide settings."""

    kind = "login provider"

    def __init__(self, application_settings: Mapping[str, Mapping[str, Any]] | None = None):
        super().__init__()
        self._application = {key: dict(value) for key, value in (application_settings or {}).items()}

    def settings_schema(self, key: str) -> dict[str, Any]:
        """The JSON Schema of what a tenant may configure for provider ``key`` (nothing, if it declares none)."""
        return dict(getattr(self.get(key), "settings_schema", None) or {"type": "object", "maxProperties": 0})

    def settings(self, key: str, tenant_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """What provider ``key`` is called with: the application's settings, overlaid with the tenant's."""
        return {**self._application.get(key, {}), **(tenant_config or {})}


def application_login_settings(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The application-wide login settings in ``config`` (``WECHAT_*``), by provider key; unset values left out."""
    wechat = {name: config.get(setting) for name, setting in WECHAT_APPLICATION_SETTINGS.items()}
    return {WeChatMiniProgram.key: {name: value for name, value in wechat.items() if value}}


def build_login_providers(host: PluginHost, config: Mapping[str, Any] | None = None) -> LoginProviderRegistry:
    """Collect every plugin's login providers; a duplicate key, a malformed provider or settings schema stops start-up.

    :param config: the application's settings, for the providers' application-wide fallback settings.
    """
    registry = LoginProviderRegistry(application_login_settings(config or {}))
    return collect(registry, host.hook.register_login_providers, _checked_login_provider)


def _checked_login_provider(plugin: str, provider: Any) -> str:
    key = getattr(provider, "key", None)
    if not isinstance(key, str) or not key or not callable(getattr(provider, "exchange", None)):
        raise PluginLoadError(f"plugin {plugin!r} registers a login provider without a key or exchange(): {provider!r}")
    schema = getattr(provider, "settings_schema", None)
    if schema is not None:
        problems = yuyue_schemas.check_json_schema(schema) or yuyue_schemas.check_bounded_numbers(schema)
        if problems:
            where = f"{problems[0].pointer or '/'}: {problems[0].message}"
            raise PluginLoadError(f"plugin {plugin!r}: the settings_schema of login provider {key!r} is not a JSON Schema yuyue accepts ({where})")
    return key
