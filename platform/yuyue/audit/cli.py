"""``yuyue audit``: verify the audit chains and the rows they vouch for, make signing keys, sign checkpoints."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from yuyue.audit.checkpoints import (
    CheckpointError,
    generate_key,
    key_id,
    load_public_key,
    load_signing_key,
    public_key_text,
    read_checkpoints,
    write_checkpoints,
)
from yuyue.audit.operations import check_chains
from yuyue.audit.operator_chain import check_operator_chain
from yuyue.db import db
from yuyue.tenancy.queries import get_tenant

audit_cli = AppGroup("audit", help="Verify the hash-chained audit log and the rows it vouches for; sign checkpoints of it.")


def _usable(call, *args):
    """Run ``call``; a key or checkpoint file that cannot be used becomes one error line."""
    try:
        return call(*args)
    except CheckpointError as error:
        raise click.ClickException(str(error)) from None


def check_everything(session, tenant_id: int | None = None, *, pins=None) -> tuple[list, str]:
    """What ``audit verify`` checks, and ``restore`` after it: every tenant's chain (or ``tenant_id``'s) and the rows it
    vouches for, against ``pins`` (signed checkpoints) when given, and for the whole installation the operator chain.

    Returns the findings and the summary its ``ok:`` line shows.
    """
    report = check_chains(session, tenant_id, pins=pins)
    operator_break, operator_records = check_operator_chain(session) if tenant_id is None else (None, 0)
    pinned = f", {report.checkpoints_checked} checkpoints" if pins is not None else ""
    operator = "" if tenant_id is not None else f", {operator_records} in the operator chain"
    return report.findings + list(
        filter(None, [operator_break])
    ), f"{report.records} records in {report.tenants} tenants, {report.rows_checked} rows{pinned}{operator}"


@audit_cli.command("verify")
@click.option("--tenant", "tenant_slug", metavar="SLUG", help="Check only this tenant.")
@click.option("--checkpoints", "checkpoint_file", metavar="FILE", help="Also check the chains against the signed checkpoints in FILE.")
@click.option(
    "--public-key",
    metavar="KEY",
    help="The checkpoints' public key: 'ed25519:…' as keygen printed it, or a file holding it (default: that of YUYUE_AUDIT_SIGNING_KEY).",
)
def verify_command(tenant_slug: str | None, checkpoint_file: str | None, public_key: str | None) -> None:
    """Recompute every tenant's chain and the operator chain, compare every audited row with its tenant's chain, and check the checkpoints; print each finding and exit 1 if any."""
    pins, findings = None, []
    if checkpoint_file:
        if public_key is None:
            signing_key = current_app.config.get("AUDIT_SIGNING_KEY")
            if not signing_key:
                raise click.ClickException("--checkpoints needs --public-key (or YUYUE_AUDIT_SIGNING_KEY) to check their signatures")
            public_key = signing_key
        checkpoints = _usable(read_checkpoints, checkpoint_file, _usable(load_public_key, public_key))
        pins, findings = checkpoints.pins, checkpoints.findings
    tenant_id = get_tenant(db.session, tenant_slug).id if tenant_slug else None
    found_in_chains, summary = check_everything(db.session, tenant_id, pins=pins)
    findings = [found for found in findings if tenant_slug is None or found.tenant == tenant_slug] + found_in_chains
    if not findings:
        click.echo(f"ok: {summary}")
        return
    for found in findings:
        click.echo(str(found))
    raise click.exceptions.Exit(1)


@audit_cli.command("keygen")
@click.option("--output", "output", metavar="FILE", required=True, help="Where to write the new private key (mode 0600; never overwritten).")
def keygen_command(output: str) -> None:
    """Make an Ed25519 signing key for checkpoints; prints its public key, to keep where the database's administrators cannot change it."""
    public = _usable(generate_key, Path(output))
    click.echo(f"public key: {public_key_text(public)}")
    click.echo(f"key id: {key_id(public)}")


@audit_cli.command("checkpoint")
@click.option("--output", "output", metavar="FILE", help="The checkpoint file to append to (default: YUYUE_AUDIT_CHECKPOINTS).")
@click.option("--key", "key_file", metavar="FILE", help="The private signing key (default: YUYUE_AUDIT_SIGNING_KEY).")
def checkpoint_command(output: str | None, key_file: str | None) -> None:
    """Sign the head of every tenant's chain that moved since its last checkpoint and append it to the checkpoint file."""
    output = output or current_app.config.get("AUDIT_CHECKPOINTS")
    key_file = key_file or current_app.config.get("AUDIT_SIGNING_KEY")
    if not output:
        raise click.ClickException("no checkpoint file: pass --output or set YUYUE_AUDIT_CHECKPOINTS")
    if not key_file:
        raise click.ClickException("no signing key: pass --key or set YUYUE_AUDIT_SIGNING_KEY (make one with `yuyue audit keygen`)")
    written = _usable(write_checkpoints, db.session, _usable(load_signing_key, key_file), output)
    click.echo(f"checkpointed {len(written)} tenants to {output}")
