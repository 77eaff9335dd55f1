"""Job fixtures: the payment tests' museum selling priced entries (``payment_setup``)."""

from __future__ import annotations

from payment_setup import entry, tenant  # noqa: F401 (fixtures: pytest finds them by name here)
