"""The ink theme declares itself, and ships its own layout and a stylesheet layered over the default theme's."""

from importlib.resources import files
from types import SimpleNamespace
from urllib.parse import urlencode

import jinja2
import yuyue_theme_ink

import yuyue_schemas

PACKAGE = "yuyue_theme_ink"


def page_environment() -> jinja2.Environment:
    """Ink's templates in front of the default theme's, as the site chains them, with stand-ins for the site's page helpers."""
    loader = jinja2.ChoiceLoader([jinja2.PackageLoader(PACKAGE, "templates"), jinja2.PackageLoader("yuyue_theme_default", "templates")])
    environment = jinja2.Environment(loader=loader, autoescape=True)
    environment.globals.update(
        _=lambda text, **values: text % values if values else text,
        url_for=lambda endpoint, **values: f"/{endpoint}" + (f"?{urlencode(values)}" if values else ""),
        theme_static=lambda filename: f"/themes/ink/{filename}",
    )
    return environment


def render(template: str = '{% extends "site/base.html" %}{% block title %}预约{% endblock %}{% block content %}<p>hi</p>{% endblock %}') -> str:
    tenant = SimpleNamespace(name="Museum", slug="museum", brand_colour="#123456", logo_digest=None)
    return page_environment().from_string(template).render(tenant=tenant, theme_key="ink", lang="zh-Hans", languages=[], customer=None)


def test_theme_registers_its_key_name_and_package():
    [theme] = yuyue_theme_ink.register_themes()
    assert theme["key"] == "ink"
    assert theme["package"] == PACKAGE
    assert yuyue_schemas.problems("localized-text", theme["name"]) == []


def test_theme_ships_its_layout_a_partial_and_a_stylesheet():
    assert files(PACKAGE).joinpath("templates", "site", "base.html").is_file()
    assert files(PACKAGE).joinpath("templates", "site", "_stylesheets.html").is_file()
    assert files(PACKAGE).joinpath("static", "theme.css").is_file()


def test_base_template_renders_its_blocks_in_the_ink_layout():
    html = render()

    assert html.startswith("<!doctype html>")
    assert "<title>预约</title>" in html and "<p>hi</p>" in html
    assert 'class="site-header ink-band"' in html and 'class="site-nav ink-tabs"' in html and 'class="ink-seal"' in html


def test_the_stylesheet_is_a_layer_over_the_default_then_the_brand_colour():
    links = [line.strip() for line in render().splitlines() if line.strip().startswith('<link rel="stylesheet"')]

    assert links == [
        '<link rel="stylesheet" href="/site_assets.theme_file?key=default&amp;filename=theme.css">',
        '<link rel="stylesheet" href="/themes/ink/theme.css">',
        '<link rel="stylesheet" href="/site.brand_css?v=123456">',
    ]


def test_pages_ink_does_not_override_come_from_the_default_theme_in_the_ink_layout():
    html = render('{% extends "site/error.html" %}')

    assert "error-page" in html and "ink-band" in html
