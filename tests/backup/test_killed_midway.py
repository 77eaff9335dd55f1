"""``yuyue backup`` and ``yuyue restore`` killed with SIGKILL half way, as the real command in a process of its own.

A killed backup leaves no file under the backup's name and the database as it
was; its work folder is removed by the next backup to that name or by the
worker's retention, and never counts as a backup. A killed SQLite restore
leaves the old database or the new one, never a mix; a killed PostgreSQL
restore can leave an empty database, and restoring again puts the backup back.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from backup_setup import SECRET_KEY, TENANT, app_on, assert_one_error_line, booking_body, close, serving_app
from sqlalchemy import create_engine, make_url, text

from yuyue.app import normalize_database_url
from yuyue.backup.operations import WORK_FOLDER_GRACE_SECONDS
from yuyue.worker import make_queue, scheduled_backup

# Incompressible rows of a table yuyue does not know: they make copying, checksumming and packing take a second or
# more, long enough for the test to see the command at work and kill it there.
BALLAST_MEGABYTES = 40
KILL_WAIT_SECONDS = 60


def add_ballast(url: str) -> None:
    engine = create_engine(normalize_database_url(url))
    blob = "BLOB" if engine.dialect.name == "sqlite" else "BYTEA"
    try:
        with engine.begin() as connection:
            connection.execute(text(f"CREATE TABLE ballast (id INTEGER PRIMARY KEY, bytes {blob})"))
            connection.execute(
                text("INSERT INTO ballast (id, bytes) VALUES (:id, :bytes)"), [{"id": n, "bytes": os.urandom(1 << 20)} for n in range(BALLAST_MEGABYTES)]
            )
    finally:
        engine.dispose()


def query(url: str, sql: str) -> list:
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)).scalars())
    finally:
        engine.dispose()


def slugs(url: str) -> set[str]:
    return set(query(url, "SELECT slug FROM tenants"))


def start_yuyue(url: str, instance: Path, *args: str) -> subprocess.Popen:
    """``python -m yuyue ARGS`` on database ``url``, in a process group of its own (so pg_dump or pg_restore die with it)."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("YUYUE_")}
    env = {**inherited, "YUYUE_DATABASE_URL": url, "YUYUE_INSTANCE_PATH": str(instance), "YUYUE_SECRET_KEY": SECRET_KEY}
    # The installation's sealing key (the ``yuyue`` fixture sets it): the command must open the plugin settings the apps sealed.
    env["YUYUE_SECRETS_KEY"] = os.environ["YUYUE_SECRETS_KEY"]
    return subprocess.Popen([sys.executable, "-m", "yuyue", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def kill_when(process: subprocess.Popen, at_work: Callable[[], bool]) -> None:
    """SIGKILL ``process`` and its children as soon as ``at_work()`` says it is half way; fails if it finished first."""
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    while not at_work():
        if process.poll() is not None:
            pytest.fail(f"finished before it could be killed: {process.communicate()}")
        assert time.monotonic() < deadline, "never got to the point to be killed at"
        time.sleep(0.002)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL


def sqlite_file(url: str) -> Path:
    return Path(make_url(url).database)


def quick_check(url: str) -> str:
    connection = sqlite3.connect(sqlite_file(url))
    try:
        return connection.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        connection.close()


@pytest.fixture
def museum(yuyue, new_database, tmp_path) -> str:
    """A database taking bookings (tenant ``museum``, three booked), made large by ballast; after ``yuyue``, which sets the sealing key."""
    url = new_database()
    app = serving_app(url, tmp_path / "serving")
    client = app.test_client()
    for number in range(1, 4):
        assert client.post(f"/api/v1/t/{TENANT}/bookings", json=booking_body(number)).status_code == 201
    close(app)
    add_ballast(url)
    return url


def test_a_backup_killed_half_way_leaves_no_backup_and_the_database_unharmed_and_its_leftovers_are_pruned(museum, yuyue, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    output = backups / "yuyue-20260301T023000Z.zip"  # named as the worker names its backups, so its retention looks at it
    work = backups / f".{output.name}.partial"
    process = start_yuyue(museum, tmp_path / "instance", "backup", "--output", str(output))

    kill_when(process, lambda: work.is_dir() and any(path.stat().st_size for path in work.iterdir()))

    # (a) nothing carries the backup's name, and restoring that name is one error line
    assert not output.exists() and work.is_dir()
    assert_one_error_line(yuyue(museum, "restore", str(output)), "no such file")
    # (b) the database is as it was: its chains verify and it takes the next booking
    verified = yuyue(museum, "audit", "verify")
    assert verified.code == 0, verified
    app = app_on(museum, tmp_path / "after")
    assert app.test_client().post(f"/api/v1/t/{TENANT}/bookings", json=booking_body(4)).status_code == 201
    close(app)
    # (c) the worker's retention keeps its hands off a work folder that may belong to a backup starting, and once it is
    # older than that, removes it; it never counted as one of the backups kept
    app = app_on(museum, tmp_path / "worker", BACKUP_DIR=str(backups), BACKUP_KEEP=1)
    try:
        assert scheduled_backup(app, make_queue(app).huey, now=datetime(2026, 3, 2, 2, 30, tzinfo=UTC)) is not None
        assert work.is_dir()
        aged = time.time() - WORK_FOLDER_GRACE_SECONDS - 1
        os.utime(work, (aged, aged))
        made = scheduled_backup(app, make_queue(app).huey, now=datetime(2026, 3, 3, 2, 30, tzinfo=UTC))
    finally:
        close(app)
    assert sorted(path.name for path in backups.iterdir()) == [made.path.name]


def test_a_backup_to_the_name_of_one_that_was_killed_clears_its_leftovers_and_restores(museum, yuyue, new_database, tmp_path):
    output = tmp_path / "nightly.zip"
    kill_when(start_yuyue(museum, tmp_path / "instance", "backup", "--output", str(output)), (tmp_path / ".nightly.zip.partial").is_dir)

    again = yuyue(museum, "backup", "--output", str(output))

    assert again.code == 0, again
    assert sorted(path.name for path in tmp_path.glob("*nightly*")) == ["nightly.zip"]
    target = new_database()
    restored = yuyue(target, "restore", str(output))
    assert restored.code == 0 and "audit verify: ok" in restored.out, restored
    assert query(target, "SELECT count(*) FROM bookings") == [3]


@pytest.fixture
def two_databases(museum, yuyue, new_database, tmp_path) -> tuple[str, Path]:
    """A database holding tenant ``old`` only, and a backup of ``museum`` to restore over it."""
    backup = tmp_path / "museum.zip"
    assert yuyue(museum, "backup", "--output", str(backup)).code == 0
    target = new_database()
    yuyue(target, "init")
    yuyue(target, "tenants", "create", "old", "--name", "Old")
    return target, backup


def test_a_sqlite_restore_killed_while_writing_the_new_image_leaves_the_old_database(two_databases, yuyue, tmp_path):
    target, backup = two_databases
    if not target.startswith("sqlite"):
        pytest.skip("the SQLite file is replaced by a move; PostgreSQL has its own test")
    incoming = sqlite_file(target).with_name(f"{sqlite_file(target).name}.restoring")

    kill_when(start_yuyue(target, tmp_path / "instance", "restore", str(backup), "--yes"), lambda: incoming.exists() and incoming.stat().st_size > 0)

    assert quick_check(target) == "ok" and slugs(target) == {"old"}
    assert yuyue(target, "audit", "verify").code == 0
    restored = yuyue(target, "restore", str(backup), "--yes")
    assert restored.code == 0 and "audit verify: ok" in restored.out, restored
    assert slugs(target) == {TENANT} and not incoming.exists()


def test_a_sqlite_restore_killed_just_after_the_move_leaves_the_new_database(two_databases, yuyue, tmp_path):
    target, backup = two_databases
    if not target.startswith("sqlite"):
        pytest.skip("the SQLite file is replaced by a move; PostgreSQL has its own test")
    old_file = sqlite_file(target).stat().st_ino

    kill_when(start_yuyue(target, tmp_path / "instance", "restore", str(backup), "--yes"), lambda: sqlite_file(target).stat().st_ino != old_file)

    # Killed before the schema upgrade, the restore record and the verification: the backup's rows, readable and whole.
    assert quick_check(target) == "ok" and slugs(target) == {TENANT}
    assert query(target, "SELECT count(*) FROM bookings") == [3]
    restored = yuyue(target, "restore", str(backup), "--yes")
    assert restored.code == 0 and "audit verify: ok" in restored.out, restored


def test_a_postgresql_restore_killed_during_pg_restore_is_put_right_by_restoring_again(two_databases, yuyue, tmp_path):
    target, backup = two_databases
    if target.startswith("sqlite"):
        pytest.skip("pg_restore restores PostgreSQL only")
    database = make_url(target).database
    watcher = create_engine(normalize_database_url(target), isolation_level="AUTOCOMMIT")

    def pg_restore_at_work() -> bool:
        with watcher.connect() as connection:
            sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_restore' AND datname = :name AND state = 'active'"
            return connection.execute(text(sql), {"name": database}).scalar_one() > 0

    try:
        kill_when(start_yuyue(target, tmp_path / "instance", "restore", str(backup), "--yes"), pg_restore_at_work)
    finally:
        watcher.dispose()

    # The old schema was dropped in its own transaction and pg_restore's single transaction died with it: an empty database.
    assert query(target, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == [0]
    restored = yuyue(target, "restore", str(backup))  # nothing to lose, so no --yes
    assert restored.code == 0 and "audit verify: ok" in restored.out, restored
    assert slugs(target) == {TENANT} and query(target, "SELECT count(*) FROM bookings") == [3]
