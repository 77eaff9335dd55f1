"""On the real server (``yuyue serve``, its default 2 × cores + 1 workers): the metrics of every worker add up, and readiness waits for a worker.

Each request comes on a connection of its own, so the workers share them; a
scrape is answered by one worker and must still count what all of them served.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from observability_setup import Scrape
from serving_setup import SECRET_KEY, Server, served_database, yuyue_serve

pytestmark = pytest.mark.slow

REQUESTS = 60


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("served-metrics")
    # Left by a previous run of this instance: `yuyue serve` must empty it before its workers count.
    (folder / "metrics").mkdir()
    (folder / "metrics" / "counter_1.db").write_bytes(b"stale")
    with served_database(folder) as environment, yuyue_serve(folder, environment) as server:
        yield server


def scrape(server: Server) -> Scrape:
    answer = server.request("GET", "/metrics")
    assert answer.status == 200, answer.body
    return Scrape(answer.body.decode())


def test_request_counts_add_up_across_every_worker(server: Server):
    source = "127.0.0.21"
    before = scrape(server).value("yuyue_http_requests_total", route="/api/v1/health", status="200")

    for _ in range(REQUESTS):
        assert server.request("GET", "/api/v1/health", source=source).status == 200

    after = scrape(server)
    assert len(set(server.answered_by(source))) > 1, "the requests all met one worker: nothing was summed"
    assert after.value("yuyue_http_requests_total", route="/api/v1/health", status="200") - before == REQUESTS
    assert after.value("yuyue_http_request_duration_seconds_count", route="/api/v1/health") >= REQUESTS


def test_the_server_keeps_its_workers_metrics_in_the_instance_folder(server: Server):
    files = {path.name for path in (server.folder / "metrics").iterdir()}

    assert files and all(name.endswith(".db") for name in files)
    assert "counter_1.db" not in files


def test_the_server_is_not_ready_without_a_worker_and_ready_once_one_runs(server: Server):
    not_ready = server.request("GET", "/api/v1/ready")
    assert (not_ready.status, not_ready.json()["code"]) == (503, "not_ready")
    assert not_ready.json()["checks"]["worker"]["status"] == "failed"

    inherited = {name: value for name, value in os.environ.items() if not name.startswith(("YUYUE_", "GUNICORN_", "PROMETHEUS_"))}
    env = {**inherited, "YUYUE_INSTANCE_PATH": str(server.folder), "YUYUE_SECRET_KEY": SECRET_KEY, **server.environment}
    with open(server.folder / "worker.log", "wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "yuyue", "worker"], env=env, cwd=server.folder, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while (answer := server.request("GET", "/api/v1/ready")).status != 200 and time.monotonic() < deadline:
            assert worker.poll() is None, (server.folder / "worker.log").read_text(errors="replace")
            time.sleep(0.5)
        assert answer.status == 200, answer.body
        assert answer.json() == {"status": "ready", "checks": {"database": {"status": "ok"}, "migrations": {"status": "ok"}, "worker": {"status": "ok"}}}
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
