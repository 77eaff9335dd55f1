"""What the webhook tests share: a real HTTP receiver on loopback, and the delivery engine's two steps as the tests call them.

Imported by name (test folders are not packages).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from yuyue.events import delivery as engine
from yuyue.events.delivery import Subscriber

HANG = "hang"  # a scripted answer: accept the request and never answer it
CUT = "cut"  # a scripted answer: 200 and its headers, then the connection reset before the body


@dataclass
class Received:
    """One request the receiver got: its headers (lower-cased names) and body bytes."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that answers from a script (a status, or :data:`HANG`), then ``default``."""

    url: str
    script: list[int | str] = field(default_factory=list)
    default: int | str = 204
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self) -> int | str:
        return self.script.pop(0) if self.script else self.default

    @property
    def webhook_ids(self) -> list[str]:
        return [request.headers["webhook-id"] for request in self.received]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            answer = receiver.answer()
            if answer == HANG:
                receiver.release.wait(30)
                return
            if answer == CUT:
                self.send_response(200)
                self.send_header("content-length", "1000")
                self.end_headers()
                self.wfile.flush()
                time.sleep(0.2)  # the client has read the status line and waits for the body
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()  # with a zero linger: a reset, not an end of file
                self.close_connection = True
                return
            self.send_response(answer)
            reply = b'{"ok": true}' if answer < 300 else b"receiver says no"
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A receiver on a free loopback port; stopped (and any hanging request let go) when the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    state = Receiver(f"http://127.0.0.1:{server.server_port}/hooks")
    server.RequestHandlerClass = _handler(state)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


# --- the outbox loop --------------------------------------------------------------------


def fan_out(session, subscribers: Sequence[Subscriber], *, limit: int = 100, now: datetime) -> int:
    return engine.fan_out(session, subscribers, limit=limit, now=now)


def send_due(session, subscribers: Sequence[Subscriber], *, now: datetime) -> int:
    """The engine's send round; how many deliveries it claimed."""
    return engine.send_due(session, subscribers, now=now).claimed
