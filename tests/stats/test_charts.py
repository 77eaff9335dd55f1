"""Charts are SVG a phone can scale and a strict page can inline: a viewBox and no size, a title, no script, nothing from elsewhere."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest

from yuyue.stats.charts import bar_chart, heatmap_svg
from yuyue.stats.figures import Cell

SVG = "{http://www.w3.org/2000/svg}"
WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
CHARTS = {
    "bars": lambda: bar_chart("按预约类型", ["导览 <b>&", "讲解"], [4, 1]),
    "percent": lambda: bar_chart("Busiest", ["a", "b"], [0.3, 0.1], percent=True),
    "empty": lambda: bar_chart("Nothing", [], []),
    "heatmap": lambda: heatmap_svg("Heat <&>", [Cell(d, h, d * h, d * h) for d in range(7) for h in range(24)], WEEKDAYS, legend="darker: more"),
}


@pytest.mark.parametrize("chart", CHARTS)
def test_a_chart_scales_names_itself_and_loads_nothing(chart):
    svg = CHARTS[chart]()
    root = ElementTree.fromstring(svg)  # well-formed, merchant text escaped
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox")) and root.get("width") is None and root.get("height") is None
    assert root.find(f"{SVG}title") is not None and root.get("role") == "img" and root.get("aria-label")
    assert not [e for e in root.iter() if e.tag.endswith("script") or e.tag.endswith("foreignObject")]
    assert not [value for e in root.iter() for name, value in e.attrib.items() if "href" in name or name.startswith("on")]
    assert re.findall(r"(?:https?:)?//[\w.-]+", svg.replace('xmlns="http://www.w3.org/2000/svg"', "")) == []


def test_the_heatmap_says_each_cells_count():
    root = ElementTree.fromstring(heatmap_svg("H", [Cell(d, h, 5 if (d, h) == (6, 3) else 0, 0) for d in range(7) for h in range(24)], WEEKDAYS, legend="x"))
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "周日 03:00 · 5" in titles and "周一 00:00 · 0" in titles
