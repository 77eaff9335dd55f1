"""Fixtures: the real server, counting rate limits in the node's file (``node_server``) or in Redis under a
key prefix of the test's own (``redis_server``, skipped without a Redis on 127.0.0.1:6379)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from local_services import redis_reachable
from serving_setup import REDIS_URL, Server, served_database, yuyue_serve


@pytest.fixture(scope="package")
def node_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The default single machine: limits counted in ``rate-limits.db`` of the instance folder."""
    folder = tmp_path_factory.mktemp("served-node")
    with served_database(folder) as environment, yuyue_serve(folder, environment) as server:
        yield server


@pytest.fixture(scope="package")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Limits counted in Redis (database 7) under a key prefix of this run's own, deleted afterwards."""
    if not redis_reachable():
        pytest.skip("no Redis server answers on 127.0.0.1:6379")
    import redis

    prefix = f"yuyue-served-test-{uuid.uuid4().hex}"
    folder = tmp_path_factory.mktemp("served-redis")
    store = redis.Redis.from_url(REDIS_URL)
    try:
        with served_database(folder) as environment:
            environment = {**environment, "YUYUE_REDIS_URL": REDIS_URL, "YUYUE_RATELIMIT_KEY_PREFIX": prefix}
            with yuyue_serve(folder, environment) as server:
                yield server
    finally:
        keys = list(store.scan_iter(match=f"*{prefix}*"))
        if keys:
            store.delete(*keys)
        store.close()
