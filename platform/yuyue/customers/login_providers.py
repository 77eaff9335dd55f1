"""Login providers: turn a code from a third-party client (a WeChat mini-program) into who the customer is.

Providers come from plugins through ``register_login_providers()``; the host's
own ``wechat`` provider (``code2session``) is one of them. :func:`build_login_providers`
collects them once per application, kept at ``app.extensions["yuyue.login_providers"]``.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

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


class WeChatMiniProgram:
    """WeChat mini-program login: ``wx.login()`` gives the client a code, ``code2session`` turns it into an openid.

    ``tenant_config``: ``appid`` and ``secret`` of the mini-program, optional
    ``api_base`` (default :attr:`API_BASE`; tests point it at a local server)
    and ``timeout`` in seconds (default 5).
    """

    key = "wechat"
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


class LoginProviderRegistry:
    """The login providers of one application, by key."""

    def __init__(self, providers: Mapping[str, LoginProvider]):
        self._providers = MappingProxyType(dict(providers))

    def __contains__(self, key: str) -> bool:
        return key in self._providers

    @property
    def keys(self) -> list[str]:
        return sorted(self._providers)

    def get(self, key: str) -> LoginProvider:
        try:
            return self._providers[key]
        except KeyError:
            raise LookupError(f"no login provider {key!r}; registered: {', '.join(self.keys) or 'none'}") from None


def build_login_providers(host: PluginHost) -> LoginProviderRegistry:
    """Collect every plugin's login providers; a duplicate key or a malformed provider stops start-up."""
    from yuyue.plugins import PluginLoadError  # imported late: yuyue.plugins loads every area's declarations

    found: dict[str, LoginProvider] = {}
    owners: dict[str, str] = {}
    for impl in host.hook.register_login_providers.get_hookimpls():
        for provider in impl.function() or []:
            key = getattr(provider, "key", None)
            if not isinstance(key, str) or not key or not callable(getattr(provider, "exchange", None)):
                raise PluginLoadError(f"plugin {impl.plugin_name!r} registers a login provider without a key or exchange(): {provider!r}")
            if key in found:
                raise PluginLoadError(f"plugin {impl.plugin_name!r} registers login provider {key!r}, already registered by plugin {owners[key]!r}")
            found[key], owners[key] = provider, impl.plugin_name
    return LoginProviderRegistry(found)
