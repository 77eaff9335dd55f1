"""Bookings exported as an Excel workbook or csv, filtered as a search is."""

from __future__ import annotations

from typing import Any

from yuyue.api.schemas.merchant.bookings import FILTER_PARAMETERS
from yuyue.api.schemas.merchant.common import PREFIX, TENANT_PARAMETER, operation
from yuyue.bookings.queries import FILTER_NAMES
from yuyue.exports.operations import CSV_MIMETYPE, XLSX_MIMETYPE
from yuyue.tenancy.models import StaffRole

EXPORT_QUERY = FILTER_NAMES


def _export(summary: str, mimetype: str) -> dict[str, Any]:
    download = {"content": {mimetype: {"schema": {"type": "string", "format": "binary"}}}}
    return {"parameters": [TENANT_PARAMETER], "get": operation(summary, StaffRole.staff, 200, download, parameters=FILTER_PARAMETERS, errors=(422,))}


OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/exports/bookings.xlsx": _export("Export bookings as an Excel workbook, times in the tenant's zone", XLSX_MIMETYPE),
    f"{PREFIX}/exports/bookings.csv": _export("Export bookings as UTF-8 csv, times in the tenant's zone", CSV_MIMETYPE),
}
