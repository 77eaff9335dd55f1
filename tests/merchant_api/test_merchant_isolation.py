"""Tenant isolation of the merchant API beyond the route matrix (tests/api/test_tenant_isolation_matrix.py).

The matrix calls every ``admin/`` route with an id under tenant A with tenant B's
ids, and every list and export; these cover the bookings desk's filters.
"""

from __future__ import annotations

import pytest
from merchant_setup import at


@pytest.fixture
def tenant_b_rows(make_type, make_coach, book):
    """Tenant B's booking type, resource and booking, with identifiers that tenant A does not have."""
    make_type("tenant-b", "b-only-tour")
    coach = make_coach("tenant-b", "b-only-coach")
    booking = book("tenant-b", at(9), "13900000009", name="B Customer", booking_type="b-only-tour")
    return {"slug": "b-only-tour", "code": coach.code, "public_id": booking.public_id, "voucher": booking.voucher_code}


def test_tenant_b_filters_find_nothing_under_tenant_a(manager, tenant_b_rows):
    for query in ({"booking_type": "b-only-tour"}, {"q": "13900000009"}, {"q": tenant_b_rows["voucher"]}, {"q": "B Customer"}):
        assert manager.get("/api/v1/t/tenant-a/admin/bookings", query_string=query).get_json()["bookings"] == [], query
