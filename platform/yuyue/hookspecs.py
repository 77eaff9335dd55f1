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
    from collections.abc import Mapping
    from datetime import datetime

    import click
    from flask import Flask
    from sqlalchemy.orm import Session

    from yuyue.behaviour import (
        BookingRequest,
        BookingTypeView,
        BookingView,
        CancellationTerms,
        EventView,
        MinimumParticipants,
        PriceQuote,
        RescheduleTerms,
    )
    from yuyue.customers.login_providers import LoginProvider
    from yuyue.declarations import VerticalFile
    from yuyue.errors import FieldProblem
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


# -------------------------------------------------------------------------
# Booking behaviour: called only for plugins enabled for the booking's tenant,
# each implementation with ``settings``, the tenant's settings for its own
# plugin (validated, schema defaults filled, read-only). A plugin answers for
# booking types of its own vertical (``booking_type.vertical``) and returns
# None for the rest. A hook may refuse by raising ``yuyue.plugin_api.Refused``
# (or another ``DomainError``); any other exception refuses the request with
# ``plugin_failed`` and nothing is written.
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
def booking_units(booking_type: BookingTypeView, request: BookingRequest, settings: Mapping[str, Any]) -> int | None:
    """How many places ``request`` takes of the slot's capacity. Stops at first non-None result.

    The host's default answers ``request.persons`` (the people a real-name
    form names, else the party size or the tickets' sum sent); a vertical maps
    its own fields (seats, attendees, group size). The answer must be a whole
    number from 1 to the booking type's ``max_party_size``, and equal the party
    size and the tickets' sum if they were sent (``party_size_mismatch``).
    """


@hookspec
def validate_booking(booking_type: BookingTypeView, request: BookingRequest, settings: Mapping[str, Any], session: Session) -> list[FieldProblem] | None:
    """Return the problems that stop ``request`` (a list of :class:`yuyue.plugin_api.FieldProblem`), or None.

    Runs inside the booking's write transaction, after the booker's account is
    known and before capacity is taken, so counting the booker's other bookings
    through ``session`` sees every committed one. Every implementation runs and
    all problems are reported together (422 ``validation_failed``). Raise
    ``Refused`` instead to refuse with a code of the plugin's own.
    """


@hookspec(firstresult=True)
def quote_price(booking_type: BookingTypeView, request: BookingRequest, settings: Mapping[str, Any]) -> PriceQuote | None:
    """The price of ``request`` as a :class:`yuyue.plugin_api.PriceQuote`. Stops at first non-None result.

    The amount charged is the quote's ``total``. The host's default is a line
    per ticket type in ``request.tickets`` (its price × its places), else one
    line: the booking type's price × ``request.units``.
    """


@hookspec(firstresult=True)
def cancellation_terms(booking: BookingView, now: datetime, settings: Mapping[str, Any]) -> CancellationTerms | None:
    """What cancelling ``booking`` at ``now`` means (:class:`yuyue.plugin_api.CancellationTerms`). Stops at first non-None result.

    The host's default reads the booking type's ``cancellation`` policy.
    Customers see these terms before they confirm; staff cancel without the
    penalty.
    """


@hookspec(firstresult=True)
def reschedule_terms(booking: BookingView, now: datetime, settings: Mapping[str, Any]) -> RescheduleTerms | None:
    """Whether ``booking`` may move to another slot at ``now`` (:class:`yuyue.plugin_api.RescheduleTerms`). Stops at first non-None result.

    The host's default reads the booking type's ``reschedule`` policy.
    """


@hookspec(firstresult=True)
def check_in_window(booking: BookingView, window: tuple[datetime, datetime], settings: Mapping[str, Any]) -> tuple[datetime, datetime] | None:
    """When ``booking``'s holder may be checked in: ``(opens, closes)``, aware datetimes. Stops at first non-None result.

    ``window`` is the host's: from the booking type's ``check_in.early_minutes``
    (60) before the slot until it ends; return it changed, or None to keep it.
    Outside the window the gate refuses with ``too_early``, ``slot_ended`` or
    ``wrong_day``.
    """


@hookspec(firstresult=True)
def minimum_participants(booking_type: BookingTypeView, settings: Mapping[str, Any]) -> MinimumParticipants | None:
    """The fewest places a session of ``booking_type`` must have taken to go ahead, and when that is decided. Stops at first non-None result.

    Answer a :class:`yuyue.plugin_api.MinimumParticipants`, or None for no minimum.
    Once a session's decision time has passed, the worker closes a session
    below the minimum (``closed_reason`` ``below_minimum``) and cancels every
    booking of it as the system, refunding what was paid; a session at or above
    it is confirmed. Each session is decided once.
    """


@hookspec
def booking_placed(booking: BookingView, request: BookingRequest, settings: Mapping[str, Any], session: Session) -> None:
    """A booking was written (held awaiting payment, or confirmed at once), inside its transaction.

    Raising refuses the booking and nothing of it is written. Anything that
    leaves the process (a message, a call to another service) goes through the
    outbox, never straight from a hook.
    """


@hookspec
def booking_confirmed(booking: BookingView, now: datetime, settings: Mapping[str, Any], session: Session) -> None:
    """A held booking was paid and confirmed, inside that transaction."""


@hookspec
def booking_cancelled(booking: BookingView, terms: CancellationTerms, by_staff: bool, now: datetime, settings: Mapping[str, Any], session: Session) -> None:
    """A booking was cancelled at ``now`` under ``terms``, inside that transaction.

    ``terms`` are those applied: when staff cancel (``by_staff``) they carry no
    penalty. Its places were released already; the host's own implementation
    refunds a paid booking.
    """


@hookspec
def booking_rescheduled(booking: BookingView, previous_starts_at: datetime, now: datetime, settings: Mapping[str, Any], session: Session) -> None:
    """A booking moved to another slot (``booking.starts_at``) from ``previous_starts_at``, inside that transaction."""


@hookspec
def booking_checked_in(booking: BookingView, now: datetime, settings: Mapping[str, Any], session: Session) -> None:
    """A booking's holder was checked in at ``now``, inside that transaction; raising ``Refused`` turns them away."""


@hookspec
def booking_no_show(booking: BookingView, now: datetime, settings: Mapping[str, Any], session: Session) -> None:
    """A booking was marked no-show, inside that transaction."""


@hookspec
def booking_expired(booking: BookingView, now: datetime, settings: Mapping[str, Any], session: Session) -> None:
    """A held booking was not paid in time and expired, inside that transaction."""


@hookspec
def booking_completed(booking: BookingView, now: datetime, settings: Mapping[str, Any], session: Session) -> None:
    """A booking was marked completed, inside that transaction."""


@hookspec
def capacity_added(inventory_ids: list[int], now: datetime, settings: Mapping[str, Any], session: Session) -> None:
    """Slots gained places (a merchant raised a booking type's capacity), inside the transaction that added them.

    :param inventory_ids: the slot inventory rows that grew, each a future slot of one booking type.

    The host's own implementation offers the new places to the slots' waitlists first,
    in queue order, before anyone else can take them.
    """


@hookspec
def booking_type_scheduled(booking_type: BookingTypeView, now: datetime, settings: Mapping[str, Any], session: Session) -> None:
    """A booking type's slots were scheduled anew: it was created, or its rules, resource requirements or status changed; inside that transaction.

    The host's own implementation holds the per-slot resources (a group class's
    coach) of its future slots from now on, so nothing else can take them first.
    """


@hookspec(firstresult=True)
def waitlist_closes_at(booking_type: BookingTypeView, starts_at: datetime, settings: Mapping[str, Any]) -> datetime | None:
    """The moment after which a place freed in the slot starting at ``starts_at`` is not offered to its waitlist. Stops at first non-None result.

    An aware datetime. A place freed later stays free for anyone to book, and
    nobody may join the waitlist any more (``waitlist_closed``). The host has
    no default: without an answer the waitlist stays open.
    """


# -------------------------------------------------------------------------
# Outbox: called by the worker, outside any transaction, for plugins enabled
# for the event's tenant.
# -------------------------------------------------------------------------


@hookspec
def handle_event(event: EventView) -> None:
    """An outbox event was committed: the worker calls this once per event for each plugin that implements it and is enabled for the event's tenant.

    At least once, not exactly once: each plugin's call is a delivery of its own
    (``hook:<plugin name>``), retried with backoff when the implementation
    raises (30 s, 2 min, 10 min, 1 h, 6 h, then dead; ``yuyue outbox retry``
    revives it), and called again after a worker crash that came before its
    success was recorded. ``event.message_id`` stays the same on every call for
    that event, so pass it on to let a receiver drop repeats. Runs in the
    worker's application context with the tenant in scope but in no
    transaction, so a slow receiver holds no lock; read what you need from
    ``event.payload``.
    """
