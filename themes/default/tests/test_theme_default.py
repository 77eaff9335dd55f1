"""The default theme declares itself and ships the files the site renders with."""

from importlib.resources import files

import jinja2
import yuyue_theme_default

import yuyue_schemas

PACKAGE = "yuyue_theme_default"


def test_theme_registers_its_key_name_and_package():
    [theme] = yuyue_theme_default.register_themes()
    assert theme["key"] == "default"
    assert theme["package"] == PACKAGE
    assert yuyue_schemas.problems("localized-text", theme["name"]) == []


def test_theme_ships_a_base_template_and_a_stylesheet():
    assert files(PACKAGE).joinpath("templates", "site", "base.html").is_file()
    assert files(PACKAGE).joinpath("static", "theme.css").is_file()


def test_base_template_renders_its_blocks():
    environment = jinja2.Environment(loader=jinja2.PackageLoader(PACKAGE, "templates"), autoescape=True)
    child = environment.from_string('{% extends "site/base.html" %}{% block title %}预约{% endblock %}{% block content %}<p>hi</p>{% endblock %}')
    html = child.render()
    assert html.startswith("<!doctype html>")
    assert 'name="viewport"' in html
    assert "<title>预约</title>" in html
    assert "<p>hi</p>" in html
