"""Shuttle booking (班车预约): seats on scheduled departures with pick-up and drop-off points."""

from yuyue.plugin_api import VerticalFile, hookimpl


@hookimpl
def register_verticals() -> list[VerticalFile]:
    return [VerticalFile(__package__, "vertical/vertical.json")]
