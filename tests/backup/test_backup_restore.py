"""``yuyue backup`` and ``yuyue restore``: a consistent file taken while bookings are being made, refused when it is
damaged, newer than the code or of the other database kind, upgraded when it is older, and verified after restoring."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
import zipfile
from pathlib import Path

import pytest
from backup_setup import TENANT, assert_one_error_line, booking_body, close, serving_app
from sqlalchemy import create_engine, inspect, text

from yuyue import migrate
from yuyue.app import normalize_database_url
from yuyue.backup.operations import known_revisions

RUSH_THREADS = 4


def rewrite_manifest(path: Path, **changes) -> None:
    """Change fields of a backup's manifest; the payload and its checksum stay as they were."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(entries["manifest.json"])
    manifest.update(changes)
    entries["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def scalar(url: str, sql: str):
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def public_ids(url: str) -> set[str]:
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT public_id FROM bookings")).scalars())
    finally:
        engine.dispose()


def table_counts(url: str) -> dict[str, int]:
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            return {name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in inspect(connection).get_table_names()}
    finally:
        engine.dispose()


def test_a_backup_taken_during_a_booking_rush_restores_every_acknowledged_booking_and_verifies(new_database, yuyue, tmp_path):
    source, target = new_database(), new_database()
    app = serving_app(source, tmp_path / "serving")
    acknowledged: list[tuple[float, str]] = []
    refused: list[int] = []
    stop = threading.Event()
    numbers = iter(range(1, 10**6))
    lock = threading.Lock()

    def rush() -> None:
        client = app.test_client()
        while not stop.is_set():
            with lock:
                number = next(numbers)
            response = client.post(f"/api/v1/t/{TENANT}/bookings", json=booking_body(number))
            if response.status_code == 201:
                with lock:
                    acknowledged.append((time.monotonic(), response.get_json()["id"]))
            else:
                refused.append(response.status_code)

    threads = [threading.Thread(target=rush) for _ in range(RUSH_THREADS)]
    for thread in threads:
        thread.start()
    try:
        while len(acknowledged) < 20 and not refused:
            time.sleep(0.05)
        started = time.monotonic()
        backup = yuyue(source, "backup", "--output", str(tmp_path / "rush.zip"))
        during = len(acknowledged)
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        close(app)
    assert backup.code == 0, backup
    assert refused == []
    before = {public_id for at, public_id in acknowledged if at < started}
    assert len(before) >= 20 and len(acknowledged) > during  # bookings went on while and after it ran

    restored = yuyue(target, "restore", str(tmp_path / "rush.zip"))

    assert restored.code == 0, restored
    assert "audit verify: ok" in restored.out
    assert before <= public_ids(target)
    with zipfile.ZipFile(tmp_path / "rush.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
    # Every table as the manifest counted it in the copy, and the restore's own record in the operator chain (its first here).
    assert table_counts(target) == {**manifest["tables"], "operator_audit_records": 1, "operator_audit_heads": 1}
    assert (manifest["tables"]["operator_audit_records"], manifest["tables"]["operator_audit_heads"]) == (0, 0)


def test_backup_prints_the_file_and_a_summary_and_the_manifest_describes_it(new_database, yuyue, tmp_path):
    url = new_database()
    assert yuyue(url, "init").code == 0
    assert yuyue(url, "tenants", "create", "acme", "--name", "Acme").code == 0

    made = yuyue(url, "backup")

    path = Path(made.out.splitlines()[0])
    assert path.parent == tmp_path / "instance" / "backups" and path.name.startswith("yuyue-")
    assert "schema revision" in made.out.splitlines()[1] and made.err == ""
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["revision"] == known_revisions()[1]
    assert manifest["database"] == ("sqlite" if url.startswith("sqlite") else "postgresql")
    assert manifest["tables"]["tenants"] == 1 and manifest["yuyue_version"] and manifest["created_at"]
    assert len(manifest["payload"]["sha256"]) == 64


def test_restore_refuses_a_database_that_holds_data_without_yes(new_database, yuyue, tmp_path):
    url = new_database()
    yuyue(url, "init")
    yuyue(url, "tenants", "create", "acme", "--name", "Acme")
    yuyue(url, "backup", "--output", str(tmp_path / "b.zip"))
    yuyue(url, "tenants", "create", "later", "--name", "Later")

    assert_one_error_line(yuyue(url, "restore", str(tmp_path / "b.zip")), "already holds data", "--yes")
    assert scalar(url, "SELECT count(*) FROM tenants") == 2

    assert yuyue(url, "restore", str(tmp_path / "b.zip"), "--yes").code == 0
    assert scalar(url, "SELECT count(*) FROM tenants") == 1


def test_a_corrupt_truncated_or_foreign_file_is_one_error_line_and_changes_nothing(new_database, yuyue, tmp_path):
    url = new_database()
    yuyue(url, "init")
    yuyue(url, "tenants", "create", "acme", "--name", "Acme")
    good = tmp_path / "good.zip"
    yuyue(url, "backup", "--output", str(good))
    data = good.read_bytes()
    payload_at = data.index(b"database.") + 200
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(data[:payload_at] + bytes([data[payload_at] ^ 0xFF]) + data[payload_at + 1 :])
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("notes.txt", "not a backup")

    assert_one_error_line(yuyue(url, "restore", str(corrupt), "--yes"), "corrupt")
    assert_one_error_line(yuyue(url, "restore", str(truncated), "--yes"), "truncated")
    assert_one_error_line(yuyue(url, "restore", str(foreign), "--yes"), "not a yuyue backup")
    assert_one_error_line(yuyue(url, "restore", str(tmp_path / "missing.zip")), "no such file")
    assert scalar(url, "SELECT slug FROM tenants") == "acme"


def test_a_backup_whose_payload_does_not_match_its_checksum_is_refused(new_database, yuyue, tmp_path):
    url = new_database()
    yuyue(url, "init")
    path = tmp_path / "b.zip"
    yuyue(url, "backup", "--output", str(path))
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    rewrite_manifest(path, payload={**manifest["payload"], "sha256": "0" * 64})

    assert_one_error_line(yuyue(new_database(), "restore", str(path)), "corrupt", "checksum")


def test_a_backup_from_a_newer_schema_is_refused(new_database, yuyue, tmp_path):
    url = new_database()
    yuyue(url, "init")
    path = tmp_path / "b.zip"
    yuyue(url, "backup", "--output", str(path))
    rewrite_manifest(path, revision="9999")

    assert_one_error_line(yuyue(new_database(), "restore", str(path)), "newer schema", "9999")


def test_a_backup_of_the_other_database_kind_is_refused(new_database, yuyue, tmp_path):
    url = new_database()
    yuyue(url, "init")
    path = tmp_path / "b.zip"
    yuyue(url, "backup", "--output", str(path))
    other = "postgresql" if url.startswith("sqlite") else "sqlite"
    rewrite_manifest(path, database=other)

    assert_one_error_line(yuyue(new_database(), "restore", str(path)), f"is a {other} backup")


def test_a_backup_at_an_older_schema_is_upgraded_to_head_on_restore(new_database, yuyue, tmp_path):
    old, target = new_database(), new_database()
    engine = create_engine(normalize_database_url(old))
    migrate.upgrade(engine, "0020")
    engine.dispose()
    path = tmp_path / "old.zip"
    assert yuyue(old, "backup", "--output", str(path)).code == 0

    restored = yuyue(target, "restore", str(path))

    head = known_revisions()[1]
    assert restored.code == 0, restored
    assert f"upgraded the schema from revision 0020 to {head}" in restored.out
    assert scalar(target, "SELECT version_num FROM alembic_version") == head


def test_restore_exits_non_zero_when_the_restored_audit_chain_does_not_verify(new_database, yuyue, tmp_path):
    url = new_database()
    yuyue(url, "init")
    yuyue(url, "tenants", "create", "acme", "--name", "Acme")
    engine = create_engine(normalize_database_url(url))
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_records SET actor = 'someone else'"))
    engine.dispose()
    path = tmp_path / "b.zip"
    yuyue(url, "backup", "--output", str(path))

    restored = yuyue(new_database(), "restore", str(path))

    assert restored.code == 1
    assert "audit verify found" in restored.err and "acme" in restored.out


def test_a_backup_to_a_name_another_backup_is_writing_is_one_error_line_and_leaves_that_backup_alone(new_database, yuyue, tmp_path):
    url = new_database()
    yuyue(url, "init")
    work = tmp_path / ".b.zip.partial"
    work.mkdir()
    (work / "database.sqlite3").write_bytes(b"the other backup's copy")
    lock = os.open(work, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as the running backup holds it

        assert_one_error_line(yuyue(url, "backup", "--output", str(tmp_path / "b.zip")), "another backup is writing")
        assert (work / "database.sqlite3").read_bytes() == b"the other backup's copy"
    finally:
        os.close(lock)
    assert yuyue(url, "backup", "--output", str(tmp_path / "b.zip")).code == 0
    assert sorted(path.name for path in tmp_path.glob("*b.zip*")) == ["b.zip"]


def fake_pg_dump(folder: Path, version: str) -> Path:
    folder.mkdir()
    tool = folder / "pg_dump"
    tool.write_text(f"#!/bin/sh\necho 'pg_dump (PostgreSQL) {version}'\n")
    tool.chmod(0o755)
    return folder


def test_on_postgresql_a_missing_or_older_pg_dump_is_one_error_line(new_database, yuyue, tmp_path, monkeypatch):
    url = new_database()
    if url.startswith("sqlite"):
        pytest.skip("pg_dump backs up PostgreSQL only")
    yuyue(url, "init")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert_one_error_line(yuyue(url, "backup", "--output", str(tmp_path / "b.zip")), "pg_dump is not on PATH")

    monkeypatch.setenv("PATH", str(fake_pg_dump(tmp_path / "old", "9.6.24")))
    assert_one_error_line(yuyue(url, "backup", "--output", str(tmp_path / "b.zip")), "version 9", "older than the server's")
    assert not (tmp_path / "b.zip").exists()
