"""Move one tenant between installations: its rows as JSON lines in a zip, loaded under new ids.

Ids collide across installations, so every primary key is given anew on import
and every foreign key follows it. The tenant's audit chain is copied as it was
(its hashes cover what the records say, not where they are stored, so it still
verifies) and then re-baselined: ``tenant.imported`` records mark the rows'
old keys gone and vouch for the rows under their new ids, the way migration
0006's baseline vouched for existing rows (decisions §67).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Table, TypeDecorator, insert, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

import yuyue
from yuyue.audit.models import AuditHead, AuditRecord
from yuyue.audit.operations import GENESIS_HASH, record_hash
from yuyue.audit.operator_chain import record_operator_action
from yuyue.audit.state import audited_tables, row_key
from yuyue.backup.archive import MANIFEST, BackupError, open_archive
from yuyue.db import Model, TenantScoped, write_transaction
from yuyue.types import utcnow

FORMAT = "yuyue-tenant"
FORMAT_VERSION = 1
TENANTS = "tenants"
# Not carried over: the outbox's transport state (imported, it would be sent again), customers' login codes and sessions (they
# log in again), and staff memberships (they name users of the other installation: add staff again with `tenants add-staff`).
LEFT_BEHIND = frozenset({"outbox_events", "deliveries", "delivery_attempts", "login_codes", "refresh_tokens", "staff_memberships"})
AUDIT_TABLES = frozenset({"audit_records", "audit_heads"})
BATCH = 500
REBASELINE_ROWS = 1000
IMPORT_ACTION = "tenant.imported"
EXPORT_ACTION = "tenant.exported"


@dataclass
class TransferReport:
    slug: str
    tenant_id: int = 0  # here: the exported tenant's id, or the imported tenant's new one
    tables: dict[str, int] = field(default_factory=dict)
    left_behind: list[str] = field(default_factory=lambda: sorted(LEFT_BEHIND))
    unlinked: int = 0  # references to rows of the other installation that were not carried over (e.g. the staff user who checked a visitor in)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def tenant_tables() -> list[Table]:
    """The tenant-owned tables carried over, parents before children."""
    owned = {mapper.local_table.name for mapper in Model.registry.mappers if issubclass(mapper.class_, TenantScoped)}
    return [table for table in Model.metadata.sorted_tables if table.name in owned and table.name not in LEFT_BEHIND]


def _schema_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        raise BackupError("the database has no schema yet: run `yuyue init` first")
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot export a {type(value).__name__}")


def _typed(column: Column, value: Any) -> Any:
    """A JSON value read back as the column's Python type."""
    if value is None:
        return None
    column_type = column.type
    while isinstance(column_type, TypeDecorator):  # yuyue's own types say what they store through their impl
        column_type = column_type.impl_instance
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return value
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is time:
        return time.fromisoformat(value)
    if python_type is Decimal:
        return Decimal(value)
    if python_type is bytes:
        return base64.b64decode(value)
    if python_type is timedelta:
        return timedelta(seconds=value)
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if isinstance(python_type, type) and issubclass(python_type, enum.Enum):
        return python_type[value]
    return value


def _lines(connection: Connection, table: Table, tenant_id: int) -> Iterator[str]:
    column = table.c.id if table.name == TENANTS else table.c.tenant_id
    query = select(table).where(column == tenant_id).order_by(table.c.id).execution_options(yield_per=BATCH)
    for row in connection.execute(query):
        yield json.dumps(dict(row._mapping), default=_plain, ensure_ascii=False, sort_keys=True) + "\n"


def export_tenant(session: Session, slug: str, output: Path, *, actor: str = "cli") -> TransferReport:
    """Write tenant ``slug``'s rows to ``output`` and record ``tenant.exported`` in the operator chain: data left the installation.

    The rows are read from one snapshot (REPEATABLE READ on PostgreSQL; on
    SQLite one read transaction of the WAL database), so they agree with each
    other; the writers are not held up meanwhile. Recorded after the file is
    complete, and the file is removed if the record cannot be written, so no
    export leaves unrecorded.
    """
    engine = session.get_bind()
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    with connection, connection.begin():
        report = _export(connection, slug, output)
    try:
        with write_transaction(session):
            data = {"slug": slug, "file": output.name, "rows": report.rows, "tables": len(report.tables)}
            record_operator_action(session, actor=actor, action=EXPORT_ACTION, subject_type="tenant", subject_id=report.tenant_id, data=data)
    except BaseException:
        output.unlink(missing_ok=True)
        raise
    return report


def _export(connection: Connection, slug: str, output: Path) -> TransferReport:
    tenants = Model.metadata.tables[TENANTS]
    tenant_id = connection.execute(select(tenants.c.id).where(tenants.c.slug == slug)).scalar()
    if tenant_id is None:
        raise BackupError(f"no tenant {slug!r}")
    report = TransferReport(slug, tenant_id)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    digests = {}
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            for table in [tenants, *tenant_tables()]:
                digest, count = hashlib.sha256(), 0
                with archive.open(f"{table.name}.jsonl", "w", force_zip64=True) as out:
                    for line in _lines(connection, table, tenant_id):
                        data = line.encode()
                        digest.update(data)
                        out.write(data)
                        count += 1
                digests[table.name] = digest.hexdigest()
                report.tables[table.name] = count
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "tenant": slug,
                "revision": _schema_revision(connection),
                "yuyue_version": yuyue.__version__,
                "created_at": utcnow().isoformat(timespec="seconds"),
                "tables": [{"name": name, "rows": report.tables[name], "sha256": digests[name]} for name in report.tables],
            }
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    return report


def _checked_manifest(manifest: Any, path: Path) -> dict[str, Any]:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path} is not a tenant export this yuyue reads")
    return manifest


def _rows(archive: zipfile.ZipFile, path: Path, entry: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        data = archive.read(f"{entry['name']}.jsonl")
    except (KeyError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise BackupError(f"{path} is corrupt or truncated ({error})") from None
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise BackupError(f"{path} is corrupt: {entry['name']} does not match the checksum in its manifest")
    return [json.loads(line) for line in data.decode().splitlines()]


def import_tenant(session: Session, path: Path, *, slug: str | None = None, actor: str = "cli") -> TransferReport:
    """Load the export at ``path`` as a new tenant (named ``slug``, or as it was), in one write transaction.

    Besides the tenant chain's re-baseline, the operator chain gets a
    ``tenant.imported`` record: rows came into the installation from a file.
    """
    with write_transaction(session):
        report, manifest = _import(session.connection(), path, slug=slug, actor=actor)
        data = {"slug": report.slug, "from_tenant": manifest["tenant"], "exported_at": manifest.get("created_at"), "file": path.name, "rows": report.rows}
        record_operator_action(session, actor=actor, action=IMPORT_ACTION, subject_type="tenant", subject_id=report.tenant_id, data=data)
    return report


def _import(connection: Connection, path: Path, *, slug: str | None, actor: str) -> tuple[TransferReport, dict[str, Any]]:
    with open_archive(path, "a tenant export") as (archive, found):
        manifest = _checked_manifest(found, path)
        here = _schema_revision(connection)
        if manifest["revision"] != here:
            raise BackupError(
                f"{path} was exported at schema revision {manifest['revision']} and this database is at {here}: run the same yuyue version on both"
            )
        slug = slug or manifest["tenant"]
        tenants = Model.metadata.tables[TENANTS]
        if connection.execute(select(tenants.c.id).where(tenants.c.slug == slug)).first():
            raise BackupError(f"tenant {slug!r} already exists here: import it under another name with --slug")
        entries = {entry["name"]: entry for entry in manifest["tables"]}
        if TENANTS not in entries or len(_rows(archive, path, entries[TENANTS])) != 1:
            raise BackupError(f"{path} is not a tenant export: it holds no tenant")
        report = TransferReport(slug)
        new_ids: dict[str, dict[int, int]] = {}
        for table in [tenants, *tenant_tables()]:
            if table.name not in entries:
                raise BackupError(f"{path} has no {table.name}: it was exported by another yuyue")
            rows = _rows(archive, path, entries[table.name])
            if table.name == TENANTS:
                rows[0]["slug"] = slug
            report.unlinked += _load(connection, table, rows, new_ids)
            report.tables[table.name] = len(rows)
        report.tenant_id = next(iter(new_ids[TENANTS].values()))
        _rebaseline(connection, report.tenant_id, new_ids.get("audit_records", {}), manifest["tenant"], actor)
    return report, manifest


def _load(connection: Connection, table: Table, rows: list[dict[str, Any]], new_ids: dict[str, dict[int, int]]) -> int:
    """Insert ``rows`` under new ids, their references mapped to the new ids; returns references to rows not carried over, set to null."""
    mine: dict[int, int] = new_ids.setdefault(table.name, {})
    references = [(column, next(iter(column.foreign_keys)).column.table.name) for column in table.c if column.foreign_keys]
    later, unlinked, prepared = [], 0, []
    for raw in rows:
        row = {column.name: _typed(column, raw.get(column.name)) for column in table.c if column.name != "id"}
        for column, target in references:
            old = row[column.name]
            if old is None:
                continue
            if target == table.name:  # a row of the same table, perhaps not inserted yet: set after the table is in
                row[column.name] = None
                later.append((raw["id"], column, old))
            elif target in new_ids and old in new_ids[target]:
                row[column.name] = new_ids[target][old]
            elif column.nullable:
                row[column.name], unlinked = None, unlinked + 1
            else:
                raise BackupError(f"{table.name} {raw['id']} points at {target} {old}, which is not in the export")
        prepared.append((raw["id"], row))
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    for start in range(0, len(prepared), BATCH):
        batch = prepared[start : start + BATCH]
        created = connection.execute(statement, [row for _, row in batch]).scalars().all()
        mine.update({old: new for (old, _), new in zip(batch, created, strict=True)})
    for old_id, column, old_target in later:
        connection.execute(update(table).where(table.c.id == mine[old_id]).values({column.name: mine.get(old_target)}))
    return unlinked


def _rebaseline(connection: Connection, tenant_id: int, imported_records: dict[int, int], source_slug: str, actor: str) -> None:
    """Append ``tenant.imported`` records: the rows' old keys are gone, their new keys hold the rows as loaded."""
    records = AuditRecord.__table__
    state: dict[str, str | None] = {}
    if imported_records:
        for (recorded,) in connection.execute(select(records.c.state).where(records.c.tenant_id == tenant_id, records.c.state.is_not(None))):
            state.update(dict.fromkeys(recorded or {}))
    for table in audited_tables().values():
        model_table = table.model.__table__
        columns = [model_table.c[column] for column in table.columns]
        query = select(*columns).where(model_table.c.tenant_id == tenant_id).order_by(model_table.c.id)
        for row in connection.execute(query):
            state[row_key(table.name, row.id)] = table.digest(row._mapping)
    heads = AuditHead.__table__
    head = connection.execute(select(heads.c.seq, heads.c.hash).where(heads.c.tenant_id == tenant_id)).first()
    if head is None:
        connection.execute(insert(heads).values(tenant_id=tenant_id, seq=0, hash=GENESIS_HASH))
        head = (0, GENESIS_HASH)
    seq, prev_hash = head
    items = list(state.items())
    chunks = [dict(items[start : start + REBASELINE_ROWS]) for start in range(0, len(items), REBASELINE_ROWS)] or [{}]
    at, rows = utcnow(), []
    for number, chunk in enumerate(chunks, start=1):
        seq += 1
        fields = {
            "actor": actor,
            "action": IMPORT_ACTION,
            "subject_type": "tenant",
            "subject_id": str(tenant_id),
            "data": {"from_tenant": source_slug, "part": number, "of": len(chunks)},
        }
        digest = record_hash(prev_hash, seq=seq, at=at, state=chunk, **fields)
        rows.append({"tenant_id": tenant_id, "seq": seq, "at": at, "state": chunk, "prev_hash": prev_hash, "hash": digest, **fields})
        prev_hash = digest
    connection.execute(insert(records), rows)
    connection.execute(update(heads).where(heads.c.tenant_id == tenant_id).values(seq=seq, hash=prev_hash))
