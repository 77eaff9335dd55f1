"""The ``sms`` channel: text messages by template id and parameters, through a provider the tenant's settings choose.

Mainland gateways send only templates approved beforehand under an approved
signature (签名): the settings map each event to its template id
(``templates: {"booking.confirmed": "SMS_1"}``) and the message's ``params``
fill it. Providers (:class:`SmsProvider`):

- ``sandbox`` sends nothing: it records each message in memory (tests read
  :func:`sandbox_messages`) and in ``<instance>/messages.log`` beside the
  development channel's, so a demo can read its texts;
- ``http`` posts JSON to a gateway, signed with HMAC-SHA256 the way the
  mainland gateways sign (an access key id, a timestamp, a nonce and the
  body's hash in headers; :func:`string_to_sign` says exactly what is signed)
  and reads a JSON answer whose ``code`` is ``"OK"`` on success.

The installation may name a shared gateway in ``YUYUE_SMS_URL``
(``https://KEY_ID:SECRET@gateway/path?sign_name=…&template.login_code=SMS_1``);
without it, and without a tenant's settings, SMS go to the sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from flask import Flask, current_app

from yuyue.events.channels import AddressKind, NotificationFailed, NotificationMessage, messages_log_path

__all__ = [
    "HttpSmsProvider",
    "SandboxSmsProvider",
    "SentSms",
    "SmsChannel",
    "SmsProvider",
    "sandbox_messages",
    "sign",
    "sms_settings_from_url",
    "string_to_sign",
]

SANDBOX_MESSAGES = "yuyue.sms_sandbox"
SANDBOX_KEPT = 200
TIMEOUT_SECONDS = 10.0
# Gateway answers about the number itself: sending again cannot help.
PERMANENT_CODES = frozenset({"isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "isv.BLACK_KEY_CONTROL_LIMIT", "INVALID_PHONE"})
TEMPLATE_ID = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_.-]+$"}

SMS_SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "SMS",
    "additionalProperties": False,
    "properties": {
        "provider": {"enum": ["sandbox", "http"], "description": "sandbox records messages and sends nothing; http posts them to a signed gateway"},
        "sign_name": {"type": "string", "minLength": 1, "maxLength": 40, "description": "the approved signature (签名) the gateway puts before the text"},
        "templates": {
            "type": "object",
            "description": 'the gateway\'s template id of each event, e.g. {"booking.confirmed": "SMS_1", "login_code": "SMS_2"}',
            "propertyNames": {"pattern": "^[a-z_]+(\\.[a-z_]+)*$", "maxLength": 60},
            "additionalProperties": TEMPLATE_ID,
            "maxProperties": 50,
        },
        "endpoint": {"type": "string", "maxLength": 500, "pattern": "^https?://[^\\s]+$", "description": "the gateway's URL (http provider)"},
        "access_key_id": {"type": "string", "minLength": 1, "maxLength": 128, "description": "the access key id the gateway issued (http provider)"},
        "access_key_secret": {"type": "string", "minLength": 1, "maxLength": 256, "writeOnly": True, "description": "its secret; never shown again"},
    },
}


@dataclass(frozen=True)
class SentSms:
    """What the sandbox recorded of one message."""

    tenant: str
    phone: str
    sign_name: str
    template_id: str
    params: Mapping[str, str]
    out_id: str


class SmsProvider(Protocol):
    """A gateway: sends one templated text and answers its own id for it, or raises :class:`NotificationFailed`."""

    key: str

    def send(self, phone: str, sign_name: str, template_id: str, params: Mapping[str, str], out_id: str, settings: Mapping[str, Any]) -> str | None: ...


def sandbox_messages(app: Flask) -> deque[SentSms]:
    """The texts the sandbox provider recorded in ``app``, oldest first (the last :data:`SANDBOX_KEPT`)."""
    return app.extensions.setdefault(SANDBOX_MESSAGES, deque(maxlen=SANDBOX_KEPT))


class SandboxSmsProvider:
    """Sends nothing: keeps the message where tests and a developer read it."""

    key = "sandbox"

    def send(self, phone: str, sign_name: str, template_id: str, params: Mapping[str, str], out_id: str, settings: Mapping[str, Any]) -> str | None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        tenant = str(settings.get("_tenant") or "")
        shown = ", ".join(f"{key}={value}" for key, value in params.items())
        block = (
            f"--- {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC  tenant {tenant}  channel sms (sandbox)  to {phone}  [{template_id}]\n【{sign_name}】 {shown}\n\n"
        )
        try:
            path = messages_log_path(app)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                out.write(block)
        except OSError as error:
            raise NotificationFailed(f"the messages file cannot be written ({type(error).__name__})") from None
        sandbox_messages(app).append(SentSms(tenant, phone, sign_name, template_id, dict(params), out_id))
        return f"sandbox-{out_id}"


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """What the ``http`` provider signs: the method, the URL's path (and query), the timestamp, the nonce and the body's SHA-256, one a line."""
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])


def sign(secret: str, text: str) -> str:
    """Base64 of HMAC-SHA256 of ``text`` under ``secret``."""
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


class HttpSmsProvider:
    """A signed JSON gateway shaped like the mainland ones.

    Request: ``POST <endpoint>`` with ``{"phone", "sign_name", "template_id",
    "params", "out_id"}`` and the headers ``X-Sms-Access-Key-Id``,
    ``X-Sms-Timestamp`` (Unix seconds), ``X-Sms-Nonce``,
    ``X-Sms-Content-Sha256`` and ``X-Sms-Signature`` (:func:`sign` of
    :func:`string_to_sign`). Answer: ``{"code": "OK", "biz_id": …}``; any other
    code is a failure, permanent for the codes about the number
    (:data:`PERMANENT_CODES`). HTTP 5xx, 408, 429 and a gateway that cannot be
    reached may be retried; another 4xx (a bad signature) is a setup to fix.
    """

    key = "http"

    def send(self, phone: str, sign_name: str, template_id: str, params: Mapping[str, str], out_id: str, settings: Mapping[str, Any]) -> str | None:
        endpoint, key_id, secret = settings.get("endpoint"), settings.get("access_key_id"), settings.get("access_key_secret")
        if not endpoint or not key_id or not secret:
            raise NotificationFailed("the SMS gateway is not configured: endpoint, access_key_id and access_key_secret are needed", retryable=False)
        body = json.dumps(
            {"phone": phone, "sign_name": sign_name, "template_id": template_id, "params": dict(params), "out_id": out_id}, ensure_ascii=False
        ).encode()
        parts = urllib.parse.urlsplit(str(endpoint))
        path = parts.path or "/"
        if parts.query:
            path += f"?{parts.query}"
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "X-Sms-Access-Key-Id": str(key_id),
            "X-Sms-Timestamp": timestamp,
            "X-Sms-Nonce": nonce,
            "X-Sms-Content-Sha256": hashlib.sha256(body).hexdigest(),
            "X-Sms-Signature": sign(str(secret), string_to_sign("POST", path, timestamp, nonce, body)),
        }
        request = urllib.request.Request(str(endpoint), data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=float(settings.get("timeout") or TIMEOUT_SECONDS)) as response:
                raw = response.read(64 * 1024)
        except urllib.error.HTTPError as error:
            error.close()
            retryable = error.code >= 500 or error.code in {408, 429}
            raise NotificationFailed(f"the SMS gateway answered HTTP {error.code}", retryable=retryable) from None
        except (OSError, http.client.HTTPException) as error:
            raise NotificationFailed(f"the SMS gateway could not be reached ({type(error).__name__})") from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise NotificationFailed("the SMS gateway answered something other than JSON") from None
        code = str(answer.get("code")) if isinstance(answer, dict) else None
        if code != "OK":
            detail = str(answer.get("message") or "") if isinstance(answer, dict) else ""
            raise NotificationFailed(f"the SMS gateway refused the message: {code} {detail}"[:400], retryable=code not in PERMANENT_CODES)
        biz_id = answer.get("biz_id")
        return str(biz_id) if biz_id else None


def sms_settings_from_url(url: str | None) -> dict[str, Any]:
    """The channel's settings an installation's ``YUYUE_SMS_URL`` gives; without it, the sandbox.

    :raises ValueError: the URL is not http(s) with a key id and secret.
    """
    if not url:
        return {"provider": "sandbox"}
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or not parts.username or not parts.password:
        raise ValueError("YUYUE_SMS_URL must look like https://KEY_ID:SECRET@gateway/path?sign_name=…&template.login_code=…")
    query = urllib.parse.parse_qs(parts.query)
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    rest = urllib.parse.urlencode([(k, v) for k, values in query.items() if k != "sign_name" and not k.startswith("template.") for v in values])
    settings: dict[str, Any] = {
        "provider": "http",
        "endpoint": urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, rest, "")),
        "access_key_id": urllib.parse.unquote(parts.username),
        "access_key_secret": urllib.parse.unquote(parts.password),
        "templates": {k.removeprefix("template."): values[0] for k, values in query.items() if k.startswith("template.")},
    }
    if query.get("sign_name"):
        settings["sign_name"] = query["sign_name"][0]
    return settings


def _flat_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Gateways take text parameters only: numbers become text, nested values (a booking object) are left out."""
    return {str(key): str(value) for key, value in params.items() if isinstance(value, str | int | float) and not isinstance(value, bool)}


class SmsChannel:
    """Sends each message as a templated SMS through the provider the settings name."""

    key = "sms"
    address_kind: AddressKind = "phone"
    settings_schema = SMS_SETTINGS_SCHEMA

    def __init__(self, providers: Mapping[str, SmsProvider] | None = None) -> None:
        self.providers: dict[str, SmsProvider] = dict(providers or {p.key: p for p in (SandboxSmsProvider(), HttpSmsProvider())})

    def installation_settings(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return sms_settings_from_url(config.get("SMS_URL"))

    def send(self, message: NotificationMessage) -> None:
        settings = message.settings
        provider = self.providers.get(str(settings.get("provider") or "sandbox"))
        if provider is None:
            raise NotificationFailed(f"no SMS provider {settings.get('provider')!r}; available: {', '.join(sorted(self.providers))}", retryable=False)
        template_id = message.data.get("template_id") or (settings.get("templates") or {}).get(message.template)
        if not template_id and provider.key == "sandbox":
            # The sandbox approves anything: a tenant trying the channel out need not invent template ids.
            template_id = message.template
        if not template_id:
            raise NotificationFailed(f"no SMS template for {message.template!r}: add it to the sms channel's templates", retryable=False)
        sign_name = str(settings.get("sign_name") or "")
        if not sign_name and provider.key != "sandbox":
            raise NotificationFailed("no SMS signature: set the sms channel's sign_name", retryable=False)
        params = _flat_params(message.data.get("params") or message.params)
        out_id = message.message_id or secrets.token_hex(16)
        provider.send(message.to, sign_name, str(template_id), params, out_id, {**settings, "_tenant": message.tenant})
