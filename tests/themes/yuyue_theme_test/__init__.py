"""A theme for the test suite: it overrides the front page and nothing else, so every other page is the default theme's."""

from typing import Any

from yuyue import hookimpl


@hookimpl
def register_themes() -> list[dict[str, Any]]:
    return [{"key": "test", "name": {"zh-Hans": "测试", "zh-Hant": "測試", "en": "Test"}, "package": __package__}]
