"""Backups of the whole installation (``yuyue backup``/``restore``, the worker's nightly one) and one tenant's rows moved between installations."""
