"""Statistics of a period, as JSON and as csv/xlsx tables: what each answer holds and the period's query parameters."""

from __future__ import annotations

from typing import Any

from yuyue.api.schemas.merchant.common import PREFIX, TENANT_PARAMETER, json_content, operation, query_parameter
from yuyue.stats.period import DEFAULT_DAYS, MAX_DAYS, MAX_DAYS_AHEAD
from yuyue.stats.tables import CSV_MIMETYPE, TABLES, XLSX_MIMETYPE
from yuyue.tenancy.models import StaffRole
from yuyue.types import MAX_INTEGER, bounded_integer

# Figures are the merchant's business numbers (revenue among them): managers and owners read them, the front desk does not.
STATS_ROLE = StaffRole.manager

PERIOD_PARAMETERS = [
    query_parameter(
        "from",
        f"first local date of the period (inclusive); default {DEFAULT_DAYS - 1} days before to; not before 2000-01-01",
        {"type": "string", "format": "date", "maxLength": 10},
    ),
    query_parameter(
        "to",
        f"last local date (inclusive), at most {MAX_DAYS} days from from and {MAX_DAYS_AHEAD} days after today; default today, or from + {DEFAULT_DAYS - 1}",
        {"type": "string", "format": "date", "maxLength": 10},
    ),
    query_parameter("booking_type", "only this booking type's bookings and slots (its slug)", {"type": "string", "maxLength": 60}),
]
RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1, "description": "a fraction to four decimals; null when its denominator is 0"}
COUNT = bounded_integer()
LOCALIZED_NAME = {"type": ["string", "null"], "description": "in the reader's language (Accept-Language)"}
PERIOD = {
    "type": "object",
    "required": ["from", "to", "time_zone", "booking_type"],
    "properties": {
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "time_zone": {"type": "string", "description": "the tenant's IANA zone: dates and hours are its wall clock"},
        "booking_type": {"type": ["string", "null"]},
    },
}
MONEY = {
    "type": "object",
    "required": ["currency", "collected", "refunded", "net"],
    "properties": {
        "currency": {"type": "string"},
        "collected": bounded_integer(description="paid by the payments of the period's bookings, in minor units (fen)"),
        "refunded": bounded_integer(description="of that, refunded or owed back"),
        "net": bounded_integer(-MAX_INTEGER, description="collected minus refunded"),
    },
}


def _answer(properties: dict[str, Any]) -> dict[str, Any]:
    return json_content({"type": "object", "required": ["period", *properties], "properties": {"period": PERIOD, **properties}})


SUMMARY = _answer(
    {
        "bookings": {
            "type": "object",
            "properties": {
                "placed": {**COUNT, "description": "every booking of a slot in the period but expired holds"},
                "kept": {**COUNT, "description": "placed and not cancelled"},
                "places": {**COUNT, "description": "places (party sizes) of the kept bookings"},
                "cancelled": COUNT,
                "no_shows": COUNT,
                "attendance_settled": {**COUNT, "description": "checked in, completed or no-show: the no-show rate's denominator"},
                "by_status": {"type": "object", "additionalProperties": COUNT},
            },
        },
        "cancellation_rate": {**RATE, "description": "cancelled / placed"},
        "no_show_rate": {**RATE, "description": "no-shows / attendance_settled"},
        "utilisation": {
            "type": "object",
            "properties": {"slots": COUNT, "capacity": COUNT, "taken": COUNT, "rate": {**RATE, "description": "taken / capacity over every slot"}},
        },
        "revenue": {"type": "array", "items": MONEY, "description": "one entry per currency"},
    }
)
HEATMAP = _answer(
    {
        "cells": {
            "type": "array",
            "minItems": 168,
            "maxItems": 168,
            "description": "kept bookings by the local weekday and hour their slot starts, Monday 00:00 first",
            "items": {
                "type": "object",
                "properties": {"weekday": bounded_integer(0, 6, description="0 = Monday"), "hour": bounded_integer(0, 23), "bookings": COUNT, "places": COUNT},
            },
        }
    }
)
BY_BOOKING_TYPE = _answer(
    {
        "booking_types": {
            "type": "array",
            "description": "most kept bookings first",
            "items": {
                "type": "object",
                "properties": {
                    "slug": {"type": "string"},
                    "name": LOCALIZED_NAME,
                    "bookings": COUNT,
                    "places": COUNT,
                    "cancelled": COUNT,
                    "no_shows": COUNT,
                    "revenue": {"type": "array", "items": MONEY},
                },
            },
        },
        "ticket_types": {
            "type": "array",
            "description": "places sold per ticket type by kept bookings, most first",
            "items": {
                "type": "object",
                "properties": {"booking_type": {"type": "string"}, "ticket_type": {"type": "string"}, "name": LOCALIZED_NAME, "places": COUNT},
            },
        },
    }
)
BY_RESOURCE = _answer(
    {
        "resources": {
            "type": "array",
            "description": "kept bookings holding each resource (by themselves or through their slot), most first",
            "items": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "kind": {"type": "string"}, "name": LOCALIZED_NAME, "bookings": COUNT, "places": COUNT},
            },
        }
    }
)
SLOT = {
    "type": "object",
    "properties": {
        "booking_type": {"type": "string"},
        "starts_at": {"type": "string", "format": "date-time", "description": "with the tenant's UTC offset"},
        "capacity": COUNT,
        "taken": COUNT,
        "utilisation": RATE,
        "closed": {"type": "boolean", "description": "called off (below its minimum)"},
    },
}
SLOTS = _answer(
    {
        "utilisation": {"type": "object", "properties": {"slots": COUNT, "capacity": COUNT, "taken": COUNT, "rate": RATE}},
        "busiest": {"type": "array", "items": SLOT, "description": "the slots with most places taken, at most 10"},
        "slots": {"type": "array", "items": SLOT, "description": "every slot of the period, those nobody booked included, by start"},
    }
)

AVERAGE = {"type": ["number", "null"], "minimum": 1, "maximum": 5, "description": "the average rating, to two decimals"}
RATED = {"reviews": COUNT, "average": AVERAGE}
RATINGS = _answer(
    {
        "booking_types": {
            "type": "array",
            "description": "each booking type reviewed, most reviews first",
            "items": {"type": "object", "properties": {"slug": {"type": "string"}, "name": LOCALIZED_NAME, **RATED}},
        },
        "resources": {
            "type": "array",
            "description": "each resource the reviews name, most reviews first",
            "items": {"type": "object", "properties": {"code": {"type": "string"}, "name": LOCALIZED_NAME, **RATED}},
        },
        "months": {
            "type": "array",
            "description": "by the local month of the booking's slot, in order; months without reviews left out",
            "items": {"type": "object", "properties": {"month": {"type": "string", "description": "YYYY-MM"}, **RATED}},
        },
    }
)

FIGURES = {
    "summary": ("Counts, cancellation and no-show rates, slot utilisation and revenue of a period", SUMMARY),
    "heatmap": ("Kept bookings by local hour of the week (7 × 24 cells)", HEATMAP),
    "by-booking-type": ("Bookings, cancellations, no-shows and revenue per booking type; places per ticket type", BY_BOOKING_TYPE),
    "by-resource": ("Kept bookings per resource", BY_RESOURCE),
    "slots": ("Every slot of the period with capacity and places taken; the busiest", SLOTS),
    "ratings": ("Average rating and number of reviews per booking type, per resource and per month, of bookings in the period (hidden ones too)", RATINGS),
}


def _download(summary: str, mimetype: str) -> dict[str, Any]:
    content = {"content": {mimetype: {"schema": {"type": "string", "format": "binary"}}}}
    return {"parameters": [TENANT_PARAMETER], "get": operation(summary, STATS_ROLE, 200, content, parameters=PERIOD_PARAMETERS, errors=(422,))}


OPENAPI_PATHS: dict[str, Any] = {
    **{
        f"{PREFIX}/stats/{figure}": {
            "parameters": [TENANT_PARAMETER],
            "get": operation(summary, STATS_ROLE, 200, answer, parameters=PERIOD_PARAMETERS, errors=(422,)),
        }
        for figure, (summary, answer) in FIGURES.items()
    },
    **{f"{PREFIX}/stats/{table}.csv": _download(f"The {table} table of a period as UTF-8 csv", CSV_MIMETYPE) for table in TABLES},
    **{f"{PREFIX}/stats/{table}.xlsx": _download(f"The {table} table of a period as an Excel workbook", XLSX_MIMETYPE) for table in TABLES},
}
