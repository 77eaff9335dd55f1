"""The figures as SVG drawn on the server: bar charts by leather, the hour-of-week heatmap by hand (leather has none).

Each SVG scales with its ``viewBox`` (the fixed width and height leather writes are taken out, so a
phone shows it whole), names itself with a ``<title>``, uses the system fonts, holds no script and
loads nothing from anywhere.

leather, not pygal: pygal adds a finder to ``sys.meta_path`` when imported that warns
(``ImportWarning``) on every import that misses, and writes an inline script into each chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

import leather

from yuyue.stats.figures import Cell

__all__ = ["bar_chart", "heatmap_svg"]

_FONTS = '-apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", system-ui, sans-serif'
# leather's theme is its module's variables; the admin's colours and fonts, set once for every chart.
for _name in ("title_font_family", "legend_font_family", "tick_font_family"):
    setattr(leather.theme, _name, _FONTS)
leather.theme.background_color = "transparent"
leather.theme.default_series_colors = ["#c2410c"]
leather.theme.title_color = "#1f2328"
ElementTree.register_namespace("", "http://www.w3.org/2000/svg")
_SVG = "{http://www.w3.org/2000/svg}"
# Narrow, so that on a phone (scaled to ~360 px) the text stays near its size; the page caps how wide it grows.
_WIDTH = 420


def _scalable(svg: str, title: str) -> str:
    """leather's SVG with a viewBox instead of its fixed size, a ``<title>`` and an image role."""
    root = ElementTree.fromstring(svg)
    width, height = root.attrib.pop("width"), root.attrib.pop("height")
    root.attrib.pop("version", None)
    root.set("viewBox", f"0 0 {width} {height}")
    root.set("role", "img")
    root.set("aria-label", title)
    label = ElementTree.Element(f"{_SVG}title")
    label.text = title
    root.insert(0, label)
    return ElementTree.tostring(root, encoding="unicode")


def _percent(value: float, index: int, count: int) -> str:
    return f"{value:.0%}"


def _number(value: float, index: int, count: int) -> str:
    return f"{value:g}"


def _short(label: str) -> str:
    """A label cut to what leaves the bars room; the table beside the chart has it whole."""
    return label if len(label) <= 14 else label[:13] + "…"


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int | float], *, percent: bool = False) -> str:
    """A horizontal bar chart (labels stay readable on a narrow screen), one bar per label, in the order given from the top."""
    chart = leather.Chart(title)
    top = max(values, default=0) or 1
    chart.add_x_scale(0, 1 if percent else top)
    ticks = [0, 0.25, 0.5, 0.75, 1] if percent else list(range(int(top) + 1)) if top <= 5 else None  # whole numbers of a few bookings
    chart.add_x_axis(ticks=ticks, tick_formatter=_percent if percent else _number)
    # leather draws the first datum on top, as the table lists it.
    chart.add_bars([(value, _short(str(label))) for label, value in zip(labels, values, strict=True)] or [(0, "")])
    return _scalable(chart.to_svg(width=_WIDTH, height=max(160, 70 + 34 * len(labels))), title)


def heatmap_svg(title: str, cells: Sequence[Cell], weekdays: Sequence[str], *, legend: str) -> str:
    """Seven rows (Monday first) of 24 hour cells, darker with more bookings; each cell's ``<title>`` says its count."""
    size, left, top = 26, 52, 50
    width, height = left + 24 * size + 4, top + 7 * size + 34
    most = max((cell.bookings for cell in cells), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)} class="heatmap" font-family={quoteattr(_FONTS)}>',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="22" font-size="20" fill="#1f2328">{escape(title)}</text>',
    ]
    for hour in range(0, 24, 3):
        parts.append(f'<text x="{left + hour * size + size / 2}" y="{top - 8}" font-size="16" text-anchor="middle" fill="#667085">{hour:02d}</text>')
    for day, name in enumerate(weekdays):
        parts.append(f'<text x="{left - 6}" y="{top + day * size + size * 0.65}" font-size="16" text-anchor="end" fill="#667085">{escape(name)}</text>')
    for cell in cells:
        x, y = left + cell.hour * size, top + cell.weekday * size
        opacity = 0.06 if not cell.bookings else 0.2 + 0.8 * cell.bookings / most
        parts.append(
            f'<rect x="{x + 1}" y="{y + 1}" width="{size - 2}" height="{size - 2}" rx="3" fill="#c2410c" fill-opacity="{opacity:.2f}">'
            f"<title>{escape(weekdays[cell.weekday])} {cell.hour:02d}:00 · {cell.bookings}</title></rect>"
        )
    parts.append(f'<text x="{left}" y="{height - 8}" font-size="15" fill="#667085">{escape(legend)}</text>')
    parts.append("</svg>")
    return "".join(parts)
