"""Everything a yuyue plugin may import from the host, in one place.

A plugin writes ``from yuyue.plugin_api import hookimpl, Refused, …``. The
names here are the contract: they keep their meaning across releases, while
the modules behind them may move. ``from yuyue import hookimpl, VerticalFile``
stays allowed too (``yuyue`` re-exports those two, and ``__version__``), as
the themes use it; any other ``yuyue.*`` module is the host's own.
``tests/test_plugin_api.py`` reads the bundled plugins' and themes' imports and
fails on anything else; if a plugin needs more, add it here. Test code has a
second public module, the pytest plugin ``yuyue.testing``.

A plugin's messages for people (a hook's refusal, a field problem) are
``lazy_gettext("… %(name)s …", name=value)``, translated by the catalog the plugin
ships in its package (``<package>/translations/<locale>/LC_MESSAGES/messages.po``,
checked by ``yuyue i18n check``); ``gettext`` is for text shown at once.
"""

from flask_babel import gettext, lazy_gettext, lazy_ngettext, ngettext

from yuyue.behaviour import (
    BookingRequest,
    BookingTypeView,
    BookingView,
    CancellationTerms,
    EventView,
    MinimumParticipants,
    Person,
    PriceLine,
    PriceQuote,
    RescheduleTerms,
    RouteStopView,
)
from yuyue.bookings.limits import (
    GROUP_CHANNEL,
    INDIVIDUAL_CHANNEL,
    group_headcount,
    group_problems,
    is_group_visit,
    refuse_too_many_minors,
    refuse_too_many_persons_a_day,
)
from yuyue.bookings.policies import lock_identities
from yuyue.bookings.queries import active_bookings
from yuyue.catalog.stops import route_stops
from yuyue.credits.operations import forfeit_credits, return_credits, spend_credits
from yuyue.customers.login_providers import LoginIdentity, LoginProvider, LoginProviderFailed, LoginProviderNotConfigured, LoginRefused
from yuyue.declarations import VerticalFile
from yuyue.errors import Conflict, DomainError, FieldProblem, InvalidInput, NotFound, Refused, json_pointer
from yuyue.events.channels import NotificationChannel, NotificationFailed, NotificationMessage
from yuyue.forms.fields import FieldType
from yuyue.forms.formats import FormatProblem
from yuyue.hookspecs import hookimpl
from yuyue.payments.providers import Notification, NotificationKind, PaymentInstructions, PaymentProvider, PaymentRequest, RefundRequest, RefundResult
from yuyue.scheduling.rules import DayContext, LocalSlot, Rule, SlotRuleType

__all__ = [
    "BookingRequest",
    "BookingTypeView",
    "BookingView",
    "CancellationTerms",
    "Conflict",
    "DayContext",
    "DomainError",
    "EventView",
    "FieldProblem",
    "FieldType",
    "FormatProblem",
    "GROUP_CHANNEL",
    "gettext",
    "lazy_gettext",
    "lazy_ngettext",
    "ngettext",
    "INDIVIDUAL_CHANNEL",
    "InvalidInput",
    "LocalSlot",
    "LoginIdentity",
    "LoginProvider",
    "LoginProviderFailed",
    "LoginProviderNotConfigured",
    "LoginRefused",
    "MinimumParticipants",
    "NotFound",
    "Notification",
    "NotificationChannel",
    "NotificationFailed",
    "NotificationKind",
    "NotificationMessage",
    "PaymentInstructions",
    "PaymentProvider",
    "PaymentRequest",
    "Person",
    "PriceLine",
    "PriceQuote",
    "Refused",
    "RefundRequest",
    "RefundResult",
    "RescheduleTerms",
    "RouteStopView",
    "Rule",
    "SlotRuleType",
    "VerticalFile",
    "active_bookings",
    "forfeit_credits",
    "group_headcount",
    "group_problems",
    "hookimpl",
    "is_group_visit",
    "json_pointer",
    "lock_identities",
    "refuse_too_many_minors",
    "refuse_too_many_persons_a_day",
    "route_stops",
    "return_credits",
    "spend_credits",
]
