"""What the blog logs about requests: one line per response, members by a hashed tag."""

from __future__ import annotations

import hashlib
import logging
import time

from flask import Flask
from flask import Response
from flask import g
from flask import request

log = logging.getLogger("blog.request")


def init_app(app: Flask) -> None:
    """Time every request and log one line for it."""
    app.before_request(start_timer)
    app.after_request(log_request)


def user_hash(sub: str) -> str:
    """A short, non-reversible tag for a member in log lines."""
    return hashlib.sha256(sub.encode()).hexdigest()[:12]


def start_timer() -> None:
    g.started = time.perf_counter()


def log_request(response: Response) -> Response:
    """Method, path (never the query: it may hold a code), status, time, member tag."""
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
