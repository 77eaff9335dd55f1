"""Booking types (a merchant's configured offering, created from a vertical) and resources."""
