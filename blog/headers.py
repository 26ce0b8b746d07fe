"""Security headers on every response."""

from __future__ import annotations

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request

CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def csp(media_origin: str | None) -> str:
    """The CSP; images may also come from the bucket `GET /media/<key>` redirects to."""
    if not media_origin:
        return CSP
    return CSP.replace("img-src 'self' data:", f"img-src 'self' data: {media_origin}")


def init_app(app: Flask) -> None:
    """Add the headers to every response."""
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    """CSP, no framing or sniffing, same-origin referrers; no-store when signed in."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy",
                       csp(current_app.config.get("MEDIA_ORIGIN")))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    # An image (blog/media.py) is marked private by its view: members' browsers keep it.
    private = request.blueprint == "media" and response.cache_control.private
    if (g.get("user") or request.blueprint == "auth") and not private:
        headers["Cache-Control"] = "no-store"
    return response
