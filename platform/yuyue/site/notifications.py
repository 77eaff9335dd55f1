"""The customer's notification pages: preferences (email address, channels, optional messages) and the one-click unsubscribe.

The preferences page is a personal page like the others (signed in, ``no-store``, CSRF). The
unsubscribe link in an optional email (``/t/<tenant>/unsubscribe/<token>``) works without a
login: its token, signed with the application's secret, names the customer and the event.
GET shows a button and changes nothing (mail scanners follow links); POST mutes. The POST
carries no CSRF token: the signed token is the authority, and RFC 8058's one-click POST comes
from the mail client, which has no session (``site.base.TOKEN_AUTHORISED_ENDPOINTS``).
"""

from __future__ import annotations

from flask import Response, current_app, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from yuyue.bookings.placement import Actor
from yuyue.customers.models import Customer
from yuyue.db import db
from yuyue.errors import DomainError, NotFound
from yuyue.events.channel_settings import enabled_channels
from yuyue.notifying import preferences
from yuyue.notifying.templates import OPTIONAL_EVENTS
from yuyue.site.base import current_tenant, render_page, site
from yuyue.site.personal import NO_STORE, customer_or_login, error_message, personal_page


def _event_names() -> dict[str, str]:
    return {"booking.reminder": _("Reminders before a booking"), "booking.no_show": _("Missed-booking notices")}


def _preferences_page(customer: Customer, *, message: str | None = None, saved: bool = False, status: int = 200) -> Response:
    choices = preferences.preferences_of(db.session, customer.id)
    keys = enabled_channels(db.session, current_app)
    names = _event_names()
    return personal_page(
        "site/notifications.html",
        status=status,
        email=choices.email or "",
        channels=[{"key": key, "on": key not in choices.channels_off} for key in keys],
        events=[{"key": event, "name": names.get(event, event), "on": event not in choices.muted} for event in OPTIONAL_EVENTS],
        message=message,
        saved=saved,
    )


@site.route("/me/notifications", methods=["GET", "POST"], endpoint="notification_preferences")
def notification_preferences() -> Response | BaseResponse:
    """GET: the customer's choices. POST: save them (unchecked boxes are turned off)."""
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    if request.method == "GET":
        return _preferences_page(customer)
    keys = enabled_channels(db.session, current_app)
    try:
        preferences.set_preferences(
            db.session,
            current_tenant(),
            customer,
            email=request.form.get("email", "")[: preferences.MAX_EMAIL_LENGTH + 1],
            channels_off=[key for key in keys if not request.form.get(f"channel:{key}")],
            muted=[event for event in OPTIONAL_EVENTS if not request.form.get(f"event:{event}")],
            channels=keys,
            actor=str(Actor("customer", customer.id)),
        )
    except DomainError as error:
        return _preferences_page(customer, message=error_message(error), status=422)
    return _preferences_page(customer, saved=True)


@site.route("/unsubscribe/<name:token>", methods=["GET", "POST"], endpoint="unsubscribe")
def unsubscribe(token: str) -> Response:
    """GET: what the link turns off, and a button. POST (the button, or the mail client's RFC 8058 one-click): turn it off."""
    tenant = current_tenant()
    found = preferences.read_unsubscribe_token(current_app.config["SECRET_KEY"], token, tenant.slug)
    customer = db.session.get(Customer, found[0]) if found else None
    if customer is not None and customer.merged_into_id is not None:
        customer = db.session.get(Customer, customer.merged_into_id)  # a link sent before a merge: the choices moved to the survivor
    if customer is None:
        raise NotFound(_("This unsubscribe link is not valid."), code="unsubscribe_link_invalid")
    event = found[1]
    done = False
    if request.method == "POST":
        preferences.mute(db.session, tenant, customer, event, actor=str(Actor("customer", customer.id)))
        done = True
    return render_page("site/unsubscribe.html", headers=NO_STORE, what=_event_names().get(event, event), done=done)
