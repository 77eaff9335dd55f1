"""A tenant's notification channels: which are on, and each one's settings over the installation's.

Placeholder of the shared contract; the channels helper fills it in.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import Session


def enabled_channels(session: Session, app: Flask) -> list[str]:
    """Keys of the channels the tenant in scope sends customer notifications on, in the order tried."""
    return ["log"]


def settings_for(session: Session, app: Flask, key: str) -> dict[str, Any]:
    """The settings channel ``key`` sends with for the tenant in scope: the installation's, overlaid by the tenant's."""
    return {}
