"""Local Cognito: a Cognito-compatible user pool with Hosted UI, for local mode.

Mounted under /_cognito by `init_app`; see `views` (protocol) and `pages` (Hosted UI).
Sign-in through external providers: `federation`, with `lookalike` standing in for them.
"""

from __future__ import annotations

import os
import secrets
import string

from flask import Flask

from . import cli
from . import lookalike
from . import pages  # noqa: F401 (registers the Hosted UI routes on bp)
from . import pool
from . import server
from . import store
from . import views

_ALPHABET = string.ascii_lowercase + string.digits
DEFAULTS = {
    # seconds an ID or access token lives, as the deployed app client's (pool.json)
    "LOCAL_COGNITO_TOKEN_TTL": pool.token_seconds(),
    "LOCAL_COGNITO_REFRESH_TOKEN_ROTATION": False,  # Cognito's default: no rotation
    # Names the automatic group of each external provider: <pool id>_<provider>.
    "LOCAL_COGNITO_USER_POOL_ID": "local-1_LocalPool",
}


def init_app(app: Flask) -> None:
    """Mount the provider on /_cognito, and the look-alike external providers on
    /_lookalike (served for the names in COGNITO_IDENTITY_PROVIDERS), with the CLI
    and storage."""
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    os.makedirs(app.instance_path, exist_ok=True)
    app.extensions["localcognito"] = server.create_server(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(lookalike.bp)
    app.cli.add_command(cli.cli)
    app.teardown_appcontext(store.close_db)


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def ensure_client(app: Flask, base_url: str) -> dict[str, str]:
    """Create the app client once and allow `base_url`'s callback and sign-out URLs."""
    base = base_url.rstrip("/")
    with app.app_context():
        store.run(
            "INSERT OR IGNORE INTO client VALUES (1, ?, ?)",
            _random(26),
            _random(51),
        )
        store.run(
            "INSERT OR IGNORE INTO client_url VALUES ('callback', ?)",
            f"{base}/auth/authorize",
        )
        store.run("INSERT OR IGNORE INTO client_url VALUES ('logout', ?)", f"{base}/")
        row = store.one("SELECT client_id, client_secret FROM client")
    return {"client_id": row["client_id"], "client_secret": row["client_secret"]}


def read_outbox(app: Flask) -> list[dict[str, str]]:
    """Return the local "emails", oldest first."""
    with app.app_context():
        return views.read_mail()
