"""Job fixtures: the payment test set-up (a museum selling priced entries) and the built-in payment providers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The museum set-up is shared with the payment tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "payments"))

from payment_setup import make_priced_type, make_tenant  # noqa: E402


@pytest.fixture
def tenant(session):
    return make_tenant(session)


@pytest.fixture
def entry(session, tenant):
    return make_priced_type(session, tenant)
