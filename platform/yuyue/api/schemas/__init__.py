"""The bodies API v1 validates and each route's OpenAPI description beside them, one module per resource.

The handler modules (:mod:`yuyue.api.customer`, :mod:`yuyue.api.merchant`)
validate requests with these very schemas, so the document cannot drift from
what the endpoints accept.
"""

from __future__ import annotations

from yuyue.types import bounded_integer

LOCALIZED = {"description": "localized text: one string, or a string per language (zh-Hans, zh-Hant, en)"}
# A booking's tickets and the lines of its price, as customers and staff read them alike.
TICKETS = {
    "type": "object",
    "additionalProperties": bounded_integer(1),
    "description": 'places per ticket type, e.g. {"adult": 2, "child": 1}; empty when the booking type sells no ticket types',
}
PRICE_LINE = {
    "type": "object",
    "properties": {
        "key": {"type": "string", "description": "the ticket type's key, or place when the booking type sells none"},
        "label": LOCALIZED,
        "unit_amount": bounded_integer(description="in minor units (fen)"),
        "quantity": bounded_integer(),
        "amount": bounded_integer(description="unit_amount × quantity"),
        "proof": {**LOCALIZED, "description": "what to show at the entrance for these places (e.g. a student card), or null"},
    },
}
PRICE_LINES = {"type": "array", "items": PRICE_LINE, "description": "the price as charged, line by line; price_amount is their total"}
PROOFS = {
    "type": "array",
    "description": "the tickets whose holders show a proof at the entrance, e.g. 学生证 for each student",
    "items": {"type": "object", "properties": {"key": {"type": "string"}, "label": LOCALIZED, "quantity": bounded_integer(), "proof": LOCALIZED}},
}
