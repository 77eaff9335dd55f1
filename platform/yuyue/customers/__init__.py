"""Tenant-scoped customers, their companions, points and bans."""
