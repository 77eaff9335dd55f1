"""The worker's daily backup: into YUYUE_BACKUP_DIR, the newest YUYUE_BACKUP_KEEP kept, one per day however many workers run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from backup_setup import app_on, close

from yuyue.audit.operator_chain import check_operator_chain, operator_records
from yuyue.cli import init_database
from yuyue.config import settings_from_env
from yuyue.db import db
from yuyue.worker import make_queue, scheduled_backup


@pytest.fixture
def backup_app(new_database, tmp_path):
    app = app_on(new_database(), tmp_path / "instance", BACKUP_DIR=str(tmp_path / "backups"), BACKUP_KEEP=3, BACKUP_AT=(2, 30))
    with app.app_context():
        init_database()
        db.session.remove()
    yield app
    close(app)


def test_the_daily_backup_keeps_the_newest_backups_and_leaves_other_files_alone(backup_app, tmp_path):
    queue = make_queue(backup_app)
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups" / "notes.txt").write_text("the operator's")
    first = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)

    for day in range(5):
        assert scheduled_backup(backup_app, queue.huey, now=first + timedelta(days=day)) is not None

    names = sorted(path.name for path in (tmp_path / "backups").iterdir())
    assert names == ["notes.txt", "yuyue-20260303T023000Z.zip", "yuyue-20260304T023000Z.zip", "yuyue-20260305T023000Z.zip"]


def test_each_daily_backup_is_recorded_in_the_operator_chain_by_the_worker(backup_app):
    queue = make_queue(backup_app)
    first = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    for day in range(2):
        scheduled_backup(backup_app, queue.huey, now=first + timedelta(days=day))

    with backup_app.app_context():
        records = operator_records(db.session)
        assert [(record.actor, record.action, record.data["file"]) for record in records] == [
            ("worker", "backup.taken", "yuyue-20260301T023000Z.zip"),
            ("worker", "backup.taken", "yuyue-20260302T023000Z.zip"),
        ]
        assert check_operator_chain(db.session) == (None, 2)
        db.session.remove()


def test_a_second_worker_does_not_back_up_a_day_already_backed_up(backup_app, tmp_path):
    queue, other_node = make_queue(backup_app), make_queue(backup_app)  # two consumers of one queue
    now = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)

    assert scheduled_backup(backup_app, queue.huey, now=now) is not None
    assert scheduled_backup(backup_app, other_node.huey, now=now + timedelta(minutes=1)) is None
    assert len(list((tmp_path / "backups").iterdir())) == 1


def test_the_daily_backup_runs_at_the_configured_time_and_not_when_off(new_database, tmp_path):
    on = app_on(new_database(), tmp_path / "on", BACKUP_AT=(2, 30))
    off = app_on(new_database(), tmp_path / "off", BACKUP_AT=None)
    try:
        task = make_queue(on).backup
        assert task is not None
        assert task.s().validate_datetime(datetime(2026, 3, 1, 2, 30)) and not task.s().validate_datetime(datetime(2026, 3, 1, 2, 31))
        assert make_queue(off).backup is None
    finally:
        close(on)
        close(off)


@pytest.mark.parametrize("value", ["25:00", "2:3", "noon", "02:60"])
def test_a_backup_time_that_is_no_time_of_day_fails_at_start_up(value, tmp_path):
    with pytest.raises(ValueError, match="YUYUE_BACKUP_AT must be a time of day HH:MM"):
        settings_from_env({"YUYUE_BACKUP_AT": value, "YUYUE_INSTANCE_PATH": str(tmp_path)})


def test_backup_settings_default_to_half_past_two_seven_files_in_the_instance_folder(tmp_path):
    settings = settings_from_env({"YUYUE_INSTANCE_PATH": str(tmp_path), "YUYUE_SECRET_KEY": "x"})

    assert (settings["BACKUP_AT"], settings["BACKUP_KEEP"], settings["BACKUP_DIR"]) == ((2, 30), 7, str(tmp_path / "backups"))
    assert settings_from_env({"YUYUE_INSTANCE_PATH": str(tmp_path), "YUYUE_SECRET_KEY": "x", "YUYUE_BACKUP_AT": "off"})["BACKUP_AT"] is None
