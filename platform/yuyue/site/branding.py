"""A tenant's look: its chosen theme, brand colour and logo, served to its pages."""

from __future__ import annotations
