"""yuyue: a multi-tenant, low-code booking platform.

Plugins import their markers from here: ``from yuyue import hookimpl, VerticalFile``.
"""

from yuyue.declarations import VerticalFile
from yuyue.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["VerticalFile", "hookimpl", "__version__"]
