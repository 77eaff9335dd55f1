"""Exports for spreadsheets: bookings as xlsx and csv, in the tenant's time zone."""
