"""The bodies API v1 validates and each route's OpenAPI description beside them, one module per resource.

The handler modules (:mod:`yuyue.api.customer`, :mod:`yuyue.api.merchant`)
validate requests with these very schemas, so the document cannot drift from
what the endpoints accept.
"""
