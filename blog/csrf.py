"""CSRF protection: Flask-WTF's session-bound tokens plus an Origin check.

The rule: an unsafe request (POST, PUT, PATCH, DELETE) to a route that acts on the
blog's session cookie must carry that session's CSRF token and, when the browser names
its `Origin`, come from the blog's own origin. Blueprints that act on no blog session
are exempt from both checks, by name (`exempt`): the JSON API, which reads bearer
tokens and no cookie, so a call is served whatever `Origin` it carries; and the local
Cognito, whose forms carry their own token tied to their own cookie.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import abort
from flask import current_app
from flask import request
from flask_wtf.csrf import CSRFProtect

from .config import origin

csrf = CSRFProtect()
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
EXEMPT = "blog.csrf_exempt"  # app.extensions key: names of the exempt blueprints


def init_app(app: Flask) -> None:
    """Protect every form; refuse unsafe requests that say they come from elsewhere."""
    app.extensions[EXEMPT] = set()
    app.before_request(check_origin)  # before CSRFProtect's own hook: registered first
    csrf.init_app(app)


def exempt(app: Flask, blueprint: Blueprint) -> None:
    """Serve `blueprint` without the session's CSRF token and without the Origin
    check: only for routes that act on no blog session cookie."""
    csrf.exempt(blueprint)
    app.extensions[EXEMPT].add(blueprint.name)


def check_origin() -> None:
    """A browser's Origin header on a state-changing request must be ours."""
    sent = request.headers.get("Origin")
    if request.method not in UNSAFE_METHODS or sent is None:
        return
    if request.blueprint in current_app.extensions[EXEMPT]:
        return
    base = current_app.config.get("BASE_URL") or request.host_url
    if sent == "null" or origin(sent) != origin(base):
        abort(403, "This request came from another site and was refused.")
