"""Placeholder of the admin's operator pages (issue 12): filled in by its own change."""

from __future__ import annotations

__all__ = ["VIEWS"]

VIEWS: tuple[type, ...] = ()
