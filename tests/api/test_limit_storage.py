"""The node's rate-limit storage: a SQLite file every worker process counts in, exactly."""

from __future__ import annotations

import multiprocessing
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from yuyue.api.limit_storage import NodeLimitStorage, node_storage_uri


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(tmp_path: Path, clock: Clock) -> NodeLimitStorage:
    storage = storage_from_string(node_storage_uri(tmp_path))
    storage.clock = clock
    return storage


def test_the_uri_names_a_file_in_the_instance_folder_and_limits_finds_the_class(tmp_path):
    storage = storage_from_string(node_storage_uri(tmp_path / "instance"))

    assert isinstance(storage, NodeLimitStorage)
    assert storage.path == str(tmp_path / "instance" / "rate-limits.db")
    assert storage.check() and (tmp_path / "instance" / "rate-limits.db").exists()


@pytest.mark.parametrize("uri", ["yuyue-sqlite://", "yuyue-sqlite:///", "yuyue-sqlite://host/file.db"])
def test_a_uri_without_a_path_is_refused(uri):
    with pytest.raises(ValueError, match="yuyue-sqlite:///PATH"):
        NodeLimitStorage(uri)


def test_the_file_is_in_wal_mode_so_readers_never_wait_for_a_hit(storage):
    storage.incr("k", 60)

    assert sqlite3.connect(storage.path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_moving_window_lets_exactly_the_limit_through_within_the_window(storage, clock):
    limiter, five_a_minute = MovingWindowRateLimiter(storage), parse("5/minute")

    assert [limiter.hit(five_a_minute, "phone") for _ in range(6)] == [True] * 5 + [False]
    clock.now += 59
    assert not limiter.hit(five_a_minute, "phone")
    assert limiter.hit(five_a_minute, "other phone")


def test_moving_window_frees_a_place_when_its_oldest_hit_is_a_window_old(storage, clock):
    limiter, two_a_minute = MovingWindowRateLimiter(storage), parse("2/minute")
    limiter.hit(two_a_minute, "k")
    clock.now += 30
    limiter.hit(two_a_minute, "k")

    assert limiter.get_window_stats(two_a_minute, "k") == (clock.now - 30 + 60, 0)
    clock.now += 30
    assert limiter.hit(two_a_minute, "k")  # the first hit is 60 s old
    assert not limiter.hit(two_a_minute, "k")  # the second is 30 s old


def test_moving_window_refuses_a_cost_larger_than_the_limit(storage):
    assert not storage.acquire_entry("k", limit=2, expiry=60, amount=3)
    assert storage.acquire_entry("k", limit=2, expiry=60, amount=2)
    assert storage.get_moving_window("k", 2, 60)[1] == 2


def test_fixed_window_counts_until_the_window_ends_then_starts_again(storage, clock):
    limiter, three_a_minute = FixedWindowRateLimiter(storage), parse("3/minute")

    assert [limiter.hit(three_a_minute, "k") for _ in range(4)] == [True, True, True, False]
    assert storage.get_expiry(three_a_minute.key_for("k")) == clock.now + 60
    clock.now += 60
    assert limiter.hit(three_a_minute, "k")
    assert storage.get(three_a_minute.key_for("k")) == 1


def test_clear_and_reset_forget_counts(storage):
    storage.incr("a", 60)
    storage.acquire_entry("b", 5, 60)

    storage.clear("a")
    assert storage.get("a") == 0 and storage.reset() == 1
    assert storage.get_moving_window("b", 5, 60)[1] == 0


def test_expired_rows_are_deleted_once_a_minute(storage, clock):
    storage.incr("old", 10)
    storage.acquire_entry("old", 5, 10)
    clock.now += 61

    storage.get("anything")

    connection = sqlite3.connect(storage.path)
    assert connection.execute("SELECT count(*) FROM counters").fetchone() == (0,)
    assert connection.execute("SELECT count(*) FROM entries").fetchone() == (0,)


# -- many processes, one count ---------------------------------------------------------------------


def _hit_together(uri: str, strategy: str, start, tries: int, passed) -> None:
    storage = storage_from_string(uri)
    start.wait()
    if strategy == "moving":
        passed.put(sum(storage.acquire_entry("shared", 100, 60) for _ in range(tries)))
    else:
        passed.put(sum(storage.incr("shared", 60) <= 100 for _ in range(tries)))


@pytest.mark.parametrize("strategy", ["moving", "fixed"])
def test_processes_hitting_one_key_at_once_get_exactly_the_limit_between_them(tmp_path, strategy):
    context = multiprocessing.get_context("fork")
    count, tries = 6, 40
    start, passed = context.Barrier(count), context.Queue()
    processes = [context.Process(target=_hit_together, args=(node_storage_uri(tmp_path), strategy, start, tries, passed)) for _ in range(count)]
    for process in processes:
        process.start()
    shares = [passed.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)

    assert sum(shares) == 100
    assert sum(1 for n in shares if n) > 1  # the processes really shared the places


def test_threads_of_one_process_share_one_storage_object(storage):
    with ThreadPoolExecutor(4) as pool:
        passed = sum(pool.map(lambda _: storage.acquire_entry("shared", 50, 60), range(100)))

    assert passed == 50
