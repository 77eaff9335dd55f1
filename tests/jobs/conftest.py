"""Job fixtures: the payment test set-up (a museum selling priced entries) and the built-in payment providers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The museum set-up is shared with the payment tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "payments"))

from payment_setup import BUILTIN, make_priced_type, make_tenant  # noqa: E402

from yuyue import plugins  # noqa: E402


@pytest.fixture(autouse=True)
def builtin_payment_providers(monkeypatch):
    """Load ``yuyue.payments.builtin`` in every application, whether or not DEFAULT_PLUGINS names it yet."""
    if BUILTIN not in plugins.DEFAULT_PLUGINS:
        monkeypatch.setattr(plugins, "DEFAULT_PLUGINS", (*plugins.DEFAULT_PLUGINS, BUILTIN))


@pytest.fixture
def tenant(session):
    return make_tenant(session)


@pytest.fixture
def entry(session, tenant):
    return make_priced_type(session, tenant)
