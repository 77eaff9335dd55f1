"""Timed scenic-area entry (景区分时预约): real-name hourly entry with individual and group quotas."""

from yuyue.plugin_api import VerticalFile, hookimpl


@hookimpl
def register_verticals() -> list[VerticalFile]:
    return [VerticalFile(__package__, "vertical/vertical.json")]
