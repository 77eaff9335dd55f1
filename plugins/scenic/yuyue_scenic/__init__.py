"""Timed scenic-area entry (景区分时预约): real-name hourly entry with individual and group quotas."""

from yuyue.plugin_api import VerticalFile, hookimpl
from yuyue_scenic.hooks import booking_units, validate_booking

# pluggy registers this package, so the behaviour hooks are imported here to be found.
__all__ = ["booking_units", "register_verticals", "validate_booking"]


@hookimpl
def register_verticals() -> list[VerticalFile]:
    return [VerticalFile(__package__, "vertical/vertical.json")]
