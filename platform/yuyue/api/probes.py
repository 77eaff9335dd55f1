"""What the platform answers its operators' machines: readiness at /api/v1/ready and Prometheus metrics at /metrics.

Liveness (/api/v1/health) stays beside the blueprint in ``api/__init__.py``.
"""

from __future__ import annotations

import hmac

from flask import Response, current_app, jsonify, request
from flask_babel import lazy_gettext as _l

from yuyue.api.core import v1
from yuyue.api.problems import problem_response
from yuyue.db import db
from yuyue.observability.metrics import CONTENT_TYPE, scrape
from yuyue.observability.readiness import readiness_checks


@v1.get("/ready")
def ready() -> Response:
    checks = readiness_checks(current_app, db.session)
    documented = {check.name: check.as_json() for check in checks}
    if all(check.ok for check in checks):
        return jsonify({"status": "ready", "checks": documented})
    failed = ", ".join(check.name for check in checks if not check.ok)
    return problem_response(503, "not_ready", _l("not ready to serve: %(failed)s", failed=failed), extensions={"checks": documented})


def metrics() -> Response:
    """Every metric in Prometheus's text format; behind ``Authorization: Bearer <YUYUE_METRICS_TOKEN>`` when that is set. Not rate limited."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(offered.strip().encode(), token.encode()):
            return problem_response(
                401, "unauthorized", _l("send the metrics token as 'Authorization: Bearer <token>'"), headers={"WWW-Authenticate": "Bearer"}
            )
    return Response(scrape(db.session), mimetype=None, content_type=CONTENT_TYPE)
