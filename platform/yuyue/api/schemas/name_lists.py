"""A group booking's name list in the OpenAPI document: the file a customer or staff uploads, and the list they read back."""

from __future__ import annotations

from typing import Any

from yuyue.bookings.name_lists import CSV_MEDIA_TYPE, MAX_BYTES, MAX_ROWS, XLSX_MEDIA_TYPE
from yuyue.types import bounded_integer

UPLOAD_DESCRIPTION = (
    f"The list as the raw request body, an xlsx workbook (its first sheet) or a csv file (UTF-8, or GBK: name the charset or let it be detected), "
    f"at most {MAX_BYTES // 1024} KiB and {MAX_ROWS} rows. The first row holds the headers: 姓名/name and 证件号码/身份证号/id_number are required, "
    "手机/phone is optional, other columns are ignored. Every ID number must pass the GB 11643 checksum and appear once; formulas are refused. "
    "The list replaces the one before; a row with the leader's ID number is the leader. Problems point at /rows/<index>/<column>, "
    "counting the rows under the header that are not blank from 0."
)
UPLOAD: dict[str, Any] = {
    "required": True,
    "description": UPLOAD_DESCRIPTION,
    "content": {
        XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary", "maxLength": MAX_BYTES}},
        CSV_MEDIA_TYPE: {"schema": {"type": "string", "maxLength": MAX_BYTES}},
    },
}


def name_list_schema(id_number: str, phone: str) -> dict[str, Any]:
    """The list as read back; ``id_number`` and ``phone`` say how each is shown."""
    text = {"type": ["string", "null"]}
    return {
        "type": "object",
        "properties": {
            "booking": {"type": "string", "description": "the booking's id"},
            "headcount": bounded_integer(description="the people the booking admits, its leader included"),
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "id_number": {"type": "string", "description": id_number},
                        "phone": {**text, "description": phone},
                        "is_minor": {"type": "boolean"},
                    },
                },
            },
        },
    }
