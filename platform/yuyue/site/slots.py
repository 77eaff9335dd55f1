"""A booking type's slots as the site shows them: grouped by start, each channel with its places and why it cannot be booked.

Read from the same availability the API serves (:func:`yuyue.bookings.availability.slot_availability`),
so the page and the API never disagree. Only reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from yuyue.behaviour import BookingTypeView
from yuyue.bookings.availability import slot_availability
from yuyue.bookings.placement import plugins_of
from yuyue.catalog.models import BookingType
from yuyue.catalog.stops import route_stops
from yuyue.presenting.language import localize
from yuyue.scheduling.availability import SlotAvailability
from yuyue.scheduling.registry import slot_rules
from yuyue.tenancy.models import Tenant

__all__ = ["ChannelState", "SlotView", "channel_name", "day_slots", "reader_locale", "slot_query"]

# The channels a vertical splits its slots into (decisions §40), as a customer reads them; any other shows its key.
CHANNEL_NAMES = {"individual": _l("Individual visitors"), "group": _l("Groups")}
DEFAULT_CHANNEL = "default"
# Channels in the order a slot lists them: walk-in visitors first, since most readers are; any other after, by name.
CHANNEL_ORDER = (DEFAULT_CHANNEL, "individual", "group")


def reader_locale() -> str:
    """The reader's locale as the booking engine names it (``zh-Hans``)."""
    return str(get_locale() or "zh_Hans").replace("_", "-")


def channel_name(channel: str) -> str | None:
    """What a channel is called on the page; None for the one channel of an unsplit slot."""
    return None if channel == DEFAULT_CHANNEL else str(CHANNEL_NAMES.get(channel, channel))


def slot_query(starts_at: datetime, channel: str, zone: ZoneInfo) -> dict[str, str]:
    """The query naming one channel of one slot (``?at=…&channel=…``) for the form and the waitlist."""
    query = {"at": starts_at.astimezone(zone).isoformat()}
    if channel != DEFAULT_CHANNEL:
        query["channel"] = channel
    return query


@dataclass(frozen=True)
class ChannelState:
    """One channel of one slot: its places left, or why it cannot be booked (a ``SlotAvailability`` reason)."""

    channel: str
    name: str | None
    capacity: int
    remaining: int
    reason: str | None
    opens_at: datetime | None
    book_url: str | None
    waitlist_url: str | None

    @property
    def bookable(self) -> bool:
        return self.reason is None


@dataclass
class SlotView:
    starts_at: datetime
    ends_at: datetime
    label: str | None
    channels: list[ChannelState] = field(default_factory=list)
    stops: list[dict[str, Any]] = field(default_factory=list)

    @property
    def bookable(self) -> bool:
        return any(channel.bookable for channel in self.channels)

    @property
    def remaining(self) -> int:
        """Places left over the channels that can be booked."""
        return sum(channel.remaining for channel in self.channels if channel.bookable)

    @property
    def reason(self) -> str | None:
        """Why none of its channels can be booked (the first channel's reason), or None."""
        return None if self.bookable else self.channels[0].reason


def _waitlist_open(plugins: Any, booking_type: BookingType, slot: SlotAvailability, now: datetime) -> bool:
    """A full slot that has not started, whose waitlist no plugin closed (``waitlist_closes_at``)."""
    if slot.reason != "sold_out" or slot.starts_at <= now:
        return False
    closes_at = plugins.first("waitlist_closes_at", booking_type=BookingTypeView.of(booking_type), starts_at=slot.starts_at)
    return not isinstance(closes_at, datetime) or now <= closes_at


def day_slots(session: Session, tenant: Tenant, booking_type: BookingType, first: date, last: date, now: datetime, *, links: bool = True) -> list[SlotView]:
    """The slots of the local days ``first`` … ``last``, in start order, each with its channels (and, for a route, its stops' times)."""
    zone, locale = ZoneInfo(tenant.time_zone), reader_locale()
    listed = slot_availability(session, booking_type, zone, first, last, now, registry=slot_rules())
    stops = route_stops(session, booking_type.id) if listed and links else []
    plugins = plugins_of(session, tenant) if links and any(s.reason == "sold_out" for s in listed) else None
    views: dict[datetime, SlotView] = {}
    for slot in listed:
        view = views.get(slot.starts_at)
        if view is None:
            view = views[slot.starts_at] = SlotView(slot.starts_at, slot.ends_at, localize(slot.label, locale) or None)
            view.stops = [{"name": localize(stop.name, locale), "kind": stop.kind, "at": stop.reached_at(slot.starts_at)} for stop in stops]
        query = slot_query(slot.starts_at, slot.channel, zone)
        book_url = url_for("site.booking_form", type_slug=booking_type.slug, **query) if links and slot.bookable else None
        waitlist = links and plugins is not None and _waitlist_open(plugins, booking_type, slot, now)
        view.channels.append(
            ChannelState(
                slot.channel,
                channel_name(slot.channel),
                slot.capacity,
                slot.remaining,
                slot.reason,
                slot.opens_at,
                book_url,
                url_for("site.join_waitlist", type_slug=booking_type.slug, **query) if waitlist else None,
            )
        )
    for view in views.values():
        view.channels.sort(key=lambda c: (CHANNEL_ORDER.index(c.channel) if c.channel in CHANNEL_ORDER else len(CHANNEL_ORDER), c.channel))
    return list(views.values())
