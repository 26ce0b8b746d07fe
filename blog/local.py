"""Local mode: the blog and its local Cognito on one loopback server, no AWS needed.

The blog learns its own URL from the first request (on a loopback host only) unless
BLOG_BASE_URL says it, then points its Cognito settings at the local provider.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import click
from flask import Flask
from flask import abort
from flask import current_app
from flask import redirect
from flask import request

from . import cognito
from . import config
from . import csrf
from . import localcognito
from .config import LOOPBACK_HOSTS

_lock = threading.Lock()


class HideQueryStrings(logging.Filter):
    """The dev server logs request lines: keep codes and states out of the terminal."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            isinstance(record.args, tuple)
            and record.args
            and isinstance(record.args[0], str)
        ):
            record.args = (re.sub(r"\?\S*", "", record.args[0]), *record.args[1:])
        return True


def init_app(app: Flask) -> None:
    """Serve the local Cognito and bind the blog to it."""
    server_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, HideQueryStrings) for f in server_log.filters):
        server_log.addFilter(HideQueryStrings())
    localcognito.init_app(app)
    config.check_admin_group(app.config)  # now that the local pool's id is known
    # Its forms carry their own token in their own cookie, as a real Cognito is another
    # site whose forms never share the blog's session (and so Flask-WTF's token).
    csrf.exempt(app, app.blueprints["localcognito"])
    csrf.exempt(app, app.blueprints["lookalike"])  # its stand-ins for Google & co.
    if app.config.get("BASE_URL"):
        bind(app, app.config["BASE_URL"])
    app.before_request(use_one_base_url)
    greet_if_serving(app)


def greet_if_serving(app: Flask) -> None:
    """Under `flask run`, say in one line where to go and where sign-up codes appear."""
    context = click.get_current_context(silent=True)
    if context is None or context.info_name != "run":
        return
    host, port = context.params.get("host"), context.params.get("port")
    url = app.config.get("BASE_URL") or f"http://{host}:{port}"
    click.echo(
        f"Local mode: open {url} and sign up; confirmation codes are printed here "
        f"and listed at {url}/_cognito/outbox"
    )


def bind(app: Flask, base_url: str) -> None:
    """Point every Cognito setting at the local provider served at `base_url`.

    This changes the configuration after set-up, which Flask advises against, because
    the URL (its port above all) is known only when the first request arrives, unless
    BLOG_BASE_URL says it; a lock makes it happen once.
    """
    client = localcognito.ensure_client(app, base_url)
    app.config.update(config.local_cognito_settings(base_url, client))
    cognito.register(app)


def use_one_base_url() -> Any:
    """Bind on the first request; send other host spellings to the bound one.

    Cookies and the token issuer depend on the host, so one spelling is used throughout.
    """
    if request.host.rsplit(":", 1)[0].strip("[]") not in LOOPBACK_HOSTS:
        abort(400, "Local mode serves only localhost, 127.0.0.1 and [::1].")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    served_at = request.host_url.rstrip("/")
    with _lock:
        if not app.config.get("BASE_URL"):
            bind(app, served_at)
    if served_at != app.config["BASE_URL"] and request.method in ("GET", "HEAD"):
        return redirect(app.config["BASE_URL"] + request.full_path.rstrip("?"))
    return None
