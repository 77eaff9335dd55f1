"""The default theme declares itself and ships every page template, its partials and the stylesheet the site renders with."""

from importlib.resources import files
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import jinja2
import yuyue_theme_default

import yuyue_schemas

PACKAGE = "yuyue_theme_default"
PARTIALS = ("_stylesheets.html", "_brand.html", "_languages.html")


def page_environment() -> jinja2.Environment:
    """The theme's templates with stand-ins for what the site puts in every page (gettext, url_for, theme_static)."""
    environment = jinja2.Environment(loader=jinja2.PackageLoader(PACKAGE, "templates"), autoescape=True)
    environment.globals.update(
        _=lambda text, **values: text % values if values else text,
        url_for=lambda endpoint, **values: f"/{endpoint}" + (f"?{urlencode(values)}" if values else ""),
        theme_static=lambda filename: f"/themes/default/{filename}",
    )
    return environment


def page(**tenant: object) -> str:
    """A page of a tenant with ``tenant``'s attributes (name, slug, brand_colour, logo_digest) in the default layout."""
    child = page_environment().from_string('{% extends "site/base.html" %}{% block title %}预约{% endblock %}{% block content %}<p>hi</p>{% endblock %}')
    languages = [{"locale": "en", "tag": "en", "name": "English", "current": True, "url": "?lang=en"}]
    attributes = {"name": "Museum", "slug": "museum", "brand_colour": None, "logo_digest": None, **tenant}
    return child.render(tenant=SimpleNamespace(**attributes), theme_key="default", lang="zh-Hans", languages=languages, customer=None)


def test_theme_registers_its_key_name_and_package():
    [theme] = yuyue_theme_default.register_themes()
    assert theme["key"] == "default"
    assert theme["package"] == PACKAGE
    assert yuyue_schemas.problems("localized-text", theme["name"]) == []


def test_theme_ships_the_layout_its_partials_the_pages_and_a_stylesheet():
    for template in ("base.html", "home.html", "error.html", *PARTIALS):
        assert files(PACKAGE).joinpath("templates", "site", template).is_file(), template
    assert files(PACKAGE).joinpath("static", "theme.css").is_file()


def test_base_template_renders_its_blocks():
    html = page()

    assert html.startswith("<!doctype html>")
    assert 'name="viewport"' in html
    assert "<title>预约</title>" in html
    assert "<p>hi</p>" in html
    assert '<link rel="stylesheet" href="/themes/default/theme.css">' in html
    assert 'aria-current="true">English</a>' in html


def test_the_brand_colour_and_logo_are_linked_only_when_the_tenant_has_them():
    plain = page()
    branded = page(brand_colour="#b7332a", logo_digest="f" * 64)

    assert "brand_css" not in plain and "site-logo" not in plain
    assert '<link rel="stylesheet" href="/site.brand_css?v=b7332a">' in branded
    assert '<img class="site-logo" src="/site.logo?v=ffffffffffffffff" alt="">' in branded


def test_no_template_has_inline_script_or_style():
    templates = sorted(Path(str(files(PACKAGE).joinpath("templates"))).rglob("*.html"))
    assert len(templates) > 20  # the site's pages and their partials, in subfolders too
    for template in templates:
        text = template.read_text("utf-8")
        assert "<style" not in text and "style=" not in text, template.name
        assert "<script>" not in text and "<script " not in text.replace('<script src="', ""), template.name
