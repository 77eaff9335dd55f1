"""The payment-provider contract, and the providers an application's plugins registered.

A provider is an object with a ``key`` and three methods; plugins return them
from ``register_payment_providers()``. Providers hold no configuration of their
own: each call receives ``settings``, the application's settings for that
provider (``PAYMENT_PROVIDERS[key]``) overlaid with the tenant's
(``payment_settings.config``), so one provider object serves every tenant.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from yuyue.errors import FieldProblem, InvalidInput
from yuyue.plugins import PluginHost, plugin_host
from yuyue.registry import PluginLoadError, Registry, collect

EXTENSION_KEY = "yuyue.payments"


@dataclass(frozen=True)
class PaymentRequest:
    """What a provider needs to open a payment (WeChat Pay's unified order, Alipay's trade)."""

    reference: str
    booking: str
    amount: int
    currency: str
    description: str
    notify_url: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class PaymentInstructions:
    """What the customer does next: ``kind`` is ``offline`` (pay on site), ``redirect`` (open ``pay_url``), …

    ``params`` are what a client passes to the provider's SDK (a mini-program's
    ``wx.requestPayment`` arguments, say); ``message`` is localized text.
    """

    kind: str
    message: dict[str, str] | str | None = None
    pay_url: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class NotificationKind(enum.StrEnum):
    paid = "paid"
    failed = "failed"
    refunded = "refunded"


@dataclass(frozen=True)
class Notification:
    """A provider's verified notification, in the host's terms.

    ``id`` is unique per provider (a second delivery repeats it); ``reference``
    names our payment; a refund notification also names our refund in
    ``refund_reference`` when we asked for it.

    ``amount`` (minor units) and ``currency`` are required for ``paid`` and
    ``refunded``: they decide the money, and the host refuses such a
    notification without them (422 ``incomplete_notification``) rather than
    assume the payment's price or the whole remainder. A provider whose full
    refund notice carries no amount states the amount it refunded itself.
    """

    id: str
    kind: NotificationKind
    reference: str
    amount: int | None = None
    currency: str | None = None
    provider_txn: str | None = None
    refund_reference: str | None = None
    provider_refund_ref: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class RefundRequest:
    """What a provider needs to give money back; ``reference`` is ours and makes a retry safe."""

    reference: str
    payment_reference: str
    provider_txn: str | None
    payment_amount: int
    amount: int
    currency: str
    reason: str
    notify_url: str | None = None


@dataclass(frozen=True)
class RefundResult:
    """The provider's answer: ``pending`` until its notification, or already ``succeeded`` or ``failed``."""

    status: Literal["pending", "succeeded", "failed"]
    provider_ref: str | None = None
    message: str | None = None


@runtime_checkable
class PaymentProvider(Protocol):
    key: str

    def create_payment(self, request: PaymentRequest, settings: Mapping[str, Any]) -> PaymentInstructions:
        """Open a payment with the provider and say what the customer does next."""

    def verify_notification(self, headers: Mapping[str, str], body: bytes, settings: Mapping[str, Any]) -> Notification | None:
        """The notification in ``body`` if its signature is valid, else None. Must not trust anything unsigned.

        Raises :class:`~yuyue.errors.InvalidInput` for a signed body that is not a notification it can read.
        """

    def refund(self, request: RefundRequest, settings: Mapping[str, Any]) -> RefundResult:
        """Ask the provider to give ``request.amount`` back; the same ``request.reference`` twice refunds once."""


def sign(secret: str, body: bytes) -> str:
    """HMAC-SHA256 of ``body`` with ``secret``, hex: how the sandbox signs its notifications."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class PaymentProviders(Registry[PaymentProvider]):
    """The providers of one application, by key, and the settings each is called with."""

    kind = "payment provider"

    def __init__(self, host: PluginHost, config: Mapping[str, Any]):
        super().__init__()
        collect(self, host.hook.register_payment_providers, _checked_provider)
        self._settings = {key: dict(value) for key, value in (config.get("PAYMENT_PROVIDERS") or {}).items()}
        # The sandbox needs a secret every worker agrees on; by default one derived from the secret key.
        sandbox = self._settings.setdefault("sandbox", {})
        sandbox.setdefault("secret", config.get("PAYMENT_SANDBOX_SECRET") or sign(str(config.get("SECRET_KEY", "")), b"yuyue payment sandbox"))
        self.default_key: str = config.get("PAYMENT_PROVIDER") or "sandbox"

    def get(self, key: str) -> PaymentProvider:
        """The provider ``key``; an unknown one is the client's mistake (422 pointing at ``/provider``)."""
        if key not in self:
            raise InvalidInput(
                _l("no payment provider %(key)r", key=key),
                errors=[FieldProblem("/provider", _l("choose one of %(names)s", names=", ".join(self.keys)), "unknown_provider")],
            )
        return super().get(key)

    def settings(self, key: str, tenant_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The application's settings for provider ``key``, overlaid with a tenant's."""
        return {**self._settings.get(key, {}), **(tenant_config or {})}


def _checked_provider(plugin: str, provider: Any) -> str:
    key = getattr(provider, "key", None)
    if not isinstance(key, str) or not isinstance(provider, PaymentProvider):
        raise PluginLoadError(f"plugin {plugin!r} registers a payment provider without key, create_payment, verify_notification and refund")
    return key


def payment_providers(app: Flask | None = None) -> PaymentProviders:
    """The payment providers of ``app`` (default: the current application), collected on first use."""
    app = app or current_app._get_current_object()
    providers = app.extensions.get(EXTENSION_KEY)
    if providers is None:
        providers = app.extensions[EXTENSION_KEY] = PaymentProviders(plugin_host(app), app.config)
    return providers
