"""Creating booking types from a vertical, and resources."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import yuyue_schemas
from yuyue.catalog.models import BookingType, Resource
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict, FieldProblem, InvalidInput, NotFound, Refused
from yuyue.forms.operations import publish_form
from yuyue.forms.registry import FormRegistry
from yuyue.plugins import PluginHost
from yuyue.scheduling.rules import SlotRuleRegistry
from yuyue.tenancy.models import Tenant
from yuyue.tenancy.operations import SLUG_PATTERN, enabled_plugins

REQUIREMENT_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["kind"],
        "additionalProperties": False,
        "properties": {
            "kind": {"type": "string", "minLength": 1},
            "count": {"type": "integer", "minimum": 1, "default": 1},
            "per": {"enum": ["slot", "booking"], "default": "slot"},
            "resource_ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        },
    },
}


HH_MM = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"}
# A resource's working hours: weekday → intervals of local time. No schedule means always available.
SCHEDULE_SCHEMA = {
    "type": "object",
    "propertyNames": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
    "additionalProperties": {
        "type": "array",
        "items": {"type": "object", "required": ["start", "end"], "additionalProperties": False, "properties": {"start": HH_MM, "end": HH_MM}},
    },
}


def _prefixed(prefix: str, problems: list) -> list[FieldProblem]:
    return [FieldProblem(prefix + p.pointer, p.message, getattr(p, "code", None) or getattr(p, "keyword", None)) for p in problems]


def create_booking_type(
    session: Session,
    host: PluginHost,
    forms: FormRegistry,
    slot_rules: SlotRuleRegistry,
    tenant: Tenant,
    *,
    vertical: str,
    slug: str,
    name: Any,
    description: Any = None,
    availability_rules: list[dict[str, Any]] | None = None,
    policies: dict[str, Any] | None = None,
    resource_requirements: list[dict[str, Any]] | None = None,
    form: dict[str, Any] | None = None,
    ui: dict[str, Any] | None = None,
    price_amount: int = 0,
    currency: str = "CNY",
    hold_minutes: int = 15,
    max_party_size: int = 1,
) -> BookingType:
    """A booking type starts from its vertical's form, rules and policies; anything given overrides them."""
    declared = host.verticals.get(vertical)
    if declared is None:
        raise NotFound(f"no vertical {vertical!r} is installed", code="vertical_not_found")
    if declared.plugin not in enabled_plugins(session, tenant):
        raise Refused(f"the {vertical} plugin is not enabled for this tenant", code="plugin_not_enabled")
    rules = declared.default_slot_rules if availability_rules is None else availability_rules
    policies = declared.default_policies if policies is None else policies
    requirements = resource_requirements or []
    problems = []
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        problems.append(FieldProblem("/slug", "use lowercase letters, digits and inner hyphens", "invalid_slug"))
    problems += _prefixed("/name", yuyue_schemas.problems("localized-text", name))
    problems += slot_rules.problems(rules)
    problems += _prefixed("/policies", yuyue_schemas.problems("policies", policies))
    problems += _prefixed("/resource_requirements", yuyue_schemas.problems_against(REQUIREMENT_SCHEMA, requirements))
    if price_amount < 0:
        problems.append(FieldProblem("/price_amount", "a price cannot be negative", "minimum"))
    if not 1 <= max_party_size <= 1000:
        problems.append(FieldProblem("/max_party_size", "between 1 and 1000", "out_of_range"))
    if problems:
        raise InvalidInput("the booking type cannot be created as given", errors=problems)
    try:
        with tenant_scope(tenant.id), write_transaction(session):
            if session.scalar(select(BookingType.id).where(BookingType.slug == slug)) is not None:
                raise Conflict(f"a booking type {slug!r} already exists", code="slug_taken", errors=[FieldProblem("/slug", "already taken", "slug_taken")])
            booking_type = BookingType(
                slug=slug,
                vertical=vertical,
                name=name,
                description=description if description is not None else declared.description,
                availability_rules=rules,
                policies=policies,
                resource_requirements=requirements,
                price_amount=price_amount,
                currency=currency,
                hold_minutes=hold_minutes,
                max_party_size=max_party_size,
                form_version=0,
            )
            session.add(booking_type)
            session.flush()
            publish_form(session, booking_type, form or declared.form_schema, ui or declared.ui_schema, forms.field_types, formats=forms.formats)
    except IntegrityError:
        raise Conflict(f"a booking type {slug!r} already exists", code="slug_taken") from None
    return booking_type


def create_resource(session: Session, tenant: Tenant, *, kind: str, code: str, name: Any, schedule: dict[str, Any] | None = None) -> Resource:
    """A coach, vehicle, driver, room or hall; ``schedule`` limits when it can be allocated."""
    problems = _prefixed("/name", yuyue_schemas.problems("localized-text", name))
    if schedule is not None:
        problems += _prefixed("/schedule", yuyue_schemas.problems_against(SCHEDULE_SCHEMA, schedule))
    if not isinstance(kind, str) or not kind or not isinstance(code, str) or not code:
        problems.append(FieldProblem("/kind" if not kind else "/code", "required", "required"))
    if problems:
        raise InvalidInput("the resource cannot be created as given", errors=problems)
    with tenant_scope(tenant.id), write_transaction(session):
        if session.scalar(select(Resource.id).where(Resource.code == code)) is not None:
            raise Conflict(f"a resource {code!r} already exists", code="code_taken", errors=[FieldProblem("/code", "already taken", "code_taken")])
        resource = Resource(kind=kind, code=code, name=name, schedule=schedule)
        session.add(resource)
    return resource
