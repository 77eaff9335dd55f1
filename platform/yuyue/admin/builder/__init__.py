"""The booking-type builder (``/admin/t/<tenant>/booking-types/…``): where managers and owners make what customers book."""

from __future__ import annotations

from yuyue.admin.builder.views import BuilderView

__all__ = ["VIEWS"]

VIEWS: tuple[type, ...] = (BuilderView,)
