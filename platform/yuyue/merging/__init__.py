"""Merging two records of one customer: it reaches every table that names a customer, so it sits above them all."""
