"""The ``wechat`` channel: subscribe messages (订阅消息) of the tenant's mini-program to a customer's openid.

A subscribe message is a template the merchant picked in the mini-program's
console: a template id, the page a tap opens, and values for the template's
keys. The settings map each event to them::

    "templates": {"booking.confirmed": {"template_id": "…", "page": "pages/booking?id={{ booking.id }}",
                                        "data": {"thing1": "{{ booking.type_name }}", "time2": "{{ booking.starts_at }}"}}}

The small strings are rendered in a Jinja sandbox with the message's
``params``; values are cut to the lengths WeChat accepts for their key's kind
(``thing`` 20 characters, ``phrase`` 5, …) rather than refused. The
AppID and AppSecret are the channel's own settings, else the tenant's WeChat
login settings (the same mini-program customers log in with), else the
installation's. The access token comes from ``/cgi-bin/stable_token``, is kept
per AppID until five minutes before it expires and fetched again, forced,
once when WeChat says it is invalid (40001, 42001). ``api_base`` (the
installation's ``YUYUE_WECHAT_API_BASE``) points at a fake server in tests.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from yuyue.events.channels import AddressKind, NotificationFailed, NotificationMessage

__all__ = ["AccessTokens", "WeChatChannel", "render_subscribe_message"]

API_BASE = "https://api.weixin.qq.com"
TIMEOUT_SECONDS = 5.0
# A token is used until this long before WeChat says it expires.
TOKEN_MARGIN_SECONDS = 300
TOKEN_INVALID = frozenset({40001, 42001})
# The customer refused (or used up) the subscription, or the openid is not one of this mini-program's: no retry helps.
REFUSED = frozenset({43101, 40003})
# The longest value WeChat accepts for each kind of key (the key's name without its number).
VALUE_LENGTHS = {"thing": 20, "phrase": 5, "name": 10, "character_string": 32, "number": 32, "letter": 32, "symbol": 5, "car_number": 8, "phone_number": 17}
SHORT = {"type": "string", "maxLength": 200}

TEMPLATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["template_id"],
    "additionalProperties": False,
    "properties": {
        "template_id": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[A-Za-z0-9_-]+$"},
        "page": {**SHORT, "description": "the mini-program page a tap opens; may use {{ … }} of the event's parameters"},
        "data": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z_]+[0-9]+$", "maxLength": 40},
            "additionalProperties": SHORT,
            "maxProperties": 10,
            "description": "each key of the template (thing1, time2, …) and its value, which may use {{ … }}",
        },
    },
}
WECHAT_SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "WeChat subscribe messages",
    "additionalProperties": False,
    "properties": {
        "appid": {"type": "string", "pattern": "^wx[0-9a-f]{16}$", "description": "the mini-program's AppID; default: the tenant's WeChat login settings"},
        "secret": {"type": "string", "minLength": 16, "maxLength": 128, "writeOnly": True, "description": "its AppSecret; never shown again"},
        "miniprogram_state": {"enum": ["formal", "trial", "developer"], "description": "which version of the mini-program a tap opens"},
        "templates": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z_]+(\\.[a-z_]+)*$", "maxLength": 60},
            "additionalProperties": TEMPLATE_SCHEMA,
            "maxProperties": 50,
            "description": "the subscribe-message template of each event",
        },
    },
}

_sandbox = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def _lang(locale: str) -> str:
    return {"zh-Hans": "zh_CN", "zh-Hant": "zh_TW", "en": "en_US"}.get(locale, "zh_CN")


def _fits(key: str, value: str) -> str:
    kind = key.rstrip("0123456789")
    limit = VALUE_LENGTHS.get(kind)
    return value if limit is None or len(value) <= limit else value[: limit - 1] + "…"


def render_subscribe_message(template: Mapping[str, Any], params: Mapping[str, Any]) -> tuple[str, str | None, dict[str, dict[str, str]]]:
    """The template id, page and ``data`` (``{"thing1": {"value": …}}``) of ``template`` rendered with ``params``.

    :raises NotificationFailed: (not retryable) a string does not render: an unknown variable, a syntax error, an unsafe call.
    """

    def render(source: str) -> str:
        try:
            return _sandbox.from_string(source).render(**params)
        except TemplateError as error:
            raise NotificationFailed(f"the WeChat template does not render: {type(error).__name__}: {error}"[:400], retryable=False) from None

    page = render(template["page"]) if template.get("page") else None
    data = {key: {"value": _fits(key, render(str(value)))} for key, value in (template.get("data") or {}).items()}
    return str(template["template_id"]), page, data


class AccessTokens:
    """WeChat access tokens by AppID, shared by every thread of the process; a token is fetched only when none is fresh."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, api_base: str, appid: str, secret: str, *, force: bool = False) -> str:
        with self._lock:
            cached = self._tokens.get(appid)
            if cached and not force and cached[1] > time.monotonic():
                return cached[0]
            answer = _call(api_base, "/cgi-bin/stable_token", {"grant_type": "client_credential", "appid": appid, "secret": secret, "force_refresh": force})
            token = answer.get("access_token")
            if answer.get("errcode") or not isinstance(token, str) or not token:
                # 40013 invalid appid, 40125 invalid secret: a setup to fix, which `yuyue outbox retry` then sends.
                raise NotificationFailed(f"WeChat refused the access token: {answer.get('errcode')} {answer.get('errmsg', '')}"[:400], retryable=True)
            lifetime = int(answer.get("expires_in") or 7200)
            self._tokens[appid] = (token, time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 0))
            return token

    def forget(self, appid: str) -> None:
        with self._lock:
            self._tokens.pop(appid, None)


def _call(api_base: str, path: str, body: Mapping[str, Any], query: Mapping[str, str] | None = None) -> dict[str, Any]:
    url = f"{api_base.rstrip('/')}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    request = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode(), headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read(64 * 1024))
    except urllib.error.HTTPError as error:
        error.close()
        raise NotificationFailed(f"WeChat answered HTTP {error.code}") from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        # Never the URL in a message: it carries the access token.
        raise NotificationFailed(f"WeChat could not be reached ({type(error).__name__})") from None
    if not isinstance(answer, dict):
        raise NotificationFailed("WeChat answered with something other than a JSON object")
    return answer


class WeChatChannel:
    """Sends each message as a subscribe message of the tenant's mini-program."""

    key = "wechat"
    address_kind: AddressKind = "wechat_openid"
    settings_schema = WECHAT_SETTINGS_SCHEMA

    def __init__(self) -> None:
        self.tokens = AccessTokens()

    def installation_settings(self, config: Mapping[str, Any]) -> dict[str, Any]:
        settings = {"api_base": config.get("WECHAT_API_BASE") or API_BASE}
        if config.get("WECHAT_APPID") and config.get("WECHAT_SECRET"):
            settings.update(appid=config["WECHAT_APPID"], secret=config["WECHAT_SECRET"])
        return settings

    def send(self, message: NotificationMessage) -> None:
        settings = message.settings
        appid, secret = settings.get("appid"), settings.get("secret")
        if not appid or not secret:
            raise NotificationFailed("WeChat is not configured: the mini-program's appid and secret are missing", retryable=False)
        if message.data.get("template_id"):
            template: Mapping[str, Any] = message.data
        else:
            template = (settings.get("templates") or {}).get(message.template) or {}
        if not template.get("template_id"):
            raise NotificationFailed(f"no WeChat subscribe-message template for {message.template!r}", retryable=False)
        template_id, page, data = render_subscribe_message(template, message.params)
        body: dict[str, Any] = {
            "touser": message.to,
            "template_id": template_id,
            "data": data,
            "miniprogram_state": settings.get("miniprogram_state") or "formal",
            "lang": _lang(message.locale),
        }
        if page:
            body["page"] = page
        api_base = str(settings.get("api_base") or API_BASE)
        answer = self._send(api_base, str(appid), str(secret), body, force=False)
        if answer.get("errcode") in TOKEN_INVALID:
            self.tokens.forget(str(appid))
            answer = self._send(api_base, str(appid), str(secret), body, force=True)
        errcode = answer.get("errcode") or 0
        if errcode:
            raise NotificationFailed(f"WeChat refused the message: {errcode} {answer.get('errmsg', '')}"[:400], retryable=errcode not in REFUSED)

    def _send(self, api_base: str, appid: str, secret: str, body: Mapping[str, Any], *, force: bool) -> dict[str, Any]:
        token = self.tokens.get(api_base, appid, secret, force=force)
        return _call(api_base, "/cgi-bin/message/subscribe/send", body, {"access_token": token})
