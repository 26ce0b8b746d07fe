"""The landing page and the health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import render_template

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> Any:
    """What the blog is, and a way in."""
    return render_template("main/index.html")


@bp.get("/healthz")
def healthz() -> Any:
    """For load balancers and uptime checks."""
    return {"status": "ok"}
