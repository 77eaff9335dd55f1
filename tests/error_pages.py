"""The reference an error page shows (the site's and the admin's alike): the request's id, which the logs carry too.

Imported by name (``from error_pages import …``): test folders are not packages.
"""

from __future__ import annotations

import re

REFERENCE = re.compile(r'<p class="reference">Reference: <code class="request-id">([^<]*)</code></p>')


def reference_on(response) -> str:
    """The reference the page shows; it must be the id of the response's header."""
    found = REFERENCE.findall(response.get_data(as_text=True))
    assert len(found) == 1, response.get_data(as_text=True)
    assert found[0] == response.headers["X-Request-ID"]
    return found[0]
