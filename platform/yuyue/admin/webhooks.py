"""The webhooks page: the tenant's endpoints, their topics and secret, pings, the delivery log and redeliveries (managers and owners).

Every write calls the operation the merchant API calls (:mod:`yuyue.events.webhooks`), so an
endpoint added or changed here is validated and audited the same way. A secret is shown in the
answer to the creation or rotation that made it, never again: that answer is a page, not a redirect.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, redirect, request, url_for
from flask_appbuilder import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from yuyue.admin.base import TenantAdminView, current_staff
from yuyue.db import db
from yuyue.errors import Conflict, InvalidInput, NotFound
from yuyue.events import webhooks
from yuyue.events.models import Delivery, DeliveryAttempt, WebhookEndpoint
from yuyue.tenancy.models import StaffRole

__all__ = ["VIEWS"]

# Deliveries a page of the log shows, and the last few the list shows per endpoint.
LOG_PAGE = 20
RECENT = 3
ALL_TOPICS = "*"
# A page that shows a secret is kept in no cache, the browser's included.
NOT_STORED = {"Cache-Control": "no-store"}


def _allowances() -> dict[str, bool]:
    return {"allow_http": current_app.config.get("WEBHOOKS_ALLOW_HTTP", False), "allow_private": current_app.config.get("WEBHOOKS_ALLOW_PRIVATE", False)}


def _when(moment: Any) -> str:
    """A moment in the tenant's time zone, to the second, as the page shows it."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(current_staff().tenant.time_zone)).strftime("%Y-%m-%d %H:%M:%S")


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    try:
        return webhooks.get_endpoint(db.session, endpoint_id)
    except NotFound:
        abort(404)


def _delivery_row(delivery: Delivery, attempts: list[DeliveryAttempt]) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "topic": delivery.topic,
        "status": delivery.status.value,
        "attempt_count": delivery.attempts,
        "created_at": _when(delivery.created_at),
        "next_attempt_at": _when(delivery.next_attempt_at) if delivery.status.value == "pending" else "",
        "last_error": delivery.last_error,
        "attempts": [
            {
                "at": _when(attempt.attempted_at),
                "succeeded": attempt.succeeded,
                "response_status": attempt.response_status,
                "latency_ms": attempt.latency_ms,
                "error": attempt.error,
            }
            for attempt in attempts
        ],
    }


def _topic_choices() -> list[tuple[str, str]]:
    return [(topic, str(line)) for topic, line in webhooks.WEBHOOK_TOPICS.items()]


def _problems(invalid: InvalidInput) -> dict[str, str]:
    """Problems by field (``url``, ``topics``, ``description``); a topic's problem is the list's."""
    errors: dict[str, str] = {}
    for problem in invalid.errors:
        field = problem.pointer.lstrip("/").split("/")[0] or "url"
        errors.setdefault(field, str(problem.message))
    if not errors:
        errors["url"] = str(invalid.message)
    return errors


def _posted_endpoint() -> dict[str, Any]:
    topics = [topic[:60] for topic in request.form.getlist("topics")[: webhooks.MAX_TOPIC_PATTERNS]]
    return {"url": (request.form.get("url") or "").strip()[:500], "description": (request.form.get("description") or "").strip()[:200], "topics": topics}


class WebhooksView(TenantAdminView):
    area = "webhooks"
    default_view = "page"
    nav_label = _l("Webhooks")
    nav_order = 84
    nav_icon = "webhooks"
    min_role = StaffRole.manager

    def _list(
        self,
        *,
        form: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        created: tuple[WebhookEndpoint, str] | None = None,
        notice: str | None = None,
    ) -> tuple[str, int]:
        endpoints = webhooks.list_endpoints(db.session)
        recent = {
            endpoint.id: [
                _delivery_row(delivery, attempts) for delivery, attempts in webhooks.endpoint_deliveries(db.session, endpoint.id, limit=RECENT).deliveries
            ]
            for endpoint in endpoints
        }
        return self.render(
            "admin/webhooks/list.html",
            endpoints=endpoints,
            recent=recent,
            when=_when,
            topic_choices=_topic_choices(),
            form=form or {"url": "", "description": "", "topics": []},
            errors=errors or {},
            created=created,
            notice=notice_text(notice),
            most=webhooks.MAX_ENDPOINTS,
        ), 422 if errors else 200

    def _detail(
        self,
        endpoint: WebhookEndpoint,
        *,
        form: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        secret: str | None = None,
        notice: str | None = None,
    ) -> tuple[str, int]:
        before = request.args.get("before", "")
        before_id = int(before) if before.isdecimal() and len(before) < 10 else None
        page = webhooks.endpoint_deliveries(db.session, endpoint.id, limit=LOG_PAGE, before=before_id)
        known = set(webhooks.WEBHOOK_TOPICS)
        return self.render(
            "admin/webhooks/detail.html",
            endpoint=endpoint,
            when=_when,
            topic_choices=_topic_choices(),
            other_patterns=[pattern for pattern in endpoint.topics if pattern not in known and pattern != ALL_TOPICS],
            form=form or {"url": endpoint.url, "description": endpoint.description, "topics": list(endpoint.topics)},
            errors=errors or {},
            secret=secret,
            notice=notice_text(notice or request.args.get("done")),
            deliveries=[_delivery_row(delivery, attempts) for delivery, attempts in page.deliveries],
            next_before=page.next_before,
        ), 422 if errors else 200

    @expose("/", methods=["GET"])
    def page(self) -> Any:
        return self._list(notice=request.args.get("done"))

    @expose("/", methods=["POST"])
    def add(self) -> Any:
        staff = current_staff()
        form = _posted_endpoint()
        try:
            endpoint = webhooks.create_endpoint(db.session, **form, actor=str(staff.actor), **_allowances())
        except InvalidInput as invalid:
            return self._list(form=form, errors=_problems(invalid))
        except Conflict as conflict:
            return self._list(form=form, errors={"url": str(conflict.message)})
        # The one time the secret is shown: this answer, not a page the browser could reload.
        return (*self._list(created=(endpoint, endpoint.secret)), NOT_STORED)

    @expose("/<row_id:webhook>", methods=["GET"])
    def detail(self, webhook: int) -> Any:
        return self._detail(_endpoint(webhook))

    @expose("/<row_id:webhook>", methods=["POST"])
    def change(self, webhook: int) -> Any:
        found = _endpoint(webhook)
        form = _posted_endpoint()
        try:
            webhooks.update_endpoint(db.session, found.id, form, actor=str(current_staff().actor), **_allowances())
        except InvalidInput as invalid:
            return self._detail(found, form=form, errors=_problems(invalid))
        return redirect(url_for(".detail", webhook=found.id, done="saved"))

    @expose("/<row_id:webhook>/delete", methods=["POST"])
    def delete(self, webhook: int) -> Any:
        found = _endpoint(webhook)
        webhooks.delete_endpoint(db.session, found.id, actor=str(current_staff().actor))
        return redirect(url_for(".page", done="deleted"))

    @expose("/<row_id:webhook>/enable", methods=["POST"])
    def enable(self, webhook: int) -> Any:
        found = _endpoint(webhook)
        webhooks.enable_endpoint(db.session, found.id, actor=str(current_staff().actor))
        return redirect(url_for(".detail", webhook=found.id, done="enabled"))

    @expose("/<row_id:webhook>/rotate-secret", methods=["POST"])
    def rotate(self, webhook: int) -> Any:
        found = _endpoint(webhook)
        rotated = webhooks.rotate_secret(db.session, found.id, actor=str(current_staff().actor))
        return (*self._detail(rotated, secret=rotated.secret), NOT_STORED)

    @expose("/<row_id:webhook>/ping", methods=["POST"])
    def ping(self, webhook: int) -> Any:
        found = _endpoint(webhook)
        try:
            webhooks.ping_endpoint(db.session, found.id, actor=str(current_staff().actor))
        except Conflict:
            return redirect(url_for(".detail", webhook=found.id, done="disabled"))
        return redirect(url_for(".detail", webhook=found.id, done="pinged"))

    @expose("/<row_id:webhook>/deliveries/<row_id:delivery>/redeliver", methods=["POST"])
    def redeliver(self, webhook: int, delivery: int) -> Any:
        found = _endpoint(webhook)
        try:
            webhooks.redeliver(db.session, found.id, delivery, actor=str(current_staff().actor))
        except NotFound:
            abort(404)
        except Conflict as conflict:
            return redirect(url_for(".detail", webhook=found.id, done="disabled" if conflict.code == "webhook_disabled" else "in-flight"))
        return redirect(url_for(".detail", webhook=found.id, done="redelivering"))


def notice_text(code: str | None) -> str | None:
    """What the page says after an action (``?done=…``)."""
    notices = {
        "saved": _("The endpoint is saved."),
        "deleted": _("The endpoint is deleted."),
        "enabled": _("The endpoint is enabled again."),
        "pinged": _("A test event is on its way; it appears in the log below."),
        "redelivering": _("The delivery is sent again; its new attempt appears in the log."),
        "disabled": _("The endpoint is disabled: enable it first."),
        "in-flight": _("This delivery is being sent right now; try again in a moment."),
    }
    return notices.get(code or "")


VIEWS: tuple[type, ...] = (WebhooksView,)
