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

import hypothesis.strategies as st
import pytest
import schemathesis
from api_setup import Seeded, seed
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance
from schemathesis.config import SchemathesisConfig

from yuyue.app import create_app

# Enough to find what a user can break, few enough for CI: ~45 operations × (coverage cases + this many).
# YUYUE_SCHEMATHESIS_EXAMPLES=500 searches harder, locally.
MAX_EXAMPLES = int(os.environ.get("YUYUE_SCHEMATHESIS_EXAMPLES", "15"))
# A fixed seed, so every run sends the same requests and CI never flakes on a newly generated case.
SEED = 20261209
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _served_document() -> schemathesis.schemas.BaseSchema:
    # Serving the document needs no database; the tests below send each request to an application on the test database.
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "SECRET_KEY": "document-only-" + "k" * 32})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=SchemathesisConfig(seed=SEED))


schema = _served_document()


@pytest.fixture
def seeded(app, session) -> Seeded:
    return seed(app, session)


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
