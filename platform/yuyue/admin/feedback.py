"""The inbox of reviews and feedback: filters, and for managers and owners a reply, hiding with a reason, handled (issue 15).

Every action calls the operation the merchant API calls (:mod:`yuyue.bookings.reviews`), so it is validated,
audited and announced the same way. Every staff role reads the inbox; phones are masked for the roles that
see them masked in the API. Texts are shown escaped (autoescape). Works without script.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from flask import abort, redirect, request, url_for
from flask_appbuilder import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from yuyue.admin.base import TenantAdminView, current_staff, requires
from yuyue.bookings import reviews
from yuyue.bookings.models import FeedbackKind
from yuyue.db import db
from yuyue.errors import Conflict, InvalidInput, NotFound
from yuyue.presenting.catalogs import locale_tag
from yuyue.presenting.customers import sees_in_full
from yuyue.presenting.reviews import feedback_names, staff_feedback_json
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

__all__ = ["VIEWS"]

PAGE_SIZE = 30
# The most of a posted text kept: one past every limit, so the operation judges the length.
LONGEST_INPUT = reviews.MAX_REPLY_LENGTH + 1
# The filters, and ``before``: the id the list continues before (the older page's link).
FILTERS = (*reviews.FEEDBACK_FILTER_NAMES, "before")


def _posted(name: str) -> str:
    return request.form.get(name, "")[:LONGEST_INPUT]


def _shown_filters() -> dict[str, str]:
    """The inbox's filters: the query string's, or on a form's answer those the form was sent from (``back``)."""
    source = dict(parse_qsl(request.form.get("back", "")[:2000])) if request.method == "POST" else request.args
    return {name: source.get(name, "")[:200] for name in FILTERS if source.get(name)}


class FeedbackView(TenantAdminView):
    area = "feedback"
    default_view = "page"
    nav_label = _l("Reviews and feedback")
    nav_order = 60
    nav_icon = "templates"
    min_role = StaffRole.staff

    @expose("/", methods=["GET"])
    def page(self) -> Any:
        return self._inbox(notice=_notice(request.args.get("done")))

    def _inbox(self, *, notice: str | None = None, refused: tuple[int, str] | None = None) -> Any:
        """The inbox as filtered; ``refused`` is an item's id and why an action on it was refused."""
        staff = current_staff()
        query = _shown_filters()
        problems: dict[str, str] = {}
        items: list[dict[str, Any]] = []
        older: str | None = None
        try:
            filters = reviews.feedback_filters_from_query({k: v for k, v in query.items() if k != "before"})
            before = query.get("before", "")
            before_id = int(before) if before.isdecimal() and len(before) < 10 else None
            found = reviews.search_feedback(db.session, staff.tenant, filters, before_id=before_id, limit=PAGE_SIZE)
        except InvalidInput as error:
            problems = {p.pointer.lstrip("/"): str(p.message) for p in error.errors}
        else:
            names, zone, locale = feedback_names(db.session, found.items), ZoneInfo(staff.tenant.time_zone), locale_tag()
            items = [
                {
                    **staff_feedback_json(i, names, zone, locale, full=sees_in_full(staff.role)),
                    "written": i.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                }
                for i in found.items
            ]
            older = url_for(".page", **{**query, "before": found.items[-1].id}) if found.more else None
        return self.render(
            "admin/feedback/inbox.html",
            items=items,
            query=query,
            problems=problems,
            older=older,
            kinds=[k.value for k in FeedbackKind],
            may_act=staff.allows(StaffRole.manager),
            back=urlencode(query),
            notice=notice,
            refused=refused,
        ), 422 if problems or refused else 200

    def _act(self, feedback_id: int, act: Any) -> Any:
        staff = current_staff()
        try:
            # Another tenant's item, or none, is a 404 page whatever the form holds.
            reviews.get_feedback(db.session, staff.tenant, feedback_id)
            act(staff)
        except NotFound:
            abort(404)
        except (InvalidInput, Conflict) as error:
            return self._inbox(refused=(feedback_id, next((str(p.message) for p in error.errors), str(error.message))))
        return redirect(url_for(".page", done="saved", **_shown_filters()) + f"#item-{feedback_id}", code=303)

    @expose("/<row_id:feedback_id>/reply", methods=["POST"])
    @requires(StaffRole.manager)
    def reply(self, feedback_id: int) -> Any:
        text = _posted("reply")
        return self._act(
            feedback_id, lambda staff: reviews.reply_to_feedback(db.session, staff.tenant, feedback_id, reply=text, now=utcnow(), actor=staff.actor)
        )

    @expose("/<row_id:feedback_id>/hide", methods=["POST"])
    @requires(StaffRole.manager)
    def hide(self, feedback_id: int) -> Any:
        reason = _posted("reason")
        return self._act(
            feedback_id, lambda staff: reviews.hide_feedback(db.session, staff.tenant, feedback_id, reason=reason, now=utcnow(), actor=staff.actor)
        )

    @expose("/<row_id:feedback_id>/unhide", methods=["POST"])
    @requires(StaffRole.manager)
    def unhide(self, feedback_id: int) -> Any:
        return self._act(feedback_id, lambda staff: reviews.unhide_feedback(db.session, staff.tenant, feedback_id, now=utcnow(), actor=staff.actor))

    @expose("/<row_id:feedback_id>/handled", methods=["POST"])
    @requires(StaffRole.manager)
    def handled(self, feedback_id: int) -> Any:
        handled = request.form.get("handled") == "true"
        return self._act(
            feedback_id, lambda staff: reviews.mark_handled(db.session, staff.tenant, feedback_id, handled=handled, now=utcnow(), actor=staff.actor)
        )


def _notice(code: str | None) -> str | None:
    return _("Saved.") if code == "saved" else None


VIEWS: tuple[type, ...] = (FeedbackView,)
