"""The tenant-scoped part of API v1: ``/api/v1/t/<tenant>/…`` for customers and merchants.

The tenant is resolved once from the URL, before any view runs: an unknown
tenant is a 404 problem, a suspended one a 403 ``tenant_suspended`` (except
for views marked :func:`serves_suspended_tenants`), and the rest of the request
runs inside that tenant's scope, so every query the views and operations make
is filtered to it by the session.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any, TypeVar

from flask import Blueprint, current_app, g
from flask_babel import lazy_gettext as _l

from yuyue.api.problems import ApiProblem
from yuyue.db import db, tenant_scope
from yuyue.provisioning.operations import get_tenant
from yuyue.tenancy.models import Tenant, TenantStatus

tenant_api = Blueprint("api_tenant", __name__, url_prefix="/api/v1/t/<slug:tenant_slug>")

View = TypeVar("View", bound=Callable[..., Any])

_SERVES_SUSPENDED = "yuyue_serves_suspended_tenants"


def serves_suspended_tenants(view: View) -> View:
    """Let ``view`` answer for a suspended tenant too; every other view of the tenant API answers 403.

    For what must keep working after a merchant is suspended because it settles
    something that already happened (a payment provider's notification). Put it
    under the route decorator, so the registered view carries the mark.
    """
    setattr(view, _SERVES_SUSPENDED, True)
    return view


def _serves_suspended(endpoint: str | None) -> bool:
    view = current_app.view_functions.get(endpoint) if endpoint else None
    return bool(getattr(view, _SERVES_SUSPENDED, False))


@tenant_api.url_value_preprocessor
def _enter_tenant(endpoint: str | None, values: dict[str, Any] | None) -> None:
    tenant = get_tenant(db.session, (values or {}).pop("tenant_slug", ""))
    if tenant.status is not TenantStatus.active and not _serves_suspended(endpoint):
        raise ApiProblem(403, "tenant_suspended", _l("%(name)s is suspended", name=tenant.name))
    g.tenant = tenant
    g.tenant_scope = ExitStack()
    g.tenant_scope.enter_context(tenant_scope(tenant.id))


@tenant_api.teardown_request
def _leave_tenant(error: BaseException | None) -> None:
    scope: ExitStack | None = g.pop("tenant_scope", None)
    if scope is not None:
        scope.close()


def current_tenant() -> Tenant:
    return g.tenant
