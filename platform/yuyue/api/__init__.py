"""REST API v1: customer, merchant and operator endpoints under /api/v1."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from flask_babel import lazy_gettext as _l
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

import yuyue.api.customer  # noqa: F401 - registers the customer routes on tenant_api
import yuyue.api.customer_account  # noqa: F401 - registers the customer's own account routes on tenant_api
import yuyue.api.customer_auth  # noqa: F401 - registers the customer login routes on tenant_api
import yuyue.api.merchant  # noqa: F401 - registers the merchant routes on tenant_api
from yuyue.api import (  # noqa: F401 - modules register their routes on v1 and tenant_api
    appearance,
    customer_notifications,
    customers,
    feedback,
    notification_channels,
    notification_templates,
    openapi,
    operator,
    packages,
    payments,
    privacy,
    privacy_notices,
    probes,
    stats,
    webhooks,
)
from yuyue.api.converters import init_converters
from yuyue.api.core import register_error_handlers, v1
from yuyue.api.problems import problem_response
from yuyue.api.tenant import tenant_api
from yuyue.db import db


@v1.get("/health")
def health() -> Response:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return problem_response(503, "database_unreachable", _l("the database cannot be reached"))
    return jsonify({"status": "ok"})


def init_api(app: Flask) -> None:
    init_converters(app)
    app.register_blueprint(v1)
    app.add_url_rule("/api/docs", "api_docs", openapi.api_docs)
    app.add_url_rule("/metrics", "metrics", probes.metrics)
    app.register_blueprint(tenant_api)
    register_error_handlers(app)
    # init_limits(app) runs in create_app once every blueprint (the site's too) is registered.
