"""Tenants, their branches, staff, and which plugins each tenant may use."""
