"""The check-in page (核销) for a phone or tablet at the door: one input for a voucher code or a QR payload, a big accept or refuse, and the day's log.

The page calls :func:`yuyue.bookings.checkin.check_in` exactly as the merchant API does, so
every attempt (the API's too) lands in the same log; a repeated scan, which the API answers
with the first check-in, is shown here as refused: the voucher was used.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_appbuilder import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from yuyue.admin.base import TenantAdminView, current_staff
from yuyue.admin.desk import page_helpers, page_locale
from yuyue.bookings.checkin import ALREADY_CHECKED_IN, check_in, check_in_log
from yuyue.bookings.queries import booking_record
from yuyue.db import db
from yuyue.errors import DomainError, InvalidInput
from yuyue.presenting.language import localize
from yuyue.presenting.staff import booking_json
from yuyue.types import utcnow

__all__ = ["VIEWS", "reason_text"]

# What the input takes at most: a QR payload is a few hundred characters.
MAX_INPUT = 1000
MAX_PLACE = 100


def reason_text(code: str | None, message: str | None = None) -> str:
    """Why a check-in was refused, in the words of the page's language; a plugin's own refusal in its message."""
    reasons = {
        ALREADY_CHECKED_IN: _("Already used: this voucher was checked in before."),
        "wrong_tenant": _("This voucher belongs to another merchant."),
        "invalid_voucher": _("This QR code was not issued by us or was altered."),
        "voucher_not_found": _("Unknown code: no booking has this voucher code."),
        "booking_cancelled": _("This booking was cancelled."),
        "booking_expired": _("This booking expired before it was paid."),
        "booking_no_show": _("This booking was marked as a no-show."),
        "not_paid": _("This booking has not been paid."),
        "wrong_day": _("Wrong day: this booking is for another day."),
        "too_early": _("Too early: check-in for this booking has not opened yet."),
        "slot_ended": _("Too late: this booking's slot has ended."),
    }
    return reasons.get(code or "", message or code or "")


def _is_qr_payload(text: str) -> bool:
    # A signed payload always has the signature after a dot; a voucher code never has one.
    return "." in text


class CheckInView(TenantAdminView):
    area = "check-in"
    default_view = "page"
    nav_label = _l("Check-in")
    nav_order = 30
    nav_icon = "scan"

    @expose("/", methods=["GET", "POST"])
    def page(self) -> Any:
        staff = current_staff()
        zone = ZoneInfo(staff.tenant.time_zone)
        form = {"code": "", "place": (request.form.get("place") or request.args.get("place") or "")[:MAX_PLACE]}
        result, error, status = None, None, 200
        if request.method == "POST":
            text = (request.form.get("code") or "").strip()
            if not text:
                error, status = _("Type or scan a voucher code."), 422
            elif len(text) > MAX_INPUT:
                error, status = _("This is not a voucher code or a QR payload."), 422
            else:
                result = self._check_in(text, form["place"] or None)
                if result is None:
                    error, status = _("This is not a voucher code or a QR payload."), 422
        log = check_in_log(db.session, staff.tenant, utcnow().astimezone(zone).date())
        return self.render(
            "admin/checkin/page.html",
            form=form,
            result=result,
            error=error,
            log=log,
            reason_text=reason_text,
            **page_helpers(zone),
        ), status

    @staticmethod
    def _check_in(text: str, place: str | None) -> dict[str, Any] | None:
        """Accepted or refused, with the booking when there is one; None when the input is not a code at all."""
        staff = current_staff()
        key = "qr" if _is_qr_payload(text) else "code"
        try:
            outcome = check_in(
                db.session,
                staff.tenant,
                secret_key=current_app.config["SECRET_KEY"],
                staff_user_id=staff.user.id,
                place=place,
                **{key: text},
            )
        except InvalidInput:
            return None
        except DomainError as refusal:
            return {"accepted": False, "reason": reason_text(refusal.code, refusal.message), "code": refusal.code, "booking": None}
        record = booking_record(db.session, staff.tenant, outcome.booking.public_id)
        booking = booking_json(record, staff.tenant) | {"type_name": localize(record.booking_type.name, page_locale())}
        if outcome.already_checked_in:
            return {"accepted": False, "reason": reason_text(ALREADY_CHECKED_IN), "code": ALREADY_CHECKED_IN, "booking": booking}
        return {"accepted": True, "reason": None, "code": None, "booking": booking}


VIEWS: tuple[type, ...] = (CheckInView,)
