"""Booking types (created from a vertical, then changed), their form versions, and resources: creating, listing, changing."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import yuyue_schemas
from yuyue.behaviour import BookingTypeView
from yuyue.catalog.models import BookingType, BookingTypeStatus, Resource
from yuyue.catalog.tickets import ticket_type_problems
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict, FieldProblem, InvalidInput, NotFound, Refused, schema_field_problems
from yuyue.forms.fields import FieldType
from yuyue.forms.formats import FormatCheck
from yuyue.forms.models import FormDraft, FormVersion
from yuyue.forms.operations import form_problems, form_version
from yuyue.forms.registry import FormRegistry
from yuyue.plugins import PluginHost
from yuyue.provisioning.operations import SLUG_PATTERN, enabled_plugins, plan_allows, tenant_plugins
from yuyue.scheduling.inventory import resize_future_rows
from yuyue.scheduling.rules import SlotRuleRegistry
from yuyue.tenancy.models import Tenant
from yuyue.types import MAX_INTEGER, utcnow

REQUIREMENT_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["kind"],
        "additionalProperties": False,
        "properties": {
            "kind": {"type": "string", "minLength": 1},
            "count": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1},
            "per": {"enum": ["slot", "booking"], "default": "slot"},
            "resource_ids": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER}, "minItems": 1},
        },
    },
}


CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
# A resource's code is a URL segment (the API's and the admin's ``<name:…>``).
RESOURCE_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
# A week: longer holds would keep places from customers who can pay.
MAX_HOLD_MINUTES = 7 * 24 * 60
# What a booking type's PATCH may change; its slug and vertical are its identity.
BOOKING_TYPE_CHANGES = frozenset(
    {
        "name",
        "description",
        "status",
        "availability_rules",
        "policies",
        "resource_requirements",
        "price_amount",
        "ticket_types",
        "currency",
        "hold_minutes",
        "max_party_size",
        "form",
        "ui",
    }
)
RESOURCE_CHANGES = frozenset({"name", "schedule", "active"})

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
    """Field problems, or the shared schemas' problems in the reader's words, under ``prefix``."""
    return [FieldProblem(prefix + p.pointer, p.message, p.code) if isinstance(p, FieldProblem) else schema_field_problems([p], prefix)[0] for p in problems]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def booking_type_problems(slot_rules: SlotRuleRegistry, settings: Mapping[str, Any]) -> list[FieldProblem]:
    """Everything wrong with the booking-type settings given; settings left out are not checked.

    The same checks guard creating a booking type and changing one, so a change
    can never store what creation would have refused.
    """
    problems: list[FieldProblem] = []
    if "slug" in settings and (not isinstance(settings["slug"], str) or not SLUG_PATTERN.match(settings["slug"])):
        problems.append(FieldProblem("/slug", _l("use lowercase letters, digits and inner hyphens"), "invalid_slug"))
    if "name" in settings:
        problems += _prefixed("/name", yuyue_schemas.problems("localized-text", settings["name"]))
    if settings.get("description") is not None:
        problems += _prefixed("/description", yuyue_schemas.problems("localized-text", settings["description"]))
    if "availability_rules" in settings:
        problems += slot_rules.problems(settings["availability_rules"])
    if "policies" in settings:
        problems += _prefixed("/policies", yuyue_schemas.problems("policies", settings["policies"]))
    if "resource_requirements" in settings:
        problems += _prefixed("/resource_requirements", yuyue_schemas.problems_against(REQUIREMENT_SCHEMA, settings["resource_requirements"]))
    if "price_amount" in settings and not (_is_int(settings["price_amount"]) and 0 <= settings["price_amount"] <= MAX_INTEGER):
        problems.append(FieldProblem("/price_amount", _l("a whole number of fen from 0 to %(max_integer)s", max_integer=MAX_INTEGER), "out_of_range"))
    if "ticket_types" in settings:
        problems += ticket_type_problems(settings["ticket_types"])
    if "currency" in settings and not (isinstance(settings["currency"], str) and CURRENCY_PATTERN.match(settings["currency"])):
        problems.append(FieldProblem("/currency", _l("an ISO 4217 code such as CNY"), "invalid_currency"))
    if "hold_minutes" in settings and not (_is_int(settings["hold_minutes"]) and 0 <= settings["hold_minutes"] <= MAX_HOLD_MINUTES):
        problems.append(FieldProblem("/hold_minutes", _l("between 0 and %(max_hold_minutes)s", max_hold_minutes=MAX_HOLD_MINUTES), "out_of_range"))
    if "max_party_size" in settings and not (_is_int(settings["max_party_size"]) and 1 <= settings["max_party_size"] <= 1000):
        problems.append(FieldProblem("/max_party_size", _l("between 1 and 1000"), "out_of_range"))
    if "status" in settings and settings["status"] not in BookingTypeStatus.__members__:
        problems.append(FieldProblem("/status", _l("one of %(names)s", names=", ".join(BookingTypeStatus)), "invalid_status"))
    return problems


def _form_problems(forms: FormRegistry, form: Any, ui: Any) -> list[FieldProblem]:
    """The form's problems at the request's own fields: ``/form`` and ``/ui``."""
    if not isinstance(form, Mapping) or not isinstance(ui, Mapping):
        return [FieldProblem("/form" if not isinstance(form, Mapping) else "/ui", _l("must be an object"), "type")]
    problems = form_problems(form, ui, forms.field_types, formats=forms.formats)
    return [FieldProblem("/form" + p.pointer.removeprefix("/definition"), p.message, p.code) if p.pointer.startswith("/definition") else p for p in problems]


def _unknown_resource_problems(session: Session, requirements: list[dict[str, Any]]) -> list[FieldProblem]:
    """Requirements may name only this tenant's resources (the session filters the lookup to it)."""
    wanted = {resource_id for requirement in requirements for resource_id in requirement.get("resource_ids") or ()}
    if not wanted:
        return []
    known = set(session.scalars(select(Resource.id).where(Resource.id.in_(wanted))))
    return [
        FieldProblem(
            f"/resource_requirements/{index}/resource_ids/{position}", _l("no resource with id %(resource_id)s", resource_id=resource_id), "resource_not_found"
        )
        for index, requirement in enumerate(requirements)
        for position, resource_id in enumerate(requirement.get("resource_ids") or ())
        if resource_id not in known
    ]


def publish_form(
    session: Session,
    booking_type: BookingType,
    definition: Mapping[str, Any],
    ui: Mapping[str, Any],
    field_types: Mapping[str, FieldType],
    *,
    formats: Mapping[str, FormatCheck] | None = None,
) -> FormVersion:
    """Add the next version of ``booking_type``'s form and make it current.

    Earlier versions stay as they were: bookings keep pointing at the version
    they were validated against.

    :raises InvalidInput: with every problem of the form and UI schema, pointers
        under ``/definition`` and ``/ui``.
    :raises Conflict: if another version was published at the same moment.
    """
    problems = form_problems(definition, ui, field_types, formats=formats)
    if problems:
        raise InvalidInput(_l("the form cannot be published as given"), code="invalid_form", errors=problems)
    try:
        with tenant_scope(booking_type.tenant_id), write_transaction(session):
            # Locking the booking type (on PostgreSQL) makes concurrent publishers take turns.
            locked = session.scalars(select(BookingType).where(BookingType.id == booking_type.id).with_for_update()).one()
            latest = session.scalar(select(func.max(FormVersion.version)).where(FormVersion.booking_type_id == locked.id))
            version = FormVersion(
                booking_type_id=locked.id,
                version=(latest or 0) + 1,
                definition=copy.deepcopy(dict(definition)),
                ui=copy.deepcopy(dict(ui)),
            )
            session.add(version)
            locked.form_version = version.version
    except IntegrityError:
        raise Conflict(_l("the form was changed by someone else at the same time; reload it and try again"), code="form_changed") from None
    return version


def current_form_version(session: Session, booking_type: BookingType) -> FormVersion:
    """The version of the form that new bookings of ``booking_type`` are validated against."""
    with tenant_scope(booking_type.tenant_id):
        return form_version(session, booking_type.id, booking_type.form_version)


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
    ticket_types: list[dict[str, Any]] | None = None,
    currency: str = "CNY",
    hold_minutes: int = 15,
    max_party_size: int = 1,
) -> BookingType:
    """A booking type starts from its vertical's form, rules and policies; anything given overrides them.

    Announced through the ``booking_type_scheduled`` hook, so its slots hold their resources from now on.
    """
    declared = host.verticals.get(vertical)
    if declared is None:
        raise NotFound(_l("no vertical %(vertical)r is installed", vertical=vertical), code="vertical_not_found")
    if declared.plugin not in enabled_plugins(session, tenant):
        raise Refused(_l("the %(vertical)s plugin is not enabled for this tenant", vertical=vertical), code="plugin_not_enabled")
    rules = declared.default_slot_rules if availability_rules is None else availability_rules
    policies = declared.default_policies if policies is None else policies
    requirements = resource_requirements or []
    if form is None:
        form, ui = declared.form_schema, ui or declared.ui_schema
    elif ui is None:
        # The vertical's UI names the vertical's fields; a form of one's own is shown in its own order.
        fields = form.get("properties") if isinstance(form, Mapping) else None
        ui = {"order": list(fields) if isinstance(fields, Mapping) else [], "fields": {}}
    settings = {
        "slug": slug,
        "name": name,
        "description": description,
        "availability_rules": rules,
        "policies": policies,
        "resource_requirements": requirements,
        "price_amount": price_amount,
        "ticket_types": [] if ticket_types is None else ticket_types,
        "currency": currency,
        "hold_minutes": hold_minutes,
        "max_party_size": max_party_size,
    }
    problems = booking_type_problems(slot_rules, settings) + _form_problems(forms, form, ui)
    if problems:
        raise InvalidInput(_l("the booking type cannot be created as given"), errors=problems)
    try:
        with tenant_scope(tenant.id), write_transaction(session):
            problems = _unknown_resource_problems(session, requirements)
            if problems:
                raise InvalidInput(_l("the booking type cannot be created as given"), errors=problems)
            if session.scalar(select(BookingType.id).where(BookingType.slug == slug)) is not None:
                raise Conflict(
                    _l("a booking type %(slug)r already exists", slug=slug),
                    code="slug_taken",
                    errors=[FieldProblem("/slug", _l("already taken"), "slug_taken")],
                )
            plan_allows(session, tenant, "max_booking_types", session.scalar(select(func.count()).select_from(BookingType)) or 0)
            booking_type = BookingType(
                slug=slug,
                vertical=vertical,
                name=name,
                description=description if description is not None else declared.description,
                availability_rules=rules,
                policies=policies,
                resource_requirements=requirements,
                price_amount=price_amount,
                ticket_types=settings["ticket_types"],
                currency=currency,
                hold_minutes=hold_minutes,
                max_party_size=max_party_size,
                form_version=0,
            )
            session.add(booking_type)
            session.flush()
            publish_form(session, booking_type, form, ui, forms.field_types, formats=forms.formats)
            _scheduled(session, host, tenant, booking_type)
    except IntegrityError:
        raise Conflict(_l("a booking type %(slug)r already exists", slug=slug), code="slug_taken") from None
    return booking_type


def create_resource(session: Session, tenant: Tenant, *, kind: str, code: str, name: Any, schedule: dict[str, Any] | None = None) -> Resource:
    """A coach, vehicle, driver, room or hall; ``schedule`` limits when it can be allocated."""
    problems = _prefixed("/name", yuyue_schemas.problems("localized-text", name))
    if schedule is not None:
        problems += _prefixed("/schedule", yuyue_schemas.problems_against(SCHEDULE_SCHEMA, schedule))
    if not isinstance(kind, str) or not kind:
        problems.append(FieldProblem("/kind", _l("required"), "required"))
    elif len(kind) > 40:
        problems.append(FieldProblem("/kind", _l("at most 40 characters"), "maxLength"))
    if not isinstance(code, str) or not code:
        problems.append(FieldProblem("/code", _l("required"), "required"))
    elif not RESOURCE_CODE_PATTERN.match(code):
        problems.append(FieldProblem("/code", _l("1-60 letters, digits, dots, hyphens or underscores, starting with a letter or digit"), "pattern"))
    if problems:
        raise InvalidInput(_l("the resource cannot be created as given"), errors=problems)
    with tenant_scope(tenant.id), write_transaction(session):
        if session.scalar(select(Resource.id).where(Resource.code == code)) is not None:
            raise Conflict(
                _l("a resource %(code)r already exists", code=code), code="code_taken", errors=[FieldProblem("/code", _l("already taken"), "code_taken")]
            )
        plan_allows(session, tenant, "max_resources", session.scalar(select(func.count()).select_from(Resource)) or 0)
        resource = Resource(kind=kind, code=code, name=name, schedule=schedule)
        session.add(resource)
    return resource


def list_booking_types(session: Session, tenant: Tenant) -> list[BookingType]:
    """Every booking type of ``tenant``, drafts and archived ones included, oldest first."""
    with tenant_scope(tenant.id):
        return list(session.scalars(select(BookingType).order_by(BookingType.id)))


def get_booking_type(session: Session, tenant: Tenant, slug: str) -> BookingType:
    """``tenant``'s booking type ``slug`` whatever its status.

    :raises NotFound: if ``tenant`` has none by that slug.
    """
    with tenant_scope(tenant.id):
        booking_type = session.scalar(select(BookingType).where(BookingType.slug == slug))
    if booking_type is None:
        raise NotFound(_l("no booking type %(slug)r", slug=slug), code="booking_type_not_found")
    return booking_type


def update_booking_type(
    session: Session, host: PluginHost, forms: FormRegistry, slot_rules: SlotRuleRegistry, tenant: Tenant, slug: str, **changes: Any
) -> BookingType:
    """Change the settings named in ``changes`` (see :data:`BOOKING_TYPE_CHANGES`), all or none.

    A new ``form`` or ``ui`` publishes the next form version (the part not given
    is carried over from the current one); earlier versions stay untouched, so
    bookings made against them keep validating. An unchanged form publishes nothing.
    Places that new availability rules add to future slots are announced through
    the ``capacity_added`` hook (the booking area offers them to waitlists first);
    new rules, requirements or status through ``booking_type_scheduled`` (the
    booking area has the slots hold their resources).

    :raises InvalidInput: with every problem, pointers named after the settings.
    :raises NotFound: if ``tenant`` has no booking type ``slug``.
    """
    unknown = changes.keys() - BOOKING_TYPE_CHANGES
    if unknown:
        raise TypeError(f"booking type settings that cannot be changed: {', '.join(sorted(unknown))}")
    form, ui = changes.pop("form", None), changes.pop("ui", None)
    problems = booking_type_problems(slot_rules, changes)
    with tenant_scope(tenant.id), write_transaction(session):
        booking_type = get_booking_type(session, tenant, slug)
        if "resource_requirements" in changes and not problems:
            problems += _unknown_resource_problems(session, changes["resource_requirements"])
        new_form = None
        if form is not None or ui is not None:
            current = current_form_version(session, booking_type)
            new_form = (current.definition if form is None else form, current.ui if ui is None else ui)
            problems += _form_problems(forms, *new_form)
            if new_form == (current.definition, current.ui):
                new_form = None
        if problems:
            raise InvalidInput(_l("the booking type cannot be changed as given"), errors=problems)
        for key, value in changes.items():
            setattr(booking_type, key, BookingTypeStatus(value) if key == "status" else value)
        session.flush()
        if new_form is not None:
            publish_form(session, booking_type, *new_form, forms.field_types, formats=forms.formats)
        if "availability_rules" in changes:
            now = utcnow()
            grown = resize_future_rows(session, booking_type, ZoneInfo(tenant.time_zone), now)
            if grown:
                tenant_plugins(session, host, tenant).collect("capacity_added", inventory_ids=grown, now=now, session=session)
        if changes.keys() & {"availability_rules", "resource_requirements", "status"}:
            _scheduled(session, host, tenant, booking_type)
    return booking_type


def _scheduled(session: Session, host: PluginHost, tenant: Tenant, booking_type: BookingType) -> None:
    """Announce that the booking type's slots are scheduled as it now says (the host holds their resources)."""
    plugins = tenant_plugins(session, host, tenant)
    plugins.collect("booking_type_scheduled", booking_type=BookingTypeView.of(booking_type), now=utcnow(), session=session)


def list_resources(session: Session, tenant: Tenant) -> list[Resource]:
    """Every resource of ``tenant``, inactive ones included, by kind then code."""
    with tenant_scope(tenant.id):
        return list(session.scalars(select(Resource).order_by(Resource.kind, Resource.code)))


def get_resource(session: Session, tenant: Tenant, code: str) -> Resource:
    """:raises NotFound: if ``tenant`` has no resource ``code``."""
    with tenant_scope(tenant.id):
        resource = session.scalar(select(Resource).where(Resource.code == code))
    if resource is None:
        raise NotFound(_l("no resource %(code)r", code=code), code="resource_not_found")
    return resource


def update_resource(session: Session, tenant: Tenant, code: str, **changes: Any) -> Resource:
    """Rename a resource, change its working hours (``None``: always available) or (de)activate it.

    An inactive resource is no longer allocated to new bookings; those already
    holding it keep it.
    """
    unknown = changes.keys() - RESOURCE_CHANGES
    if unknown:
        raise TypeError(f"resource settings that cannot be changed: {', '.join(sorted(unknown))}")
    problems = []
    if "name" in changes:
        problems += _prefixed("/name", yuyue_schemas.problems("localized-text", changes["name"]))
    if changes.get("schedule") is not None:
        problems += _prefixed("/schedule", yuyue_schemas.problems_against(SCHEDULE_SCHEMA, changes["schedule"]))
    if "active" in changes and not isinstance(changes["active"], bool):
        problems.append(FieldProblem("/active", _l("true or false"), "type"))
    if problems:
        raise InvalidInput(_l("the resource cannot be changed as given"), errors=problems)
    with tenant_scope(tenant.id), write_transaction(session):
        resource = get_resource(session, tenant, code)
        for key, value in changes.items():
            setattr(resource, key, value)
    return resource


# --- drafts of the next form version (the builder) -----------------------------------------


def form_draft(session: Session, booking_type: BookingType) -> FormDraft | None:
    """The draft of ``booking_type``'s next form version, if a merchant started one."""
    with tenant_scope(booking_type.tenant_id):
        return session.scalar(select(FormDraft).where(FormDraft.booking_type_id == booking_type.id))


def save_form_draft(session: Session, tenant: Tenant, slug: str, definition: Mapping[str, Any], ui: Mapping[str, Any]) -> FormDraft:
    """Keep ``definition`` and ``ui`` as the draft of booking type ``slug``'s next form, valid or not; customers never see it.

    :raises NotFound: if ``tenant`` has no booking type ``slug``.
    :raises InvalidInput: if the draft is not a pair of JSON objects.
    """
    if not isinstance(definition, Mapping) or not isinstance(ui, Mapping):
        raise InvalidInput(
            _l("a draft is a form and its UI schema"),
            errors=[FieldProblem("/form" if not isinstance(definition, Mapping) else "/ui", _l("must be an object"), "type")],
        )
    with tenant_scope(tenant.id), write_transaction(session):
        booking_type = get_booking_type(session, tenant, slug)
        draft = form_draft(session, booking_type)
        if draft is None:
            draft = FormDraft(booking_type_id=booking_type.id, based_on=booking_type.form_version, definition={}, ui={})
            session.add(draft)
        draft.definition, draft.ui = copy.deepcopy(dict(definition)), copy.deepcopy(dict(ui))
    return draft


def discard_form_draft(session: Session, tenant: Tenant, slug: str) -> None:
    """Forget booking type ``slug``'s draft (if any): the builder starts again from the current version."""
    with tenant_scope(tenant.id), write_transaction(session):
        booking_type = get_booking_type(session, tenant, slug)
        draft = form_draft(session, booking_type)
        if draft is not None:
            session.delete(draft)


def publish_form_draft(session: Session, host: PluginHost, forms: FormRegistry, slot_rules: SlotRuleRegistry, tenant: Tenant, slug: str) -> FormVersion | None:
    """Publish booking type ``slug``'s draft as its next form version and drop the draft.

    Goes through :func:`update_booking_type`, as the merchant API's PATCH of ``form``/``ui`` does.
    A draft equal to the current version publishes nothing and returns ``None`` (the draft is dropped).

    :raises NotFound: if there is no booking type ``slug`` or it has no draft (code ``draft_not_found``).
    :raises InvalidInput: with the form's problems, pointers under ``/form`` and ``/ui``; the draft is kept.
    """
    with tenant_scope(tenant.id), write_transaction(session):
        booking_type = get_booking_type(session, tenant, slug)
        draft = form_draft(session, booking_type)
        if draft is None:
            raise NotFound(_l("booking type %(slug)r has no draft", slug=slug), code="draft_not_found")
        before = booking_type.form_version
        update_booking_type(session, host, forms, slot_rules, tenant, slug, form=draft.definition, ui=draft.ui)
        session.delete(draft)
        if booking_type.form_version == before:
            return None
        return current_form_version(session, booking_type)
