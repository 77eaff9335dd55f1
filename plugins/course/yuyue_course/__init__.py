"""Class booking (课程预约): hourly classes with a coach and a room, a weekly class limit and late-cancellation points."""

from yuyue.plugin_api import VerticalFile, hookimpl
from yuyue_course.hooks import cancellation_terms, validate_booking

# pluggy registers this package, so the behaviour hooks are imported here to be found.
__all__ = ["cancellation_terms", "register_verticals", "validate_booking"]


@hookimpl
def register_verticals() -> list[VerticalFile]:
    return [VerticalFile(__package__, "vertical/vertical.json")]
