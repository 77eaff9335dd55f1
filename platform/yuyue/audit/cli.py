"""``yuyue audit``: check the audit chains from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from yuyue.audit.operations import check_chains
from yuyue.db import db
from yuyue.tenancy.operations import get_tenant

audit_cli = AppGroup("audit", help="Check the hash-chained audit log.")


@audit_cli.command("verify")
@click.option("--tenant", "tenant_slug", metavar="SLUG", help="Check only this tenant's chain.")
def verify_command(tenant_slug: str | None) -> None:
    """Recompute every tenant's chain; exit 1 and name the first broken link of each tenant that has one."""
    tenant_id = get_tenant(db.session, tenant_slug).id if tenant_slug else None
    report = check_chains(db.session, tenant_id)
    if report.ok:
        click.echo(f"ok: {report.records} records in {report.tenants} tenants")
        return
    for found in report.breaks:
        click.echo(str(found))
    raise click.exceptions.Exit(1)
