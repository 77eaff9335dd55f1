"""Slot generation: availability rules → the slots of a range of local days, and whether a slot can be booked now.

Pure functions, no database. Slots are built in local wall-clock time and only
then converted to UTC, so a 09:00 class stays at 09:00 local across a DST change.

DST policy:

- A slot whose start does not exist on a spring-forward day (02:30 in Berlin
  on the last Sunday of March) is **skipped**: shifting it would move it onto
  the next slot, and a time that is on no clock cannot be advertised. A slot
  whose end falls in the gap ends when the clocks jump (01:30–02:00 is
  01:30–03:00 on the clock, 30 minutes long); a slot spanning the gap keeps its
  wall-clock bounds. Either is shorter in real time, never longer.
- An ambiguous time on a fall-back day takes its first occurrence (``fold=0``,
  the summer-time one). A slot running from the repeated hour past its end
  (01:30–02:30 in New York) lasts longer in real time: the venue runs by its clock.
- Converting existing wall times to UTC with ``fold=0`` preserves their order,
  so slots that do not overlap on the clock do not overlap in UTC.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yuyue.scheduling.registry import current_registry
from yuyue.scheduling.rules import DayContext, LocalSlot, Rule, Slot, SlotRuleRegistry

__all__ = ["Slot", "bookable", "compile_rules", "day_caps", "generate_slots", "opens_at", "slot_at", "to_utc"]

_MINUTE = timedelta(minutes=1)
# Days laid out recently, per compiled rule list: a booking and an availability page lay out the same days again and again.
_LAYOUT_CACHE_SIZE = 4096
_layouts: OrderedDict[tuple[int, date], tuple[tuple[Rule, ...], DayLayout]] = OrderedDict()
_layouts_lock = threading.Lock()


def to_utc(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """A naive local wall-clock time as an aware UTC moment; ``None`` if the time does not exist in ``zone``.

    Ambiguous times resolve to their first occurrence (``fold=0``).
    """
    moment = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return moment


def _end_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """Like :func:`to_utc`, but a time inside a spring-forward gap is the moment the clocks jump."""
    moment = to_utc(wall, zone)
    if moment is not None:
        return moment
    probe = wall - _MINUTE
    while (before := to_utc(probe, zone)) is None:
        probe -= _MINUTE
    # Wall times here are whole minutes, and so are the gaps of every zone.
    return before + _MINUTE


def compile_rules(rules: Sequence[dict[str, Any]] | Sequence[Rule], registry: SlotRuleRegistry | None = None) -> tuple[Rule, ...]:
    """Bind raw ``{type, params}`` rules to their types (validating them); compiled rules pass through."""
    if rules and all(isinstance(rule, Rule) for rule in rules):
        return tuple(rules)
    return (registry or current_registry()).compile(list(rules))


def generate_slots(
    rules: Sequence[dict[str, Any]] | Sequence[Rule],
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
    *,
    registry: SlotRuleRegistry | None = None,
) -> list[Slot]:
    """Every slot of the local days ``first_day`` … ``last_day`` (inclusive), ordered by start.

    :param rules: a booking type's ``availability_rules``, or rules compiled by :func:`compile_rules`.
    :param zone: the tenant's (or branch's) time zone.
    :param registry: rule types to resolve ``rules`` with; default: the current application's.
    :raises yuyue.errors.InvalidInput: if the rules are invalid.
    """
    compiled = compile_rules(rules, registry)
    slots: list[Slot] = []
    day = first_day
    while day <= last_day:
        layout = _local_slots(compiled, day)
        slots += filter(None, (_in_utc(local, day, zone, layout.caps) for local in layout.slots))
        day += timedelta(days=1)
    slots.sort(key=lambda slot: slot.starts_at)
    return slots


def slot_at(rules: Sequence[dict[str, Any]] | Sequence[Rule], zone: ZoneInfo, starts_at: datetime, *, registry: SlotRuleRegistry | None = None) -> Slot | None:
    """The slot :func:`generate_slots` would give that starts at the aware moment ``starts_at``, or None.

    A booking names one slot: only the local slots of its day are laid out, and
    only the one starting at that wall-clock time is converted to UTC.
    """
    local = starts_at.astimezone(zone)
    day, wall = local.date(), local.replace(tzinfo=None, fold=0)
    layout = _local_slots(compile_rules(rules, registry), day)
    for candidate in layout.slots:
        if candidate.start == wall:
            slot = _in_utc(candidate, day, zone, layout.caps)
            return slot if slot is not None and slot.starts_at == starts_at else None
    return None


def day_caps(rules: Sequence[dict[str, Any]] | Sequence[Rule], day: date, *, registry: SlotRuleRegistry | None = None) -> dict[str, int]:
    """The places the rules cap the local ``day`` at, by scope (``*`` for the whole day, else a channel); empty when uncapped."""
    return dict(_local_slots(compile_rules(rules, registry), day).caps)


def _in_utc(local: LocalSlot, day: date, zone: ZoneInfo, day_caps: dict[str, int]) -> Slot | None:
    """A local slot as a :class:`Slot`; None if its start is not on the clock that day or it has no length."""
    starts_at, ends_at = to_utc(local.start, zone), _end_to_utc(local.end, zone)
    if starts_at is None or ends_at <= starts_at:
        return None
    return Slot(starts_at, ends_at, day, local.capacities, zone, local.label, dict(day_caps))


@dataclass(frozen=True)
class DayLayout:
    """A local day as its rules lay it out: its slots, and the caps of the whole day."""

    slots: tuple[LocalSlot, ...]
    caps: dict[str, int]


def _local_slots(rules: tuple[Rule, ...], day: date) -> DayLayout:
    """The day's local slots and caps, remembered per rule list (the registry hands out one compiled tuple per rule list).

    Keyed by the tuple's ``id``: the entry holds the tuple itself, so the id
    cannot be reused by another object while the entry lives.
    """
    key = (id(rules), day)
    with _layouts_lock:
        hit = _layouts.get(key)
        if hit is not None and hit[0] is rules:
            _layouts.move_to_end(key)
            return hit[1]
    layout = _lay_out(rules, day)
    with _layouts_lock:
        _layouts[key] = (rules, layout)
        if len(_layouts) > _LAYOUT_CACHE_SIZE:
            _layouts.popitem(last=False)
    return layout


def _lay_out(rules: tuple[Rule, ...], day: date) -> DayLayout:
    context = DayContext(day, rules)
    slots: list[LocalSlot] | None = None
    for rule in rules:
        slots = rule.type.override_slots(rule.params, context)
        if slots is not None:
            context = replace(context, overridden=True)
            break
    if slots is None:
        slots = []
        for rule in rules:
            # A later pattern may not overlap an earlier one's slots.
            earlier = list(slots)
            slots += [s for s in rule.type.pattern_slots(rule.params, context) if not any(s.overlaps(e) for e in earlier)]
    for rule in rules:
        slots = rule.type.adjust(rule.params, context, slots)
    # One inventory row per (start, channel): a start may appear only once.
    unique: dict[datetime, LocalSlot] = {}
    for slot in slots:
        unique.setdefault(slot.start, slot)
    caps: dict[str, int] = {}
    for rule in rules:
        for scope, places in rule.type.day_caps(rule.params, context).items():
            caps[scope] = min(places, caps.get(scope, places))
    for rule in rules:
        caps = rule.type.adjust_day_caps(rule.params, context, caps)
    return DayLayout(tuple(unique.values()), caps)


def bookable(
    rules: Sequence[dict[str, Any]] | Sequence[Rule],
    slot: Slot,
    now: datetime,
    *,
    registry: SlotRuleRegistry | None = None,
) -> tuple[bool, str | None]:
    """Whether ``slot`` can be booked at ``now`` (aware), with the reason code when not.

    A slot that has started is ``booking_closed`` whatever the rules say;
    otherwise the first rule that refuses gives the reason (``booking_not_open``,
    ``booking_closed`` for the built-in booking window).
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if now >= slot.starts_at:
        return False, "booking_closed"
    for rule in compile_rules(rules, registry):
        reason = rule.type.refusal(rule.params, slot, now)
        if reason is not None:
            return False, reason
    return True, None


def opens_at(rules: Sequence[dict[str, Any]] | Sequence[Rule], slot: Slot, *, registry: SlotRuleRegistry | None = None) -> datetime | None:
    """When ``slot`` is released for booking (the latest moment any rule names), or ``None`` if no rule holds it back."""
    moments = [moment for rule in compile_rules(rules, registry) if (moment := rule.type.opens_at(rule.params, slot)) is not None]
    return max(moments, default=None)
