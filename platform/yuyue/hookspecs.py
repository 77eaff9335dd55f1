"""The plugin contract: every hook a yuyue plugin may implement.

Specs are body-less and grouped by lifecycle. Implementations may accept any
subset of the arguments. Each hook is documented in ``docs/plugin-hooks.md``
and has a ``test_hook_<name>`` test; meta-tests enforce both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:
    import click
    from flask import Flask

    from yuyue.customers.login_providers import LoginProvider
    from yuyue.declarations import VerticalFile
    from yuyue.events.channels import NotificationChannel
    from yuyue.forms.fields import FieldType
    from yuyue.payments.providers import PaymentProvider
    from yuyue.scheduling.rules import SlotRuleType
    from yuyue.tenancy.models import Tenant

hookspec = HookspecMarker("yuyue")
hookimpl = HookimplMarker("yuyue")


# -------------------------------------------------------------------------
# Registration: called once per application, results collected per plugin.
# -------------------------------------------------------------------------


@hookspec
def register_verticals() -> list[VerticalFile]:
    """Return the verticals this plugin declares, as data files.

    Each item is a :class:`yuyue.VerticalFile` naming a ``vertical.json`` in the
    plugin package. Declarations are validated against ``yuyue-schemas`` when
    the application starts; an invalid one stops start-up with the plugin's
    name, the file and the JSON pointer.
    """


@hookspec
def register_themes() -> list[dict[str, Any]]:
    """Return theme declarations: ``{"key", "name", "package"}``.

    ``package`` is the importable package holding ``templates/`` and ``static/``.
    """


@hookspec
def register_field_types() -> list[FieldType]:
    """Return form field types (:class:`yuyue.forms.fields.FieldType`) that forms may name in ``x-field``.

    Each carries its JSON Schema fragment, the keywords a merchant may set, its
    widget and how posted values are tidied and turned into typed answers. A key
    another plugin already registered stops start-up.
    """


@hookspec
def register_formats() -> dict[str, Callable[[str], bool]]:
    """Return string formats as ``{name: check}``; ``check(value)`` returns whether ``value`` has the format.

    A check may raise :class:`yuyue.forms.formats.FormatProblem` (a stable code
    and a message for the customer) to say why a value is wrong. Field types use
    formats in their schema fragment.
    """


@hookspec
def register_slot_rules() -> list[SlotRuleType]:
    """Return slot-rule types (:class:`yuyue.scheduling.rules.SlotRuleType`) that availability rules may name.

    Each has a ``key``, a JSON Schema for its ``params`` and its behaviour
    (regular slots, overrides, adjustments, booking refusals). A key that is
    already registered, or an invalid params schema, stops start-up.
    """


@hookspec
def register_payment_providers() -> list[PaymentProvider]:
    """Return payment providers (:class:`yuyue.payments.providers.PaymentProvider`), each with a unique ``key``.

    A provider opens payments (``create_payment``), verifies the signed
    notifications its service sends (``verify_notification``) and gives money
    back (``refund``). A key another plugin already registered stops start-up.
    """


@hookspec
def register_notification_channels() -> list[NotificationChannel]:
    """Return notification channels (:class:`yuyue.events.channels.NotificationChannel`), each with a unique ``key``.

    A channel delivers a :class:`yuyue.events.channels.NotificationMessage`
    (tenant, recipient, template key, parameters, locale) with ``send(message)``
    and raises :class:`yuyue.events.channels.NotificationFailed` when it cannot.
    ``NOTIFICATION_CHANNEL`` picks the channel for login codes. A key another
    plugin already registered stops start-up.
    """


@hookspec
def register_login_providers() -> list[LoginProvider]:
    """Return login providers (:class:`yuyue.customers.login_providers.LoginProvider`), each with a unique ``key``.

    ``exchange(code, tenant_config)`` turns a client's login code into a
    :class:`yuyue.customers.login_providers.LoginIdentity`, raising
    ``LoginRefused`` for a bad code, ``LoginProviderNotConfigured`` when settings it
    needs are missing, and ``LoginProviderFailed`` when the provider cannot answer. A key another plugin already registered stops start-up.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``yuyue`` command line.

    :param cli: the root ``yuyue`` group.
    """


# -------------------------------------------------------------------------
# Application lifecycle.
# -------------------------------------------------------------------------


@hookspec
def startup(app: Flask) -> None:
    """Called once at the end of ``create_app``, after plugins are loaded.

    :param app: the Flask application being built.
    """


# -------------------------------------------------------------------------
# Tenant lifecycle: called only for plugins enabled for that tenant.
# -------------------------------------------------------------------------


@hookspec
def tenant_created(tenant: Tenant) -> None:
    """A tenant was provisioned with this plugin enabled.

    Runs inside the provisioning transaction, with the tenant in context, so a
    plugin can seed tenant-owned rows; raising aborts the provisioning.

    :param tenant: the new tenant.
    """
