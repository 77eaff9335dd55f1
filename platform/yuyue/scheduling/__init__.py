"""Availability rules → slots, holidays, and the slot inventory that counts capacity."""

from datetime import timedelta

# Resources are allocated in fixed quanta of this length (one unique row per resource and quantum).
QUANTUM = timedelta(minutes=5)
