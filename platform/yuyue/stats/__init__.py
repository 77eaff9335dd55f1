"""Statistics of a tenant's bookings over a period: the figures (``figures.py``), the period they cover (``period.py``), charts as SVG (``charts.py``).

Read-only: the merchant API and the admin dashboard call the same functions, so a figure has one definition
(``docs/statistics.md``).
"""
