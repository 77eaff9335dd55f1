"""The services this machine runs beside the tests (Redis), and whether they answer.

Imported by name (``from local_services import …``): test folders are not packages.
"""

from __future__ import annotations

import socket


def redis_reachable() -> bool:
    """Whether Redis answers PING at 127.0.0.1:6379."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False
