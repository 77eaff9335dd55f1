"""Provisioning: creating and suspending tenants, enabling their plugins, adding staff and API tokens; every change audited.

Separate from ``tenancy`` (the tenant model and finding one), which the audit
log reads: provisioning writes audit records, so it sits above the audit and
the tenant model below it, with no loop between the packages.
"""
