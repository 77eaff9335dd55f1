"""Timed exhibition entry (展览分时预约): real-name, timed museum and gallery entry with ID quotas, for individuals and groups."""

from yuyue.plugin_api import VerticalFile, hookimpl
from yuyue_exhibition.hooks import booking_units, check_in_window, validate_booking

# pluggy registers this package, so the behaviour hooks are imported here to be found.
__all__ = ["booking_units", "check_in_window", "register_verticals", "validate_booking"]


@hookimpl
def register_verticals() -> list[VerticalFile]:
    return [VerticalFile(__package__, "vertical/vertical.json")]
