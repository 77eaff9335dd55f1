"""Readiness: whether this node should be sent traffic, as named checks that each pass or say why not.

Liveness (``/api/v1/health``) says the process answers; readiness adds what a
request needs around it: the database, its schema at this release's head, Redis
when configured, and a worker running the jobs and the outbox (which can be left
out with ``YUYUE_READY_REQUIRE_WORKER=0`` where no worker runs on purpose).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from yuyue.observability.heartbeat import is_fresh, newest_heartbeat

__all__ = ["Check", "migration_heads", "readiness_checks"]

# A probe is called every few seconds and must answer within its own timeout: Redis gets one second.
REDIS_TIMEOUT_SECONDS = 1.0
# Where Alembic records the revision a database is at.
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str | LazyString | None = None

    def as_json(self) -> dict[str, str]:
        return {"status": "ok"} if self.ok else {"status": "failed", "detail": str(self.detail)}


@functools.cache
def _scripts() -> ScriptDirectory:
    """This release's migrations (read once: they are files of the installed package)."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("yuyue") / "migrations"))
    return ScriptDirectory.from_config(config)


def migration_heads() -> frozenset[str]:
    """The revisions this release's migrations end at."""
    return frozenset(_scripts().get_heads())


def _known_revision(revision: str) -> bool:
    return any(script.revision == revision for script in _scripts().walk_revisions())


def readiness_checks(app: Flask, session: Session) -> list[Check]:
    """Each check in order; when the database cannot be reached, the checks that read it fail with it."""
    checks = [_database(session)]
    reachable = checks[0].ok
    checks.append(_migrations(session) if reachable else Check("migrations", False, _l("the database cannot be reached")))
    if app.config.get("REDIS_URL"):
        checks.append(_redis(app.config["REDIS_URL"]))
    if app.config.get("READY_REQUIRE_WORKER", True):
        checks.append(_worker(session) if reachable else Check("worker", False, _l("the database cannot be reached")))
    session.rollback()
    return checks


def _database(session: Session) -> Check:
    try:
        session.execute(text("SELECT 1"))
    except Exception:
        session.rollback()
        return Check("database", False, _l("the database cannot be reached"))
    return Check("database", True)


def _migrations(session: Session) -> Check:
    try:
        # Read as Alembic keeps it, without a MigrationContext: that logs two lines at INFO on every probe.
        connection = session.connection()
        has_versions = inspect(connection).has_table(VERSION_TABLE)
        current = frozenset(session.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}"))) if has_versions else frozenset()
    except Exception:
        session.rollback()
        return Check("migrations", False, _l("the schema revision cannot be read"))
    if current and not any(_known_revision(revision) for revision in current):
        # A newer release has migrated: its migrations keep this release working (docs/operations.md,
        # upgrades without downtime), so this node serves until it is replaced.
        return Check("migrations", True)
    if current != migration_heads():
        return Check(
            "migrations",
            False,
            _l(
                "the database is at revision %(current)s, this release needs %(head)s: run 'yuyue init'",
                current=", ".join(sorted(current)) or "none",
                head=", ".join(sorted(migration_heads())),
            ),
        )
    return Check("migrations", True)


def _redis(url: str) -> Check:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS)
        try:
            client.ping()
        finally:
            client.close()
    except Exception:
        return Check("redis", False, _l("Redis (YUYUE_REDIS_URL) cannot be reached"))
    return Check("redis", True)


def _worker(session: Session) -> Check:
    try:
        seen = newest_heartbeat(session)
    except Exception:
        session.rollback()
        return Check("worker", False, _l("the worker heartbeat cannot be read"))
    if seen is None:
        return Check("worker", False, _l("no worker has been seen: start 'yuyue worker' (or set YUYUE_READY_REQUIRE_WORKER=0)"))
    if not is_fresh(seen):
        return Check("worker", False, _l("no worker heartbeat since %(seen)s UTC: is 'yuyue worker' running?", seen=seen.strftime("%Y-%m-%d %H:%M:%S")))
    return Check("worker", True)
