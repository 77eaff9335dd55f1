"""Customer login under ``/api/v1/t/<tenant>/auth/``: one-time codes to a mobile, WeChat mini-program, token refresh, logout.

Every login answers the same token pair (:func:`yuyue.api.auth.customer_tokens`);
each refresh answers a new pair and uses the refresh token up; logout revokes
every refresh token descending from the same login.
Asking for a code answers 202 whether or not the phone belongs to a customer,
so the endpoint cannot be used to find out who is one.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from yuyue.api.auth import customer_required, customer_tokens, request_now, rotated_tokens
from yuyue.api.converters import SlugConverter, path_parameter
from yuyue.api.core import json_body
from yuyue.api.limits import by_address, by_phone, rate_limit
from yuyue.api.problems import ApiProblem
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.customers import login, login_settings, sessions
from yuyue.customers.login_providers import LoginProviderFailed, LoginProviderNotConfigured, LoginProviderRegistry, LoginRefused, WeChatMiniProgram
from yuyue.db import db
from yuyue.events.channel_settings import settings_for
from yuyue.events.channels import NotificationFailed, NotificationMessage, channels
from yuyue.types import bounded_integer

PHONE = {"type": "string", "minLength": 1, "maxLength": 32, "description": "a mainland mobile number; spaces, dashes and +86 are allowed"}

CODE_REQUEST = {"type": "object", "required": ["phone"], "additionalProperties": False, "properties": {"phone": PHONE}}

CODE_LOGIN = {
    "type": "object",
    "required": ["phone", "code"],
    "additionalProperties": False,
    "properties": {"phone": PHONE, "code": {"type": "string", "pattern": f"^[0-9]{{{login.CODE_DIGITS}}}$"}},
}

TOKEN_REFRESH = {
    "type": "object",
    "required": ["refresh_token"],
    "additionalProperties": False,
    "properties": {"refresh_token": {"type": "string", "minLength": 1, "maxLength": 4096}},
}

WECHAT_LOGIN = {
    "type": "object",
    "required": ["code"],
    "additionalProperties": False,
    "properties": {"code": {"type": "string", "minLength": 1, "maxLength": 256, "description": "the code from wx.login()"}},
}

LOGIN_CODE_TEMPLATE = "login_code"


def _invalid_code(message: str) -> ApiProblem:
    return ApiProblem(401, "invalid_code", message)


def login_code_message(tenant_slug: str, tenant_name: str, phone: str, code: str, locale: str, settings: dict[str, Any]) -> NotificationMessage:
    """The login-code text in the tenant's first language, with its parameters for gateways that send by template (SMS)."""
    minutes = int(login.CODE_TTL.total_seconds() // 60)
    with force_locale(locale.replace("-", "_")):
        subject = str(_l("Your login code for %(tenant)s", tenant=tenant_name))
        text = str(
            _l(
                "%(code)s is your login code for %(tenant)s. It expires in %(minutes)s minutes; never tell it to anyone.",
                code=code,
                tenant=tenant_name,
                minutes=minutes,
            )
        )
    return NotificationMessage(
        tenant=tenant_slug,
        to=phone,
        template=LOGIN_CODE_TEMPLATE,
        params={"code": code, "minutes": minutes},
        locale=locale,
        subject=subject,
        text=text,
        settings=settings,
    )


def deliver_login_code(phone: str) -> login.IssuedCode:
    """Issue a login code for ``phone`` at the current tenant and send it through ``NOTIFICATION_CHANNEL`` (the API and the site ask the same way).

    The channel sends with the tenant's settings of it (its own SMS gateway), over the installation's.

    :raises login.CodeRecentlySent: a code went to this phone moments ago.
    :raises NotificationFailed: the channel failed; the code is withdrawn, so the customer may ask again at once.
    """
    tenant = current_tenant()
    secret = current_app.config["SECRET_KEY"]
    key = current_app.config.get("NOTIFICATION_CHANNEL") or "log"
    settings = settings_for(db.session, current_app, key)
    issued = login.issue_login_code(db.session, phone, secret=secret, now=request_now())
    message = login_code_message(tenant.slug, tenant.name, issued.phone, issued.code, (tenant.locales or ["zh-Hans"])[0], settings)
    try:
        channels().get(key).send(message)
    except NotificationFailed as error:
        login.withdraw_login_code(db.session, issued, secret=secret)
        current_app.logger.warning("login code for tenant %s not delivered: %s", tenant.slug, error)
        raise
    return issued


@tenant_api.post("/auth/code")
@rate_limit("RATELIMIT_AUTH_CODE_PER_PHONE", by_phone)
@rate_limit("RATELIMIT_AUTH_CODE_PER_ADDRESS", by_address)
def send_login_code() -> tuple[Response, int]:
    """Send a one-time login code to a mobile through the configured channel (``NOTIFICATION_CHANNEL``)."""
    body = json_body(CODE_REQUEST)
    try:
        deliver_login_code(body["phone"])
    except login.CodeRecentlySent as error:
        raise ApiProblem(429, error.code, error.lazy_message, headers={"Retry-After": str(error.retry_after)}) from None
    except NotificationFailed:
        raise ApiProblem(502, "notification_failed", _l("the code could not be sent; try again in a moment")) from None
    return jsonify({"expires_in": int(login.CODE_TTL.total_seconds()), "resend_after": int(login.RESEND_AFTER.total_seconds())}), 202


@tenant_api.post("/auth/login")
@rate_limit("RATELIMIT_AUTH_LOGIN", by_address)
def login_with_code() -> Response:
    """Exchange a phone and its one-time code for tokens; the customer is created on first login."""
    body = json_body(CODE_LOGIN)
    try:
        customer = login.login_with_code(db.session, body["phone"], body["code"], secret=current_app.config["SECRET_KEY"], now=request_now())
    except login.InvalidCode as error:
        raise _invalid_code(error.lazy_message) from None
    except login.TooManyAttempts as error:
        raise ApiProblem(429, error.code, error.lazy_message) from None
    return jsonify(customer_tokens(customer))


@tenant_api.post("/auth/refresh")
def refresh_tokens() -> Response:
    """A new token pair for a live refresh token of this tenant; the token is used up."""
    body = json_body(TOKEN_REFRESH)
    return jsonify(rotated_tokens(body["refresh_token"]))


@tenant_api.post("/auth/logout")
def logout() -> tuple[str, int]:
    """Revoke the refresh token and every other one of the same login; 204 even for an unknown token (RFC 7009)."""
    body = json_body(TOKEN_REFRESH)
    sessions.end_session(db.session, body["refresh_token"], now=request_now())
    return "", 204


def _login_providers() -> LoginProviderRegistry:
    return current_app.extensions["yuyue.login_providers"]


def _wechat_config() -> dict[str, Any]:
    """The tenant's own mini-program (appid, secret), over the application-wide settings (api_base, fallback credentials)."""
    return login_settings.effective_login_settings(db.session, _login_providers(), WeChatMiniProgram.key)


@tenant_api.post("/auth/wechat")
@rate_limit("RATELIMIT_AUTH_LOGIN", by_address)
def wechat_login() -> Response:
    """Exchange a WeChat mini-program login code for tokens (through the tenant's own mini-program); the customer is found, or created, by openid."""
    body = json_body(WECHAT_LOGIN)
    try:
        provider = _login_providers().get(WeChatMiniProgram.key)
    except LookupError:
        raise ApiProblem(404, "login_provider_unknown", _l("WeChat login is not available")) from None
    try:
        identity = provider.exchange(body["code"], _wechat_config())
    except LoginRefused as error:
        # The provider's own reason, in its words (it may not speak the reader's language), after ours.
        raise _invalid_code(_l("WeChat refused the login code: %(reason)s", reason=str(error))) from None
    except LoginProviderNotConfigured as error:
        # The deployment's set-up, not the customer's request: not a server error, and the operator reads why in the log.
        current_app.logger.warning("WeChat login for tenant %s refused: %s", current_tenant().slug, error)
        raise ApiProblem(404, "login_provider_not_configured", _l("WeChat login is not available")) from None
    except LoginProviderFailed as error:
        raise ApiProblem(502, "login_provider_failed", _l("WeChat could not be asked: %(reason)s", reason=str(error))) from None
    return jsonify(customer_tokens(login.customer_for_wechat_openid(db.session, identity.subject)))


@tenant_api.get("/auth/me")
@customer_required
def current_customer() -> Response:
    """The logged-in customer."""
    customer = g.customer
    return jsonify({"id": customer.id, "phone": customer.phone, "name": customer.name, "wechat": customer.wechat_openid is not None})


_TENANT_PARAMETER = path_parameter("tenant_slug", SlugConverter, "the tenant's slug")
_TOKENS = {
    "type": "object",
    "properties": {
        "access_token": {"type": "string"},
        "refresh_token": {"type": "string"},
        "token_type": {"const": "Bearer"},
        "expires_in": bounded_integer(description="seconds the access token lives"),
    },
}


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


# What every login endpoint may answer besides its own outcomes.
_ERRORS = {
    400: "malformed JSON",
    403: "the tenant is suspended (tenant_suspended)",
    404: "no such tenant",
    422: "invalid input; errors point at each field",
}


def _login(summary: str, body: dict, errors: dict[int, str]) -> dict:
    responses = {"200": {"description": "a token pair", "content": {"application/json": {"schema": _TOKENS}}}}
    responses.update({str(status): _problem(text) for status, text in sorted({**_ERRORS, **errors}.items())})
    return {"post": {"summary": summary, "requestBody": {"required": True, "content": {"application/json": {"schema": body}}}, "responses": responses}}


_PREFIX = "/api/v1/t/{tenant_slug}/auth"
_CUSTOMER = {
    "type": "object",
    "properties": {
        "id": bounded_integer(1),
        "phone": {"type": ["string", "null"]},
        "name": {"type": ["string", "null"]},
        "wechat": {"type": "boolean", "description": "whether the customer has logged in through WeChat"},
    },
}
OPENAPI_PATHS = {
    f"{_PREFIX}/code": {
        "parameters": [_TENANT_PARAMETER],
        "post": {
            "summary": "Send a one-time login code to a mainland mobile number",
            "requestBody": {"required": True, "content": {"application/json": {"schema": CODE_REQUEST}}},
            "responses": {
                "202": {
                    "description": "a code was sent if the number can receive one",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "expires_in": bounded_integer(description="seconds the code stays valid"),
                                    "resend_after": bounded_integer(description="seconds before another code may be asked for"),
                                },
                            }
                        }
                    },
                },
                **{str(status): _problem(text) for status, text in _ERRORS.items()},
                "422": _problem("not a mainland mobile number, or otherwise invalid; errors point at each field"),
                "429": _problem("a code was sent less than a minute ago; see Retry-After"),
                "502": _problem("the notification channel failed"),
            },
        },
    },
    f"{_PREFIX}/login": {
        "parameters": [_TENANT_PARAMETER],
        **_login(
            "Log in with the code",
            CODE_LOGIN,
            {401: "wrong, expired or used code (invalid_code)", 403: "the account is banned (banned)", 429: "too many attempts"},
        ),
    },
    f"{_PREFIX}/refresh": {
        "parameters": [_TENANT_PARAMETER],
        **_login(
            "Exchange a refresh token for a new pair; the token is used up",
            TOKEN_REFRESH,
            {
                401: "unknown, expired or revoked refresh token (invalid_token), or one already used (refresh_token_reused: every token of that login is revoked)",
                403: "the account is banned (banned); its tokens are revoked",
            },
        ),
    },
    f"{_PREFIX}/logout": {
        "parameters": [_TENANT_PARAMETER],
        "post": {
            "summary": "Log out: revoke the refresh token and every other one descending from the same login",
            "description": "Access tokens already issued stay valid until they expire (at most 15 minutes).",
            "requestBody": {"required": True, "content": {"application/json": {"schema": TOKEN_REFRESH}}},
            "responses": {
                "204": {"description": "revoked, or the token was unknown here"},
                **{str(status): _problem(text) for status, text in sorted({**_ERRORS, 422: "no refresh token in the body"}.items())},
            },
        },
    },
    f"{_PREFIX}/wechat": {
        "parameters": [_TENANT_PARAMETER],
        **_login(
            "Log in from a WeChat mini-program (code2session)",
            WECHAT_LOGIN,
            {
                401: "WeChat refused the code",
                403: "the account is banned (banned)",
                404: "no such tenant, or WeChat login is not offered here (login_provider_unknown, login_provider_not_configured)",
                429: "too many attempts",
                502: "the WeChat API failed",
            },
        ),
    },
    f"{_PREFIX}/me": {
        "parameters": [_TENANT_PARAMETER],
        "get": {
            "summary": "The logged-in customer",
            "security": [{"customerToken": []}],
            "responses": {
                "200": {"description": "the customer", "content": {"application/json": {"schema": _CUSTOMER}}},
                "401": _problem("missing or invalid access token"),
                "403": _problem(_ERRORS[403]),
                "404": _problem(_ERRORS[404]),
            },
        },
    },
}
