"""The stops of a booking type's route (a shuttle's pick-up and drop-off points): the merchant's changes, and the read plugins use.

Stops are rows, not an enum in the form: a merchant adds, retimes or withdraws
one without publishing a form version, and a booking keeps naming its stop by
code. Withdrawing a stop deactivates it (``DELETE`` does the same), so the
bookings that chose it still show its name and time. Every change is audited.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import yuyue_schemas
from yuyue.audit.operations import record as audit_record
from yuyue.behaviour import RouteStopView
from yuyue.catalog.models import BookingType, RouteStop, StopKind
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict, FieldProblem, InvalidInput, NotFound, Refused, schema_field_problems
from yuyue.tenancy.models import Tenant

__all__ = ["MAX_STOPS", "STOP_CHANGES", "STOP_SCHEMA", "create_stop", "deactivate_stop", "list_stops", "route_stops", "stop_view", "update_stop"]

# A route with more stops than this is a data-entry accident, and every booking reads them all.
MAX_STOPS = 50
# A trip reaches its last stop within a day of leaving.
MAX_MINUTES_AFTER_DEPARTURE = 24 * 60
MAX_POSITION = 1000
CODE_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$"

# What a stop may carry; ``code`` is its identity and cannot change.
STOP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "pattern": CODE_PATTERN, "maxLength": 60},
        "name": {"$ref": "https://schemas.yuyue.dev/v1/localized-text.json", "maxLength": 100, "additionalProperties": {"maxLength": 100}},
        "kind": {"enum": [kind.value for kind in StopKind]},
        "minutes_after_departure": {"type": "integer", "minimum": 0, "maximum": MAX_MINUTES_AFTER_DEPARTURE},
        "position": {"type": "integer", "minimum": 0, "maximum": MAX_POSITION},
        "active": {"type": "boolean"},
    },
}
STOP_CHANGES = frozenset({"name", "kind", "minutes_after_departure", "position", "active"})


def _problems(values: dict[str, Any]) -> list[FieldProblem]:
    return schema_field_problems(yuyue_schemas.problems_against(STOP_SCHEMA, values))


def _booking_type(session: Session, slug: str) -> BookingType:
    booking_type = session.scalar(select(BookingType).where(BookingType.slug == slug))
    if booking_type is None:
        raise NotFound(_l("no booking type %(slug)r", slug=slug), code="booking_type_not_found")
    return booking_type


def _stop(session: Session, booking_type: BookingType, code: str) -> RouteStop:
    stop = session.scalar(select(RouteStop).where(RouteStop.booking_type_id == booking_type.id, RouteStop.code == code))
    if stop is None:
        raise NotFound(_l("no stop %(code)r on %(slug)r", code=code, slug=booking_type.slug), code="stop_not_found")
    return stop


def _audit(session: Session, actor: str, action: str, booking_type: BookingType, stop: RouteStop) -> None:
    data = {"booking_type": booking_type.slug, **stop_json_for_audit(stop)}
    audit_record(session, actor=actor, action=action, subject_type="route_stop", subject_id=f"{booking_type.slug}/{stop.code}", data=data)


def stop_json_for_audit(stop: RouteStop) -> dict[str, Any]:
    return {
        "code": stop.code,
        "name": stop.name,
        "kind": StopKind(stop.kind).value,
        "minutes_after_departure": stop.minutes_after_departure,
        "position": stop.position,
        "active": stop.active,
    }


def list_stops(session: Session, tenant: Tenant, slug: str) -> list[RouteStop]:
    """Every stop of booking type ``slug``, withdrawn ones included, in route order.

    :raises NotFound: if ``tenant`` has no booking type ``slug``.
    """
    with tenant_scope(tenant.id):
        booking_type = _booking_type(session, slug)
        return list(session.scalars(select(RouteStop).where(RouteStop.booking_type_id == booking_type.id).order_by(RouteStop.position, RouteStop.id)))


def create_stop(
    session: Session,
    tenant: Tenant,
    slug: str,
    *,
    code: str,
    name: Any,
    kind: str = "both",
    minutes_after_departure: int = 0,
    position: int | None = None,
    actor: str = "system",
) -> RouteStop:
    """Add a stop to the route; without ``position`` it goes last.

    :raises InvalidInput: with a pointer per problem.
    :raises Conflict: ``stop_code_taken`` if the route has a stop ``code`` already (withdrawn ones too: reactivate it instead).
    :raises Refused: ``too_many_stops`` past :data:`MAX_STOPS`.
    """
    values = {"code": code, "name": name, "kind": kind, "minutes_after_departure": minutes_after_departure}
    if position is not None:
        values["position"] = position
    problems = _problems(values)
    if problems:
        raise InvalidInput(_l("the stop cannot be added as given"), errors=problems)
    with tenant_scope(tenant.id), write_transaction(session):
        booking_type = _booking_type(session, slug)
        existing = session.execute(select(func.count(RouteStop.id), func.max(RouteStop.position)).where(RouteStop.booking_type_id == booking_type.id)).one()
        if existing[0] >= MAX_STOPS:
            raise Refused(_l("a route has at most %(max_stops)s stops", max_stops=MAX_STOPS), code="too_many_stops")
        if session.scalar(select(RouteStop.id).where(RouteStop.booking_type_id == booking_type.id, RouteStop.code == code)) is not None:
            raise Conflict(
                _l("the route already has a stop %(code)r", code=code),
                code="stop_code_taken",
                errors=[FieldProblem("/code", _l("already taken"), "stop_code_taken")],
            )
        if position is None:
            position = min((existing[1] if existing[1] is not None else -1) + 1, MAX_POSITION)
        stop = RouteStop(
            booking_type_id=booking_type.id,
            code=code,
            name=name,
            kind=StopKind(kind),
            minutes_after_departure=minutes_after_departure,
            position=position,
            active=True,
        )
        session.add(stop)
        session.flush()
        _audit(session, actor, "route_stop.created", booking_type, stop)
    return stop


def update_stop(session: Session, tenant: Tenant, slug: str, code: str, *, actor: str = "system", **changes: Any) -> RouteStop:
    """Rename, retime, move or (de)activate a stop (see :data:`STOP_CHANGES`), all or none.

    :raises InvalidInput: with a pointer per problem.
    :raises NotFound: ``booking_type_not_found`` or ``stop_not_found``.
    """
    unknown = changes.keys() - STOP_CHANGES
    if unknown:
        raise TypeError(f"stop settings that cannot be changed: {', '.join(sorted(unknown))}")
    problems = _problems(changes)
    if problems:
        raise InvalidInput(_l("the stop cannot be changed as given"), errors=problems)
    with tenant_scope(tenant.id), write_transaction(session):
        booking_type = _booking_type(session, slug)
        stop = _stop(session, booking_type, code)
        for key, value in changes.items():
            setattr(stop, key, StopKind(value) if key == "kind" else value)
        session.flush()
        _audit(session, actor, "route_stop.changed", booking_type, stop)
    return stop


def deactivate_stop(session: Session, tenant: Tenant, slug: str, code: str, *, actor: str = "system") -> RouteStop:
    """Withdraw a stop: no longer offered, still shown on the bookings that chose it."""
    with tenant_scope(tenant.id), write_transaction(session):
        booking_type = _booking_type(session, slug)
        stop = _stop(session, booking_type, code)
        if stop.active:
            stop.active = False
            session.flush()
            _audit(session, actor, "route_stop.withdrawn", booking_type, stop)
    return stop


def stop_view(stop: RouteStop) -> RouteStopView:
    return RouteStopView(
        code=stop.code,
        name=stop.name,
        kind=StopKind(stop.kind).value,
        minutes_after_departure=stop.minutes_after_departure,
        position=stop.position,
        active=stop.active,
    )


def route_stops(session: Session, booking_type_id: int, *, active_only: bool = True) -> list[RouteStopView]:
    """The stops of the current tenant's booking type ``booking_type_id`` in route order (by ``position``), as read-only views.

    For plugins (``yuyue.plugin_api.route_stops``) and the customer API; needs the
    tenant in context. ``active_only=False`` includes withdrawn stops, which a
    booking made before the withdrawal may name.
    """
    query = select(RouteStop).where(RouteStop.booking_type_id == booking_type_id)
    if active_only:
        query = query.where(RouteStop.active.is_(True))
    return [stop_view(stop) for stop in session.scalars(query.order_by(RouteStop.position, RouteStop.id))]
