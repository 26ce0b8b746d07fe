"""The authorization-code flow through authlib: state, nonce, PKCE, code exchange.

Imported by the login views only, on the first sign-in of a process: authlib costs
about 50 ms of import that a cold start serving guarded pages does not need
(bench/RESULTS.md). Discovery comes pinned from `cognito.metadata`, and the ID token
goes through our own verifier.
"""

from __future__ import annotations

import threading
from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App
from authlib.integrations.flask_client import OAuth
from flask import Flask
from flask import current_app

from . import cognito
from . import tokens

REGISTRY = "authlib.integrations.flask_client"  # where authlib keeps it, per app
_lock = threading.Lock()

__all__ = ["OAuthError", "client"]


class CognitoApp(FlaskOAuth2App):
    """authlib's Flask client, with pinned discovery and our ID-token verifier."""

    def load_server_metadata(self) -> dict[str, Any]:
        """The discovery document as `cognito.metadata` checked it."""
        if "issuer" not in self.server_metadata:
            self.server_metadata.update(cognito.metadata())
        return self.server_metadata

    def parse_id_token(
        self,
        token: dict,
        nonce: str,
        claims_options: Any = None,
        claims_cls: Any = None,
        leeway: int = tokens.LEEWAY,
    ) -> dict:
        """Called by `authorize_access_token`: verify with nonce and at_hash."""
        try:
            return cognito.verify_id_token(
                token["id_token"], nonce=nonce, access_token=token.get("access_token")
            )
        except tokens.KeysUnavailable:
            raise cognito.ProviderUnavailable() from None
        except tokens.InvalidToken as error:
            raise cognito.SignInRefused(f"invalid_id_token: {error.reason}") from None


def client() -> CognitoApp:
    """This app's own authlib client (never shared between apps), made on first use."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        if REGISTRY not in app.extensions:
            register(app)
    return app.extensions[REGISTRY].cognito


def register(app: Flask) -> None:
    oauth = OAuth(app)
    oauth.register(
        "cognito",
        client_cls=CognitoApp,
        client_id=app.config["COGNITO_CLIENT_ID"],
        client_secret=app.config["COGNITO_CLIENT_SECRET"],
        client_kwargs={
            "scope": "openid email profile",
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
            "default_timeout": cognito.TIMEOUT,
        },
    )
