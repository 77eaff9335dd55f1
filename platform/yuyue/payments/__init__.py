"""Payments: the provider contract, built-in offline and sandbox providers, provider notifications and refunds."""
