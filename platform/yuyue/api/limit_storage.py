"""Rate-limit counters in a SQLite file of the node's own, shared by every worker process of the node.

``limits`` finds a storage class by the scheme of its URI; importing this module
registers ``yuyue-sqlite:///<path>`` (the path written as in SQLAlchemy's
``sqlite:///`` URLs: a fourth slash for an absolute path). Each statement that
counts is one autocommit statement, and SQLite takes a write statement's lock
before it reads, so the test and the count of one hit can never interleave
with another process's: N hits pass, the next is refused, however many workers
serve them. The file is not the application's database, so counting never
waits on, or holds, the lock that bookings write under (decisions §33).

Both strategies ``limits`` offers for a counter are here: the fixed window
(``incr``: one upsert that starts a new window when the old one has run out)
and the moving window (``acquire_entry``: one insert of a timestamped entry,
made only while the entries younger than the window leave room for it).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable

from limits.storage import MovingWindowSupport, Storage

__all__ = ["SCHEME", "NodeLimitStorage", "node_storage_uri"]

SCHEME = "yuyue-sqlite"
FILE_NAME = "rate-limits.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS counters_by_expiry ON counters (expires_at);
CREATE TABLE IF NOT EXISTS entries (key TEXT NOT NULL, expires_at REAL NOT NULL, amount INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS entries_by_key ON entries (key, expires_at);
CREATE INDEX IF NOT EXISTS entries_by_expiry ON entries (expires_at);
"""

# A new window when the stored one has run out, else one more hit in it; both CASEs read the row as it was.
_INCR = """
INSERT INTO counters (key, count, expires_at) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN counters.expires_at <= :now THEN excluded.count ELSE counters.count + excluded.count END,
    expires_at = CASE WHEN counters.expires_at <= :now THEN excluded.expires_at ELSE counters.expires_at END
RETURNING count
"""
_ACQUIRE = """
INSERT INTO entries (key, expires_at, amount)
SELECT :key, :now + :expiry, :amount
WHERE (SELECT coalesce(sum(amount), 0) FROM entries WHERE key = :key AND expires_at > :now) + :amount <= :limit
"""
_WINDOW = "SELECT min(expires_at), coalesce(sum(amount), 0) FROM entries WHERE key = :key AND expires_at > :now"
_COUNT = "SELECT count FROM counters WHERE key = :key AND expires_at > :now"
_EXPIRY = "SELECT expires_at FROM counters WHERE key = :key AND expires_at > :now"

# How often each process deletes what has expired (a row is never counted after its expiry, so this only bounds the file).
SWEEP_SECONDS = 60.0


def node_storage_uri(instance_path: str | os.PathLike[str]) -> str:
    """The URI of the node's counters: ``rate-limits.db`` in the instance folder."""
    return f"{SCHEME}:///{os.path.join(os.path.abspath(instance_path), FILE_NAME)}"


class NodeLimitStorage(Storage, MovingWindowSupport):
    """``limits`` storage on one SQLite file (WAL), for every process of one machine.

    Each process (and thread) opens its own connection on first use, so a
    storage built before gunicorn forks, or never used (Flask-AppBuilder's
    limiter builds one), costs nothing. ``busy_timeout`` (seconds, a storage
    option) bounds how long a hit waits for another process's write.
    """

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, busy_timeout: float = 5.0, **options: float | str | bool):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        scheme, sep, path = (uri or "").partition("://")
        if scheme != SCHEME or not sep or not path.startswith("/") or path == "/":
            raise ValueError(f"expected {SCHEME}:///PATH (four slashes for an absolute path), got {uri!r}")
        self.path = path.removeprefix("/")
        self.busy_timeout = float(busy_timeout)
        self.clock: Callable[[], float] = time.time  # seconds since the epoch; every process of the node must agree
        self._local = threading.local()
        self._next_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # a connection must never cross a fork
            local.connection, local.pid = self._connect(), os.getpid()
        return local.connection

    def _connect(self) -> sqlite3.Connection:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        # isolation_level=None: autocommit, so each statement below is its own transaction and nothing stays open.
        # One connection per thread (see _connection), so sqlite3 may keep refusing to share one between threads.
        connection = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        # Several workers opening a new file at once meet it in rollback-journal mode, where SQLite answers
        # "database is locked" at once, without the busy timeout, to the one that would deadlock: try again.
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                # Losing the last moments of counts to a power cut is harmless; an fsync per hit is not.
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.executescript(_SCHEMA)
                return connection
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    connection.close()
                    raise
                time.sleep(0.01)

    def _execute(self, statement: str, **params: object) -> sqlite3.Cursor:
        connection = self._connection()
        now = params["now"] = self.clock()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            connection.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
            connection.execute("DELETE FROM entries WHERE expires_at <= ?", (now,))
        return connection.execute(statement, params)

    # -- fixed window ----------------------------------------------------------------------------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        (count,) = self._execute(_INCR, key=key, expiry=expiry, amount=amount).fetchall()[0]
        return count

    def get(self, key: str) -> int:
        row = self._execute(_COUNT, key=key).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._execute(_EXPIRY, key=key).fetchone()
        return row[0] if row else self.clock()

    # -- moving window ---------------------------------------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        return self._execute(_ACQUIRE, key=key, limit=limit, expiry=expiry, amount=amount).rowcount == 1

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        oldest_expiry, count = self._execute(_WINDOW, key=key).fetchone()
        return (oldest_expiry - expiry, count) if count else (self.clock(), 0)

    # -- housekeeping ----------------------------------------------------------------------------

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def clear(self, key: str) -> None:
        connection = self._connection()
        connection.execute("DELETE FROM counters WHERE key = ?", (key,))
        connection.execute("DELETE FROM entries WHERE key = ?", (key,))

    def reset(self) -> int | None:
        connection = self._connection()
        return connection.execute("DELETE FROM counters").rowcount + connection.execute("DELETE FROM entries").rowcount
