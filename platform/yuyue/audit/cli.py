"""``yuyue audit``: check the audit chains from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from yuyue.audit.operations import check_chains
from yuyue.audit.operator_chain import check_operator_chain
from yuyue.db import db
from yuyue.tenancy.operations import get_tenant

audit_cli = AppGroup("audit", help="Check the hash-chained audit log.")


@audit_cli.command("verify")
@click.option("--tenant", "tenant_slug", metavar="SLUG", help="Check only this tenant's chain.")
def verify_command(tenant_slug: str | None) -> None:
    """Recompute every tenant's chain and the operator chain; exit 1 and name the first broken link of each chain that has one."""
    tenant_id = get_tenant(db.session, tenant_slug).id if tenant_slug else None
    report = check_chains(db.session, tenant_id)
    operator_break, operator_records = check_operator_chain(db.session) if tenant_slug is None else (None, 0)
    if report.ok and operator_break is None:
        click.echo(f"ok: {report.records} records in {report.tenants} tenants" + ("" if tenant_slug else f", {operator_records} in the operator chain"))
        return
    for found in [*report.breaks, *filter(None, [operator_break])]:
        click.echo(str(found))
    raise click.exceptions.Exit(1)
