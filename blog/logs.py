"""What the blog logs about requests: one line per response, members by a hashed tag.

Locally the line is plain text. On Lambda (BLOG_LOG_FORMAT=json, the default there) it
is one JSON object per line on stdout, which CloudWatch Logs Insights reads field by
field (docs/DEPLOY.md has the queries). Neither ever holds a query string, a token,
a code or a secret.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from datetime import UTC
from datetime import datetime
from typing import Any

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request

log = logging.getLogger("blog.request")
_first_request = True  # of this process: on Lambda, a cold start


def init_app(app: Flask) -> None:
    """Time every request and log one line for it, as text or JSON."""
    app.before_request(start_timer)
    app.after_request(log_request)
    if app.config["LOG_FORMAT"] == "json":
        use_json_lines()


def use_json_lines() -> None:
    """Send the request lines, as they are, to stdout (once per process)."""
    if not any(getattr(h, "blog_json", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.blog_json = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False  # not again through the runtime's own text handler


def user_hash(sub: str) -> str:
    """A short, non-reversible tag for a member in log lines."""
    return hashlib.sha256(sub.encode()).hexdigest()[:12]


def start_timer() -> None:
    g.started = time.perf_counter()


def log_request(response: Response) -> Response:
    """Log method, path (never the query: it may hold a code), status, time, member."""
    fields = request_fields(response)
    if current_app.config["LOG_FORMAT"] == "json":
        log.info(json.dumps(fields, separators=(",", ":")))
    else:
        log.info(
            "%s %s %s %.1fms user=%s",
            fields["method"],
            fields["path"],
            fields["status"],
            fields["duration_ms"],
            fields["member"] or "-",
        )
    return response


def request_fields(response: Response) -> dict[str, Any]:
    """The facts of one request, with the Lambda and API Gateway request ids."""
    global _first_request
    cold, _first_request = _first_request, False
    elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    user = g.get("user")
    context = request.environ.get("awsgi.context")
    event = request.environ.get("awsgi.event") or {}
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": "INFO",
        "lambda_request_id": getattr(context, "aws_request_id", None),
        "api_request_id": (event.get("requestContext") or {}).get("requestId"),
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round(elapsed, 1),
        "member": user_hash(user["sub"]) if user else None,
        "cold_start": cold,
    }
