"""Taking and restoring a backup and moving a tenant in or out are written to the operator chain, which still verifies afterwards."""

from __future__ import annotations

import json
import zipfile

from backup_setup import TENANT, close, serving_app
from sqlalchemy import create_engine, text

from yuyue import __version__ as yuyue_version
from yuyue.app import normalize_database_url


def operator_records(url: str) -> list[dict]:
    """The operator chain's records, oldest first: action, actor, subject and data."""
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT actor, action, subject_type, subject_id, data FROM operator_audit_records ORDER BY seq")).mappings().all()
    finally:
        engine.dispose()
    return [{**row, "data": json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]} for row in rows]


def backup_of_acme(yuyue, source: str, path) -> dict:
    """``source`` initialised with tenant ``acme``, backed up to ``path``; the backup's manifest."""
    yuyue(source, "init")
    yuyue(source, "tenants", "create", "acme", "--name", "Acme")
    assert yuyue(source, "backup", "--output", str(path)).code == 0
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("manifest.json"))


def test_restore_records_which_backup_was_put_back_in_the_operator_chain_and_verifies(new_database, yuyue, tmp_path):
    source, target = new_database(), new_database()
    path = tmp_path / "b.zip"
    manifest = backup_of_acme(yuyue, source, path)

    restoring = yuyue(target, "restore", str(path))
    assert restoring.code == 0, restoring
    assert restoring.out.splitlines()[-1].endswith(", 1 in the operator chain")  # the restore's own record, verified

    *_, restored = operator_records(target)
    assert (restored["actor"], restored["action"], restored["subject_type"], restored["subject_id"]) == (
        "cli",
        "backup.restored",
        "backup",
        manifest["created_at"],
    )
    assert restored["data"] == {
        "file": "b.zip",
        "created_at": manifest["created_at"],
        "revision": manifest["revision"],
        "sha256": manifest["payload"]["sha256"],
        "backup_yuyue_version": manifest["yuyue_version"],
        "yuyue_version": yuyue_version,
    }
    assert "backup.restored" not in [record["action"] for record in operator_records(source)]  # the restored database's record only
    verified = yuyue(target, "audit", "verify")
    assert verified.code == 0, verified


def test_a_second_restore_over_the_first_leaves_one_record_of_the_backup_restored_last(new_database, yuyue, tmp_path):
    source, target = new_database(), new_database()
    yuyue(source, "init")
    yuyue(source, "backup", "--output", str(tmp_path / "empty.zip"))
    yuyue(source, "tenants", "create", "acme", "--name", "Acme")
    yuyue(source, "backup", "--output", str(tmp_path / "acme.zip"))

    assert yuyue(target, "restore", str(tmp_path / "empty.zip")).code == 0
    assert yuyue(target, "restore", str(tmp_path / "acme.zip"), "--yes").code == 0

    # What acme.zip holds (the record of the empty backup taken before it), then its own restore; nothing of the first.
    assert [(record["action"], record["data"]["file"]) for record in operator_records(target)] == [
        ("backup.taken", "empty.zip"),
        ("backup.restored", "acme.zip"),
    ]
    assert yuyue(target, "audit", "verify").code == 0


def test_taking_a_backup_is_recorded_after_its_snapshot_so_the_backup_does_not_hold_its_own_record(new_database, yuyue, tmp_path):
    source, target = new_database(), new_database()
    path = tmp_path / "b.zip"
    manifest = backup_of_acme(yuyue, source, path)

    [taken] = operator_records(source)
    assert (taken["actor"], taken["action"], taken["subject_type"], taken["subject_id"]) == ("cli", "backup.taken", "backup", manifest["created_at"])
    assert taken["data"] == {
        "file": "b.zip",
        "created_at": manifest["created_at"],
        "revision": manifest["revision"],
        "rows": sum(manifest["tables"].values()),
        "sha256": manifest["payload"]["sha256"],
    }
    assert manifest["tables"]["operator_audit_records"] == 0
    assert yuyue(source, "audit", "verify").out.rstrip().endswith("1 in the operator chain")
    assert yuyue(target, "restore", str(path)).code == 0
    assert [record["action"] for record in operator_records(target)] == ["backup.restored"]


def test_exporting_and_importing_a_tenant_are_recorded_in_each_installations_operator_chain(new_database, yuyue, tmp_path):
    source, target = new_database(), new_database()
    close(serving_app(source, tmp_path / "source"))
    yuyue(target, "init")
    export = tmp_path / "museum.zip"

    exported = yuyue(source, "tenants", "export", TENANT, "--output", str(export))
    imported = yuyue(target, "tenants", "import", str(export), "--slug", "moved")

    assert exported.code == 0 and imported.code == 0, (exported, imported)
    [out] = operator_records(source)
    assert (out["actor"], out["action"], out["subject_type"]) == ("cli", "tenant.exported", "tenant")
    assert out["data"] == {"slug": TENANT, "file": "museum.zip", "rows": out["data"]["rows"], "tables": out["data"]["tables"]} and out["data"]["rows"] > 1
    [came] = operator_records(target)
    assert (came["actor"], came["action"], came["subject_type"]) == ("cli", "tenant.imported", "tenant")
    assert came["data"]["slug"] == "moved" and came["data"]["from_tenant"] == TENANT and came["data"]["file"] == "museum.zip"
    assert came["data"]["rows"] == out["data"]["rows"]
    assert yuyue(source, "audit", "verify").code == 0
    assert yuyue(target, "audit", "verify").code == 0


def test_a_refused_import_or_export_records_nothing(new_database, yuyue, tmp_path):
    url = new_database()
    yuyue(url, "init")
    yuyue(url, "tenants", "create", "acme", "--name", "Acme")
    yuyue(url, "tenants", "export", "acme", "--output", str(tmp_path / "acme.zip"))

    assert yuyue(url, "tenants", "import", str(tmp_path / "acme.zip")).code != 0  # the slug exists
    assert yuyue(url, "tenants", "export", "nobody", "--output", str(tmp_path / "x.zip")).code != 0

    assert [record["action"] for record in operator_records(url)] == ["tenant.exported"]
