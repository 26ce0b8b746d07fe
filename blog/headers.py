"""Security headers and one log line for every response."""

from __future__ import annotations

import logging
import time

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request

from .auth import user_hash

log = logging.getLogger("blog.request")

CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    """Register the timing and header hooks."""
    app.before_request(start_timer)
    app.after_request(add_security_headers)
    app.after_request(log_request)


def start_timer() -> None:
    g.started = time.perf_counter()


def add_security_headers(response: Response) -> Response:
    """CSP, no framing or sniffing, same-origin referrers; no-store when signed in."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    if g.get("user") or request.blueprint == "auth":
        headers["Cache-Control"] = "no-store"
    return response


def log_request(response: Response) -> Response:
    """Method, path (never the query: it may hold a code), status, time, user tag."""
    elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    user = g.get("user")
    log.info(
        "%s %s %s %.1fms user=%s",
        request.method,
        request.path,
        response.status_code,
        elapsed,
        user_hash(user["sub"]) if user else "-",
    )
    return response
