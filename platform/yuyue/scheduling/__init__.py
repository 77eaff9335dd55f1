"""Availability rules → slots, holidays, and the slot inventory that counts capacity."""
