"""Timed exhibition entry (展览分时预约): real-name, timed museum and gallery entry with ID quotas."""

from yuyue.plugin_api import VerticalFile, hookimpl


@hookimpl
def register_verticals() -> list[VerticalFile]:
    return [VerticalFile(__package__, "vertical/vertical.json")]
