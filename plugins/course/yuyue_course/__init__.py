"""Class booking (课程预约): hourly classes with a coach and a room, and late-cancellation points."""

from yuyue.plugin_api import VerticalFile, hookimpl


@hookimpl
def register_verticals() -> list[VerticalFile]:
    return [VerticalFile(__package__, "vertical/vertical.json")]
