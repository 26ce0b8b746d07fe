"""The security headers of every answer (blog/headers.py).

docs/SECURITY.md: Browser hardening.
"""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/", "/healthz", "/posts/", "/auth/login", "/nope"])
def test_security_headers(auth, client, path):
    auth.login()
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    for part in (
        "default-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ):
        assert part in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert len(headers.getlist("Set-Cookie")) <= 1
