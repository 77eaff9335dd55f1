"""Every operation of the live OpenAPI document, fuzzed by schemathesis against a seeded tenant.

The document is the one the application serves at /api/v1/openapi.json. Each
operation is its own test on a fresh database holding one tenant with a booking
type, a booking, a waitlist entry, a companion and a resource; requests carry
the token their operation's security scheme names. Whatever is sent, the answer
is never a 5xx and always matches what the document says: a documented status,
the documented content type, a body valid against the documented schema.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance
from schemathesis.config import SchemathesisConfig
from stdnum.cn import ric

from yuyue.api.auth import booking_token, customer_tokens
from yuyue.app import create_app
from yuyue.bookings import operations as bookings
from yuyue.bookings import waitlist
from yuyue.catalog.operations import create_booking_type, create_resource
from yuyue.customers.operations import customer_for_phone, save_companion
from yuyue.db import tenant_scope
from yuyue.forms.registry import form_registry
from yuyue.payments.operations import payment_instructions
from yuyue.plugins import plugin_host
from yuyue.scheduling.rules import current_registry
from yuyue.tenancy.models import StaffRole, TokenKind
from yuyue.tenancy.operations import create_tenant, create_token
from yuyue.types import utcnow

# Enough to find what a user can break, few enough for CI: ~45 operations × (coverage cases + this many).
# YUYUE_SCHEMATHESIS_EXAMPLES=500 searches harder, locally.
MAX_EXAMPLES = int(os.environ.get("YUYUE_SCHEMATHESIS_EXAMPLES", "15"))
# A fixed seed, so every run sends the same requests and CI never flakes on a newly generated case.
SEED = 20261209
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ZONE = ZoneInfo("Asia/Shanghai")
ID_NUMBER = "11010519900307001" + ric.calc_check_digit("11010519900307001?")
FORM = {"type": "object", "properties": {"name": {"type": "string", "x-field": "text", "minLength": 1}}, "required": ["name"]}


def _served_document() -> schemathesis.schemas.BaseSchema:
    # Serving the document needs no database; the tests below send each request to an application on the test database.
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "SECRET_KEY": "document-only-" + "k" * 32})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=SchemathesisConfig(seed=SEED))


schema = _served_document()


@dataclass
class Seeded:
    """What requests aim at: path parameters naming real rows, body fields and query parameters that pass, a token per security scheme."""

    path_parameters: dict[str, object]
    values: dict[str, list[object]]
    tokens: dict[str, dict[str, str]]


def _slot(hour: int) -> datetime:
    return datetime.combine((utcnow().astimezone(ZONE) + timedelta(days=7)).date(), time(hour), ZONE)


@pytest.fixture
def seeded(app, session) -> Seeded:
    """Tenant ``tenant-a`` with a priced type (a held booking awaiting payment) and a free one whose only place is taken (a waitlist entry)."""
    tenant = create_tenant(session, plugin_host(), slug="tenant-a", name="Tenant A", plugins={"exhibition": {}, "course": {}})
    create_tenant(session, plugin_host(), slug="operated", name="Operated", plugins={"exhibition": {}})
    for slug, price, capacity in (("entry", 2000, 20), ("free", 0, 1)):
        windows = [{"start": f"{hour:02}:00", "end": f"{hour + 1:02}:00", "capacity": capacity} for hour in (9, 10)]
        create_booking_type(
            session,
            plugin_host(),
            form_registry(),
            current_registry(),
            tenant,
            vertical="exhibition",
            slug=slug,
            name={"en": slug},
            availability_rules=[{"type": "fixed_windows", "params": {"windows": windows}}],
            form=FORM,
            ui={"order": ["name"], "fields": {}},
            price_amount=price,
        )
    create_resource(session, tenant, kind="coach", code="coach-li", name={"en": "Coach Li"})
    held = bookings.book(session, form_registry(), tenant, booking_type_slug="entry", starts_at=_slot(9), phone="13800000001", answers={"name": "Ann"})
    payment = payment_instructions(session, held)
    confirmed = bookings.book(session, form_registry(), tenant, booking_type_slug="free", starts_at=_slot(9), phone="13800000002", answers={"name": "Bo"})
    entry = waitlist.join(session, form_registry(), tenant, booking_type_slug="free", starts_at=_slot(9), phone="13800000001", answers={"name": "Ann"})
    with tenant_scope(tenant.id):
        customer = customer_for_phone(session, "13800000001")
        companion = save_companion(session, customer, "Li Lei", ID_NUMBER)
    _, staff = create_token(session, kind=TokenKind.staff, name="owner", tenant_slug="tenant-a", role=StaffRole.owner)
    _, operator = create_token(session, kind=TokenKind.operator, name="operator")
    with app.test_request_context():
        tokens = customer_tokens(customer)
        guest = booking_token(held)
    return Seeded(
        path_parameters={
            "public_id": held.public_id,
            "slug": "entry",
            "code": "coach-li",
            "entry_id": entry.id,
            "companion_id": companion.id,
            "provider": "sandbox",
            "reference": payment["reference"],
        },
        # Only values that would otherwise hardly ever be generated: a slug, a slot, a mobile, a valid ID number, a live token.
        values={
            "booking_type": ["entry", "free"],
            "starts_at": [_slot(9).isoformat(), _slot(10).isoformat()],
            "from": [_slot(9).date().isoformat()],
            "to": [_slot(9).date().isoformat()],
            "answers": [{"name": "Ann"}],
            "phone": ["13800000003"],
            "id_number": [ID_NUMBER],
            "refresh_token": [tokens["refresh_token"]],
            "vertical": ["exhibition", "course"],
            "code": [confirmed.voucher_code],
        },
        tokens={
            "staffToken": {"Authorization": f"Bearer {staff}"},
            "operatorToken": {"Authorization": f"Bearer {operator}"},
            "customerToken": {"Authorization": f"Bearer {tokens['access_token']}"},
            "bookingToken": {"X-Booking-Token": guest},
        },
    )


@schema.parametrize()
@schema.given(data=st.data())
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, data, app, seeded):
    operator_path = case.path.startswith("/api/v1/operator/")
    for name in case.path_parameters:
        if name == "tenant_slug":
            case.path_parameters[name] = "tenant-a"
        elif operator_path and name == "slug":
            case.path_parameters[name] = data.draw(st.sampled_from(["operated", case.path_parameters[name]]), label="slug")
        elif name in seeded.path_parameters:
            # Half the time a real row, so the operation gets past its lookup; otherwise whatever was generated.
            case.path_parameters[name] = data.draw(st.sampled_from([seeded.path_parameters[name], case.path_parameters[name]]), label=name)
    # Likewise for fields that name rows, slots or people, so a request can get as far as the booking rules.
    for fields in (case.body, case.query):
        for key in sorted(fields.keys() & seeded.values.keys()) if isinstance(fields, dict) else ():
            fields[key] = data.draw(st.sampled_from([*seeded.values[key], fields[key]]), label=key)
    schemes = [next(iter(requirement), None) for requirement in case.operation.definition.raw.get("security", [])] or [None]
    scheme = data.draw(st.sampled_from(schemes), label="security scheme")
    case.call_and_validate(app=app, headers=seeded.tokens.get(scheme, {}), checks=CHECKS)
