"""Event registration (活动报名): sign-ups for talks, workshops and family events by session."""

from yuyue.plugin_api import VerticalFile, hookimpl


@hookimpl
def register_verticals() -> list[VerticalFile]:
    return [VerticalFile(__package__, "vertical/vertical.json")]
