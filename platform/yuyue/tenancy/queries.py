"""Finding a tenant: reads the areas below provisioning need too (the audit's ``yuyue audit verify --tenant``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from yuyue.errors import NotFound
from yuyue.tenancy.models import Tenant

__all__ = ["get_tenant"]

_TENANT_BY_SLUG = select(Tenant).where(Tenant.slug == bindparam("slug"))


def get_tenant(session: Session, slug: str) -> Tenant:
    """:raises NotFound: if there is no tenant ``slug``."""
    tenant = session.scalar(_TENANT_BY_SLUG, {"slug": slug})
    if tenant is None:
        raise NotFound(_l("no tenant %(slug)r", slug=slug), code="tenant_not_found")
    return tenant
