"""The host's own login provider (``wechat``), registered through the same hook as any plugin's.

Listed in ``yuyue.plugins.DEFAULT_PLUGINS`` so every application has it.
"""

from __future__ import annotations

from yuyue.customers.login_providers import LoginProvider, WeChatMiniProgram
from yuyue.hookspecs import hookimpl


@hookimpl
def register_login_providers() -> list[LoginProvider]:
    return [WeChatMiniProgram()]
