"""The web admin: Flask-AppBuilder's pages for staff and operators."""
