"""Take a consistent backup of the running database and put one back.

SQLite: the online backup API copies the WAL database in one step inside one
read transaction, so bookings committed while it runs are either wholly in the
copy or not at all, and writers are not blocked. PostgreSQL: ``pg_dump
--format=custom`` on a snapshot exported from a REPEATABLE READ transaction,
in which the manifest's row counts and schema revision are read too, so they
describe exactly the rows in the dump. Restoring writes the image beside the
SQLite file and moves it into place, or empties the PostgreSQL schema and runs
``pg_restore``; the caller then upgrades the schema and verifies the audit
chains (``yuyue restore``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

import yuyue
from yuyue.audit.operator_chain import record_operator_action
from yuyue.backup.archive import PAYLOADS, BackupError, Manifest, Progress, extract_payload, file_sha256, read_manifest, write_archive
from yuyue.db import write_transaction
from yuyue.types import utcnow

# Tables `yuyue init` fills in an empty database (Flask-AppBuilder's roles and permissions): rows there are not data to protect.
BOOTSTRAP_TABLES = frozenset({"alembic_version", "ab_permission", "ab_view_menu", "ab_permission_view", "ab_role", "ab_permission_view_role"})
STAMP = "%Y%m%dT%H%M%SZ"
TAKEN_ACTION = "backup.taken"
RESTORED_ACTION = "backup.restored"
NAME_PATTERN = re.compile(r"^yuyue-\d{8}T\d{6}Z(-\d+)?\.zip$")
WORK_SUFFIX = ".partial"
WORK_PATTERN = re.compile(r"^\.yuyue-\d{8}T\d{6}Z(-\d+)?\.zip\.partial$")
# A work folder is locked just after it is made: one younger than this may be a backup that is starting.
WORK_FOLDER_GRACE_SECONDS = 60

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: Manifest

    @property
    def rows(self) -> int:
        return sum(self.manifest.tables.values())


def default_output(directory: Path, now: datetime | None = None) -> Path:
    """``<directory>/yuyue-<UTC stamp>.zip``; a second backup within the same second gets ``-2``, ``-3``…"""
    stem = f"yuyue-{(now or utcnow()).strftime(STAMP)}"
    path, number = directory / f"{stem}.zip", 1
    while path.exists():
        number += 1
        path = directory / f"{stem}-{number}.zip"
    return path


def take_backup(engine: Engine, output: Path, *, progress: Progress | None = None, now: datetime | None = None) -> Backup:
    """Back the database of ``engine`` up into ``output`` while it keeps serving."""
    kind = engine.dialect.name
    if kind not in PAYLOADS:
        raise BackupError(f"cannot back up a {kind} database")
    output.parent.mkdir(parents=True, exist_ok=True)
    with _work_folder(output) as folder:
        payload = folder / PAYLOADS[kind]
        if kind == "sqlite":
            revision, tables = _sqlite_snapshot(_sqlite_path(engine), payload)
        else:
            revision, tables = _postgresql_snapshot(engine, payload)
        sha256, size = file_sha256(payload, progress)
        manifest = Manifest(
            database=kind,
            revision=revision,
            yuyue_version=yuyue.__version__,
            created_at=(now or utcnow()).isoformat(timespec="seconds"),
            tables=tables,
            payload=PAYLOADS[kind],
            sha256=sha256,
            size=size,
        )
        write_archive(output, manifest, payload)
    return Backup(output, manifest)


@contextmanager
def _work_folder(output: Path) -> Iterator[Path]:
    """``.<output's name>.partial/`` beside ``output``, locked while this backup writes into it and removed after.

    The payload and the zip are made there and the zip is moved to ``output``
    when complete, so a backup killed half way (kill -9, a full disk, a power
    cut) leaves no file at ``output``, only this folder: the next backup to the
    same name or the worker's retention (:func:`prune_backups`) removes it once
    no process holds its lock (the kernel drops the lock of a killed process).
    """
    folder = output.with_name(f".{output.name}{WORK_SUFFIX}")
    folder.mkdir(exist_ok=True)
    lock = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        raise BackupError(f"another backup is writing {output} now") from None
    try:
        for leftover in folder.iterdir():  # of a backup to the same name that was killed
            leftover.unlink()
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(lock)


def _abandoned(folder: Path) -> bool:
    """Whether work folder ``folder`` is a killed backup's: old enough to have been locked, and no process holds its lock."""
    try:
        if time.time() - folder.stat().st_mtime < WORK_FOLDER_GRACE_SECONDS:
            return False
        lock = os.open(folder, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(lock)  # closing drops a lock taken just now
    return True


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("the database is in memory: there is no file to back up")
    return Path(database)


def _sqlite_snapshot(source_path: Path, payload: Path) -> tuple[str | None, dict[str, int]]:
    if not source_path.exists():
        raise BackupError(f"no database at {source_path}: run `yuyue init` first")
    source = sqlite3.connect(source_path, timeout=60)
    copy = sqlite3.connect(payload)
    try:
        # One step (pages=-1): one read transaction, a consistent image; copying in steps would restart on every commit during a rush.
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # the image is one self-contained file
        names = [row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        tables = {name: copy.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
        revision = copy.execute("SELECT version_num FROM alembic_version").fetchone()[0] if "alembic_version" in tables else None
    finally:
        copy.close()
        source.close()
    return revision, tables


def _libpq_url(engine: Engine) -> str:
    """The database URL as libpq spells it (no SQLAlchemy driver suffix), for pg_dump and pg_restore."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _postgresql_tool(name: str, connection: Connection) -> str:
    """The path of ``pg_dump``/``pg_restore``; refused when missing or older than the server (it could not read its catalogue)."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not on PATH: install the PostgreSQL client tools (version {_server_major(connection)} or newer)")
    answer = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", answer)
    server = _server_major(connection)
    if match is None:
        raise BackupError(f"{path} --version said {answer.strip()!r}, not a version")
    if int(match.group(1)) < server:
        raise BackupError(f"{path} is version {match.group(1)}, older than the server's {server}: install the PostgreSQL {server} client tools")
    return path


def _server_major(connection: Connection) -> int:
    return int(connection.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000


def _postgresql_snapshot(engine: Engine, payload: Path) -> tuple[str | None, dict[str, int]]:
    with engine.connect() as connection:
        pg_dump = _postgresql_tool("pg_dump", connection)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        with connection.begin():
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            tables = _row_counts(connection)
            revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() if "alembic_version" in tables else None
            done = subprocess.run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-owner", f"--file={payload}", f"--dbname={_libpq_url(engine)}"],
                capture_output=True,
                text=True,
                check=False,
            )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {_first_line(done.stderr)}")
    return revision, tables


def _row_counts(connection: Connection) -> dict[str, int]:
    names = sorted(inspect(connection).get_table_names())
    return {name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}


def _first_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no message"


# --- restoring ---------------------------------------------------------------------------


def known_revisions() -> tuple[set[str], str]:
    """The schema revisions this yuyue's migrations know, and their head."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("yuyue") / "migrations"))
    script = ScriptDirectory.from_config(config)
    return {revision.revision for revision in script.walk_revisions()}, script.get_current_head()


def check_restorable(path: Path, engine: Engine) -> Manifest:
    """The backup's manifest, once it is known to be a backup this yuyue can restore into ``engine``'s database."""
    manifest = read_manifest(path)
    kind = engine.dialect.name
    if manifest.database != kind:
        raise BackupError(f"{path} is a {manifest.database} backup and the configured database is {kind}: restore it into a {manifest.database} database")
    known, head = known_revisions()
    if manifest.revision is not None and manifest.revision not in known:
        raise BackupError(f"{path} is from a newer schema (revision {manifest.revision}) than this yuyue knows (head {head}): upgrade yuyue, then restore")
    return manifest


def holds_data(engine: Engine) -> bool:
    """Whether the database has rows beyond what ``yuyue init`` writes into an empty one."""
    if engine.dialect.name == "sqlite" and not _sqlite_path(engine).exists():
        return False
    with engine.connect() as connection:
        for name in inspect(connection).get_table_names():
            if name not in BOOTSTRAP_TABLES and connection.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1')).first():
                return True
    return False


def restore_database(path: Path, manifest: Manifest, engine: Engine, *, progress: Progress | None = None) -> None:
    """Replace the database of ``engine`` by the backup's (checked against its checksum first). Connections of ``engine`` are closed."""
    engine.dispose()
    if manifest.database == "sqlite":
        _restore_sqlite(path, manifest, _sqlite_path(engine), progress)
    else:
        _restore_postgresql(path, manifest, engine, progress)
    engine.dispose()


def _restore_sqlite(path: Path, manifest: Manifest, target: Path, progress: Progress | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(f"{target.name}.restoring")
    try:
        extract_payload(path, manifest, incoming, progress)
        _check_sqlite_image(incoming, path)
        if target.exists():
            # Fold the old file's WAL into it and empty it first: a WAL left beside the new file would be replayed over it, and
            # the -wal file is removed only after the move, so a restore killed between the two must leave an empty one.
            old = sqlite3.connect(target, timeout=60)
            try:
                busy = old.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                old.close()
            if busy:
                raise BackupError(f"{target} is in use (a server or worker reads it): stop them, then restore again")
        os.replace(incoming, target)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    finally:
        incoming.unlink(missing_ok=True)


def _check_sqlite_image(image: Path, path: Path) -> None:
    connection = sqlite3.connect(image)
    try:
        verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is corrupt: its database is not readable by SQLite ({error})") from None
    finally:
        connection.close()
    if verdict != "ok":
        raise BackupError(f"{path} is corrupt: SQLite's check of its database says {verdict}")


def _restore_postgresql(path: Path, manifest: Manifest, engine: Engine, progress: Progress | None) -> None:
    with tempfile.TemporaryDirectory(prefix="yuyue-restore-") as folder:
        dump = Path(folder) / manifest.payload
        extract_payload(path, manifest, dump, progress)
        with engine.connect() as connection:
            pg_restore = _postgresql_tool("pg_restore", connection)
        listed = subprocess.run([pg_restore, "--list", str(dump)], capture_output=True, text=True, check=False)
        if listed.returncode != 0:
            raise BackupError(f"{path} is corrupt: pg_restore cannot read its dump ({_first_line(listed.stderr)})")
        # Tables a newer schema added would survive pg_restore --clean, which drops only what the dump holds.
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        done = subprocess.run(
            [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", f"--dbname={_libpq_url(engine)}", str(dump)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {_first_line(done.stderr)}")


def record_backup(session: Session, backup: Backup, *, actor: str) -> None:
    """Record ``backup.taken`` in the operator chain: a copy of every tenant's data now exists outside the database.

    Written after the snapshot, so a backup never holds the record of itself.
    """
    manifest = backup.manifest
    data = {"file": backup.path.name, "created_at": manifest.created_at, "revision": manifest.revision, "rows": backup.rows, "sha256": manifest.sha256}
    with write_transaction(session):
        record_operator_action(session, actor=actor, action=TAKEN_ACTION, subject_type="backup", subject_id=manifest.created_at, data=data)


def record_restore(session: Session, path: Path, manifest: Manifest, *, actor: str) -> None:
    """Record ``backup.restored`` in the restored database's operator chain: which backup it now is, put back by which yuyue.

    Written once the schema is upgraded (the chain's tables may be newer than
    the backup), before the chains are verified, so the record is verified too.
    """
    data = {
        "file": path.name,
        "created_at": manifest.created_at,
        "revision": manifest.revision,
        "sha256": manifest.sha256,
        "backup_yuyue_version": manifest.yuyue_version,
        "yuyue_version": yuyue.__version__,
    }
    with write_transaction(session):
        record_operator_action(session, actor=actor, action=RESTORED_ACTION, subject_type="backup", subject_id=manifest.created_at, data=data)


# --- the nightly backup -----------------------------------------------------------------


def prune_backups(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups yuyue named in ``directory`` (other files are left alone); returns those deleted.

    The work folders of backups killed half way are removed too; they were
    never backups, so they neither count towards ``keep`` nor are returned.
    """
    for folder in directory.iterdir():
        if WORK_PATTERN.match(folder.name) and _abandoned(folder):
            log.warning("removing %s, left by a backup that did not finish", folder)
            shutil.rmtree(folder, ignore_errors=True)
    ours = sorted((path for path in directory.iterdir() if NAME_PATTERN.match(path.name)), key=_stamp_order)
    doomed = ours[:-keep] if keep > 0 else ours
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def _stamp_order(path: Path) -> tuple[str, int]:
    stem, _, number = path.name.removesuffix(".zip").partition("-")[2].partition("-")
    return stem, int(number or 1)
