"""CSRF protection: Flask-WTF's session-bound tokens plus an Origin check."""

from __future__ import annotations

from flask import Flask
from flask import abort
from flask import current_app
from flask import request
from flask_wtf.csrf import CSRFProtect

from .cognito import origin

csrf = CSRFProtect()
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def init_app(app: Flask) -> None:
    """Protect every form; refuse unsafe requests that say they come from elsewhere."""
    app.before_request(check_origin)  # before CSRFProtect's own hook: registered first
    csrf.init_app(app)


def check_origin() -> None:
    """A browser's Origin header on a state-changing request must be ours."""
    sent = request.headers.get("Origin")
    if request.method not in UNSAFE_METHODS or sent is None:
        return
    if request.blueprint in csrf._exempt_blueprints:
        return
    base = current_app.config.get("BASE_URL") or request.host_url
    if sent == "null" or origin(sent) != origin(base):
        abort(403, "This request came from another site and was refused.")
