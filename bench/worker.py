"""One booking process of the "processes" scenario: threads booking a slot until their phones run out.

``python bench/worker.py URL FOLDER SLUG THREADS PHONE,PHONE,...``: builds the
application, says it is ready (``FOLDER/ready-<pid>``), waits for ``FOLDER/go``,
then prints one JSON line with its start and end (``time.time()``), latencies
and outcomes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from scenarios import run_clients

from yuyue.app import create_app
from yuyue.db import db


def main(url: str, folder: str, slug: str, threads: str, phones: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": folder})
    with app.app_context():
        db.session.connection()  # imported, configured and connected before the start signal
        db.session.remove()
    go = Path(folder) / "go"

    def wait_for_go() -> None:
        (Path(folder) / f"ready-{os.getpid()}").touch()
        while not go.exists():
            time.sleep(0.002)

    numbers = phones.split(",")
    clients = int(threads)
    done = run_clients(app, slug, [numbers[i::clients] for i in range(clients)], before_start=wait_for_go)
    print(json.dumps({"started": done["started"], "ended": done["started"] + done["wall"], "latencies": done["latencies"], "outcomes": done["outcomes"]}))


if __name__ == "__main__":
    main(*sys.argv[1:])
