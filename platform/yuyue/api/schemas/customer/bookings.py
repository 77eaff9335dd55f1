"""A customer's bookings: booking a slot, reading, cancelling, rescheduling and paying for one, and a group's name list."""

from __future__ import annotations

from typing import Any

from yuyue.api.schemas import PRICE_LINES, PROOFS, TICKETS
from yuyue.api.schemas.customer.common import BOOKING_TOKEN, FIRST_YEAR, LAST_YEAR, NULLABLE_TIME, PREFIX, PUBLIC_ID, TENANT, TIME, operation
from yuyue.api.schemas.customer.reviews import FEEDBACK_ITEM
from yuyue.api.schemas.name_lists import UPLOAD, name_list_schema
from yuyue.bookings.models import BookingStatus
from yuyue.bookings.tickets import MAX_QUANTITY
from yuyue.catalog.tickets import MAX_TICKET_TYPES
from yuyue.types import bounded_integer

MAX_IDEMPOTENCY_KEY = 100

# --- request bodies -----------------------------------------------------------------

STARTS_AT = {
    "type": "string",
    "format": "date-time",
    "maxLength": 64,
    "description": f"the slot's start, ISO 8601 with a UTC offset, in the years {FIRST_YEAR} to {LAST_YEAR}",
}
BOOKING_REQUEST_FIELDS = {
    "booking_type": {"type": "string", "minLength": 1, "maxLength": 60, "description": "the booking type's slug"},
    "starts_at": STARTS_AT,
    "channel": {"type": "string", "minLength": 1, "maxLength": 40, "default": "default"},
    "party_size": {
        "type": "integer",
        "minimum": 1,
        "maximum": 1000,
        "description": "places booked; a real-name form (everyone named with an ID number) fixes it to the people named; "
        "otherwise the tickets' sum or the vertical's own field (attendees, seats) may say it instead, and any two given must agree; default 1",
    },
    "tickets": {
        "type": "object",
        "maxProperties": MAX_TICKET_TYPES,
        "propertyNames": {"minLength": 1, "maxLength": 40},
        "additionalProperties": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
        "description": 'places per ticket type of the booking type, e.g. {"adult": 2, "child": 1}; required when it sells more than one '
        "ticket type (with one, every place is of that type); on a real-name form each person needs a ticket whose age range fits them",
    },
    "answers": {"type": "object", "description": "the booking form's answers, validated against the booking type's form schema"},
    "privacy_consent": {
        "type": "object",
        "required": ["version"],
        "additionalProperties": False,
        "properties": {"version": bounded_integer(1, description="the version of the booking type's privacy_notice the customer was shown and agreed to")},
        "description": "required when the booking type has a privacy_notice: without it 422 consent_required; for another version than "
        "the current one 409 consent_outdated, whose current_version says which to show and send. Ignored when there is no notice",
    },
}
BOOKING_CREATE = {
    "type": "object",
    "required": ["booking_type", "starts_at", "answers"],
    "additionalProperties": False,
    "properties": {
        **BOOKING_REQUEST_FIELDS,
        "phone": {"type": "string", "minLength": 1, "maxLength": 30, "description": "required for a guest; a logged-in customer books as themself"},
    },
}
BOOKING_CANCEL = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"reason": {"type": "string", "maxLength": 200}},
}
BOOKING_RESCHEDULE = {
    "type": "object",
    "required": ["starts_at"],
    "additionalProperties": False,
    "properties": {"starts_at": STARTS_AT},
}

# --- answers --------------------------------------------------------------------------

PAYMENT_INSTRUCTIONS_PROPERTIES = {
    "provider": {"type": "string"},
    "reference": {"type": "string"},
    "status": {"type": "string"},
    "amount": bounded_integer(),
    "currency": {"type": "string"},
    "pay_by": {"type": ["string", "null"]},
    "kind": {"type": "string", "description": "offline (pay on site), redirect (open pay_url), or what the provider's SDK takes"},
    "message": {"description": "what to tell the customer: one string or a string per language"},
    "pay_url": {"type": ["string", "null"]},
    "params": {"type": "object", "description": "what a client passes to the provider's SDK (a mini-program's wx.requestPayment arguments, say)"},
}
PAYMENT_INSTRUCTIONS = {"type": "object", "properties": PAYMENT_INSTRUCTIONS_PROPERTIES}
BOOKING = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "booking_type": {"type": "string"},
        "status": {"enum": [s.value for s in BookingStatus]},
        "starts_at": TIME,
        "ends_at": TIME,
        "local_date": {"type": "string", "format": "date"},
        "channel": {"type": "string"},
        "party_size": bounded_integer(),
        "tickets": TICKETS,
        "price_lines": PRICE_LINES,
        "price_amount": bounded_integer(description="in minor units (fen): the total of price_lines, what is charged"),
        "currency": {"type": "string"},
        "hold_expires_at": NULLABLE_TIME,
        "form_version": bounded_integer(1),
        "answers": {"type": "object"},
        "stops": {
            "type": "array",
            "description": "the pick-up and drop-off points the answers name, with their names in every language and when the trip reaches them",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "name": {"type": ["string", "object"]},
                    "kind": {"enum": ["pickup", "dropoff", "both"]},
                    "at": TIME,
                },
            },
        },
        "voucher": {
            "type": ["object", "null"],
            "description": "when confirmed: the code to show at the gate, the signed payload of its QR code, and the proofs to bring",
            "properties": {"code": {"type": "string"}, "qr": {"type": "string"}, "proofs": PROOFS},
        },
        "payment": {
            "type": ["object", "null"],
            "description": "while held awaiting payment: the provider, reference, amount, pay-by time and what to do (pay_url and params for online providers)",
            "properties": PAYMENT_INSTRUCTIONS_PROPERTIES,
        },
        "open_payment": {
            "type": ["object", "null"],
            "description": "while held with no payment open yet: POST to url (…/bookings/{public_id}/pay) to open it and get what to do",
            "properties": {"method": {"const": "POST"}, "url": {"type": "string"}},
        },
        "reschedule_count": bounded_integer(),
        "created_at": TIME,
        "booking_token": {"type": "string", "description": "guests only, on creation: send it as X-Booking-Token to read or change this booking"},
        "review": {
            **FEEDBACK_ITEM,
            "type": ["object", "null"],
            "description": "the customer's review of the booking, with the merchant's reply; null: none yet",
        },
    },
}
NAME_LIST = name_list_schema("masked: the first six and last four characters", "masked: the first three and last four digits")
CANCELLED_BOOKING = {
    "type": "object",
    "properties": {
        **BOOKING["properties"],
        "cancellation": {
            "type": "object",
            "properties": {
                "terms": {"type": "string", "description": "on_time, late_deduct_points, late_fee, late_no_show"},
                "late": {"type": "boolean"},
                "points_deducted": bounded_integer(),
                "fee_percent": bounded_integer(),
                "counts_as_no_show": {"type": "boolean"},
            },
        },
    },
}

# --- routes ---------------------------------------------------------------------------

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
    "description": (
        "sending the same request again with the same key takes no second place and answers 200 with the first booking, but only to "
        "the logged-in customer who made it or a guest sending its X-Booking-Token; anyone else (a guest without the token too) "
        "gets 409 idempotency_key_reused with nothing of the booking, and a guest who lost the first answer logs in with a code "
        "sent to the phone to see it"
    ),
}

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/bookings": {
        "parameters": [TENANT],
        "post": operation(
            "Book a slot, as a logged-in customer or as a guest with a phone number; 200 when the caller's same request was made before with this Idempotency-Key",
            201,
            BOOKING,
            auth="optional",
            body=BOOKING_CREATE,
            parameters=[IDEMPOTENCY_KEY, BOOKING_TOKEN],
            errors=(400, 401, 409, 422, 429),
            described={
                409: "slot_full, a booking rule's code, consent_outdated (the privacy notice changed; current_version names the new one), "
                "or idempotency_key_reused: the key was used before, by another request or "
                "for a booking the caller neither made logged in nor holds the token of; the answer holds nothing of that booking",
                422: "validation_failed with each field's problem, or consent_required at /privacy_consent",
            },
        ),
    },
    f"{PREFIX}/bookings/{{public_id}}": {
        "parameters": [TENANT, PUBLIC_ID],
        "get": operation("One of the caller's bookings", 200, BOOKING, auth="optional", parameters=[BOOKING_TOKEN], errors=(401,)),
    },
    f"{PREFIX}/bookings/{{public_id}}/cancel": {
        "parameters": [TENANT, PUBLIC_ID],
        "post": operation(
            "Cancel one of the caller's bookings under its booking type's terms, which the answer shows",
            200,
            CANCELLED_BOOKING,
            auth="optional",
            body=BOOKING_CANCEL,
            body_required=False,
            parameters=[BOOKING_TOKEN],
            errors=(400, 401, 409, 422),
        ),
    },
    f"{PREFIX}/bookings/{{public_id}}/reschedule": {
        "parameters": [TENANT, PUBLIC_ID],
        "post": operation(
            "Move one of the caller's bookings to another slot of its type",
            200,
            BOOKING,
            auth="optional",
            body=BOOKING_RESCHEDULE,
            parameters=[BOOKING_TOKEN],
            errors=(400, 401, 409, 422),
        ),
    },
    f"{PREFIX}/bookings/{{public_id}}/pay": {
        "parameters": [TENANT, PUBLIC_ID],
        "post": operation(
            "Open the payment of one of the caller's held bookings, or answer with the one already open: what to do to pay; "
            "repeating it opens no second payment",
            200,
            PAYMENT_INSTRUCTIONS,
            auth="optional",
            parameters=[BOOKING_TOKEN],
            errors=(401, 409),
            described={
                409: "booking_not_held: only a held booking awaits payment (a confirmed, cancelled or expired one does not); "
                "nothing_to_pay: its hold ended or its payment was settled meanwhile"
            },
        ),
    },
    f"{PREFIX}/bookings/{{public_id}}/name-list": {
        "parameters": [TENANT, PUBLIC_ID],
        "get": operation("The name list of one of the caller's group bookings", 200, NAME_LIST, auth="optional", parameters=[BOOKING_TOKEN], errors=(401,)),
        "put": {
            **operation(
                "Upload the name list (团队名单) of one of the caller's group bookings, in place of the one before",
                200,
                NAME_LIST,
                auth="optional",
                parameters=[BOOKING_TOKEN],
                errors=(401, 409, 413, 415, 422),
                described={
                    409: "name_list_closed: the booking is not held or confirmed, or its visit started; name_list_not_applicable: its form names "
                    "everyone it admits; or a policy refuses someone listed (quota_exceeded, banned, …), pointed at the row",
                    422: "unreadable_name_list, empty_name_list, name_list_too_large, or validation_failed with each row's problems "
                    "(/rows/<index>/<column>: required, invalid_name, id_card_checksum, duplicate_id_number, formula_not_allowed, too_many_rows, …)",
                },
            ),
            "requestBody": UPLOAD,
        },
    },
}
