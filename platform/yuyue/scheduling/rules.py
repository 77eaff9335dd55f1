"""The slot-rule registry: rule types, each with a JSON Schema for its params and its behaviour.

A booking type's ``availability_rules`` is a list of ``{"type", "params"}``.
A :class:`SlotRuleType` gives a type key meaning in up to four phases, run by
:func:`yuyue.scheduling.slots.generate_slots` for each local day:

1. ``pattern_slots`` — the day's regular slots (``weekly_hours``, ``fixed_windows``);
   patterns listed later may not overlap slots of earlier ones.
2. ``override_slots`` — slots that replace the patterns on that day (``special_hours``);
   the first rule that returns a list wins.
3. ``adjust`` — in list order, change the day's slots: close the day (``closed_dates``),
   scale capacities (``holiday_throttle``).
4. ``refusal`` — whether a slot can be booked at a given moment (``booking_window``),
   and ``opens_at``, the moment a slot not yet released will be.
5. ``day_caps`` then ``adjust_day_caps`` — places per local day on top of the slots'
   own (``daily_cap`` sets them; ``holiday_throttle`` scales them, in list order).

Built-in types live in :mod:`yuyue.scheduling.builtin_rules`; plugins add theirs
through the ``register_slot_rules()`` hook.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

import yuyue_schemas
from yuyue.errors import FieldProblem, InvalidInput, schema_field_problems, schema_problem_message

__all__ = [
    "DAY_SCOPE",
    "DEFAULT_CHANNEL",
    "WEEKDAYS",
    "DayContext",
    "LocalSlot",
    "Rule",
    "Slot",
    "SlotRuleRegistry",
    "SlotRuleType",
    "SlotRuleTypeError",
    "split_capacity",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The channel that holds a slot's capacity when no split by channel is configured, and whatever a split leaves over.
DEFAULT_CHANNEL = "default"
# The day cap that counts every channel; a channel's own day cap is keyed by the channel's name.
DAY_SCOPE = "*"
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
# One rule of a list, before its params are checked against its type's schema.
RULE_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["type", "params"],
    "additionalProperties": False,
    "properties": {"type": {"type": "string", "minLength": 1, "maxLength": 64}, "params": {"type": "object"}},
}


@dataclass(frozen=True)
class LocalSlot:
    """A slot as rules build it: naive local wall-clock times of one day, capacity per channel."""

    start: datetime
    end: datetime
    capacities: dict[str, int]
    label: Any = None

    def overlaps(self, other: LocalSlot) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Slot:
    """One bookable slot: UTC bounds, its local date, and its capacity per sales channel.

    ``day_caps`` are the places of its local day on top of its own (:data:`DAY_SCOPE`
    for the whole day, a channel's name for that channel's day). Dicts, so a
    slot is not hashable; compare slots with ``==``.
    """

    starts_at: datetime
    ends_at: datetime
    local_date: date
    capacities: dict[str, int]
    zone: ZoneInfo
    label: Any = None
    day_caps: dict[str, int] = field(default_factory=dict)

    @property
    def capacity(self) -> int:
        return sum(self.capacities.values())

    def day_scopes(self, channel: str) -> list[str]:
        """The day caps a booking on ``channel`` takes its places from, in lock order."""
        return sorted(scope for scope in (DAY_SCOPE, channel) if scope in self.day_caps)


@dataclass(frozen=True)
class Rule:
    """One validated rule of a list: its type, its params and its position (for error pointers)."""

    type: SlotRuleType
    params: dict[str, Any]
    index: int

    @property
    def key(self) -> str:
        return self.type.key


@dataclass(frozen=True)
class DayContext:
    """What a rule sees of the local day being generated."""

    day: date
    rules: tuple[Rule, ...] = ()
    # True once an override (special hours) decided the day's slots: weekday closures no longer apply.
    overridden: bool = False

    @property
    def weekday(self) -> str:
        return WEEKDAYS[self.day.weekday()]

    def first(self, key: str) -> Rule | None:
        """The first rule of type ``key`` in the list, e.g. the weekly_hours a special day inherits from."""
        return next((rule for rule in self.rules if rule.key == key), None)


class SlotRuleType:
    """Base class of a slot-rule type. Subclass it, set ``key`` and ``params_schema``, override the phases you need.

    ``params`` reaching the methods have been validated against ``params_schema``
    and :meth:`check`. Methods must be pure: no I/O, same answer for the same input.
    """

    key: ClassVar[str] = ""
    params_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    # At most one rule of this type per list (two sets of weekly hours would be ambiguous).
    single: ClassVar[bool] = False

    def check(self, params: dict[str, Any], rules: Sequence[Rule]) -> list[FieldProblem]:
        """Problems JSON Schema cannot express; pointers are relative to ``params``, e.g. ``/windows/0/end``."""
        return []

    def pattern_slots(self, params: dict[str, Any], day: DayContext) -> list[LocalSlot]:
        """The day's regular slots."""
        return []

    def override_slots(self, params: dict[str, Any], day: DayContext) -> list[LocalSlot] | None:
        """Slots replacing every pattern on this day, or ``None`` to leave the day alone."""
        return None

    def adjust(self, params: dict[str, Any], day: DayContext, slots: list[LocalSlot]) -> list[LocalSlot]:
        """Change the day's slots: drop some or all, change capacities."""
        return slots

    def refusal(self, params: dict[str, Any], slot: Slot, now: datetime) -> str | None:
        """A reason code if ``slot`` cannot be booked at ``now`` (aware), else ``None``."""
        return None

    def opens_at(self, params: dict[str, Any], slot: Slot) -> datetime | None:
        """The moment this rule stops refusing ``slot`` as not yet open (``booking_not_open``), or ``None``."""
        return None

    def day_caps(self, params: dict[str, Any], day: DayContext) -> dict[str, int]:
        """Places of the day this rule caps: :data:`DAY_SCOPE` for every channel, or a channel's name."""
        return {}

    def adjust_day_caps(self, params: dict[str, Any], day: DayContext, caps: dict[str, int]) -> dict[str, int]:
        """Change the day's caps (after every rule gave its own), like ``adjust`` changes its slots."""
        return caps

    def __repr__(self) -> str:
        return f"<slot rule type {self.key!r}>"


class SlotRuleTypeError(ValueError):
    """A rule type cannot be registered: bad key, bad schema, or the key is taken."""


def split_capacity(capacity: int, by_channel: dict[str, int] | None) -> dict[str, int]:
    """Capacity per channel: the configured shares, and what is left over in :data:`DEFAULT_CHANNEL`."""
    if not by_channel:
        return {DEFAULT_CHANNEL: capacity}
    shares = dict(by_channel)
    left = capacity - sum(shares.values())
    if left > 0:
        shares[DEFAULT_CHANNEL] = shares.get(DEFAULT_CHANNEL, 0) + left
    return shares


class SlotRuleRegistry:
    """Rule types by key, and validation of rule lists against them."""

    _CACHE_SIZE = 256

    def __init__(self, types: Iterable[SlotRuleType] = (), owner: str = "yuyue"):
        self._types: dict[str, SlotRuleType] = {}
        self._owners: dict[str, str] = {}
        self._compiled: OrderedDict[str, tuple[Rule, ...]] = OrderedDict()
        for rule_type in types:
            self.register(rule_type, owner)

    def register(self, rule_type: SlotRuleType, owner: str) -> None:
        """Add a rule type; ``owner`` (a plugin name) is named in errors."""
        if not isinstance(rule_type, SlotRuleType):
            raise SlotRuleTypeError(f"expected a yuyue.scheduling.rules.SlotRuleType instance, got {rule_type!r}")
        key = rule_type.key
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            raise SlotRuleTypeError(f"slot rule type key {key!r} must match {KEY_PATTERN.pattern}")
        if key in self._types:
            raise SlotRuleTypeError(f"slot rule type {key!r} is already registered by {self._owners[key]!r}")
        schema_problems = yuyue_schemas.check_json_schema(rule_type.params_schema) or yuyue_schemas.check_bounded_numbers(rule_type.params_schema)
        if schema_problems:
            first = schema_problems[0]
            raise SlotRuleTypeError(f"params schema of slot rule type {key!r} at {first.pointer or '/'}: {first.message}")
        self._types[key] = rule_type
        self._owners[key] = owner
        self._compiled.clear()

    def copy(self) -> SlotRuleRegistry:
        other = SlotRuleRegistry()
        other._types, other._owners = dict(self._types), dict(self._owners)
        return other

    def __contains__(self, key: object) -> bool:
        return key in self._types

    def __getitem__(self, key: str) -> SlotRuleType:
        return self._types[key]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._types))

    def owner(self, key: str) -> str:
        return self._owners[key]

    def params_schemas(self) -> dict[str, dict[str, Any]]:
        """Type key → JSON Schema of its params."""
        return {key: self._types[key].params_schema for key in self}

    def problems(self, rules: Any, pointer: str = "/availability_rules") -> list[FieldProblem]:
        """Everything wrong with a rule list, each at its JSON pointer (``pointer`` is the list's own)."""
        return self._check(rules, pointer)[1]

    def compile(self, rules: Any, pointer: str = "/availability_rules") -> tuple[Rule, ...]:
        """Validate a rule list and bind each rule to its type.

        :raises InvalidInput: with one :class:`FieldProblem` per problem.
        """
        cache_key = pointer + json.dumps(rules, sort_keys=True, default=str)
        cached = self._compiled.get(cache_key)
        if cached is not None:
            self._compiled.move_to_end(cache_key)
            return cached
        compiled, problems = self._check(rules, pointer)
        if problems:
            raise InvalidInput(_l("the availability rules are invalid"), errors=problems)
        self._compiled[cache_key] = compiled
        if len(self._compiled) > self._CACHE_SIZE:
            self._compiled.popitem(last=False)
        return compiled

    def _check(self, rules: Any, pointer: str) -> tuple[tuple[Rule, ...], list[FieldProblem]]:
        if not isinstance(rules, list):
            return (), [FieldProblem(pointer, _l("availability rules are a list of {type, params} objects"), "type")]
        problems: list[FieldProblem] = []
        compiled: list[Rule] = []
        for index, rule in enumerate(rules):
            at = f"{pointer}/{index}"
            # The envelope first: ``type`` is looked up in a dict, so it must be a string before anything dispatches on it.
            shape = yuyue_schemas.problems_against(RULE_ENVELOPE, rule)
            if shape:
                problems += [
                    FieldProblem(
                        f"{at}{p.pointer}",
                        _l("a rule is an object with type and params") if not p.pointer else schema_problem_message(p.keyword, p.limit, p.message),
                        p.keyword,
                    )
                    for p in shape
                ]
                continue
            key = rule["type"]
            if key not in self._types:
                problems.append(
                    FieldProblem(f"{at}/type", _l("unknown slot rule %(key)r (known: %(names)s)", key=key, names=", ".join(self)), "unknown_slot_rule")
                )
                continue
            found = yuyue_schemas.problems_against(self._types[key].params_schema, rule["params"])
            problems += schema_field_problems(found, f"{at}/params")
            if not found:
                compiled.append(Rule(self._types[key], json.loads(json.dumps(rule["params"])), index))
        seen: dict[str, int] = {}
        for rule in compiled:
            if rule.type.single and rule.key in seen:
                message = _l("only one %(key)s rule is allowed (the first is rule %(first)s)", key=rule.key, first=seen[rule.key])
                problems.append(FieldProblem(f"{pointer}/{rule.index}/type", message, "duplicate_rule"))
            seen.setdefault(rule.key, rule.index)
            for problem in rule.type.check(rule.params, compiled):
                problems.append(FieldProblem(f"{pointer}/{rule.index}/params{problem.pointer}", problem.message, problem.code))
        return tuple(compiled), sorted(problems, key=lambda p: p.pointer)
