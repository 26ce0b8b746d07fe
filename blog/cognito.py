"""The blog's client of the Cognito user pool: authlib, pinned to one issuer.

authlib runs the authorization-code flow (state, nonce, PKCE, code exchange); our own
verifier checks the ID token, and discovery is refused unless it names our issuer.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App
from authlib.integrations.flask_client import OAuth
from flask import Flask
from flask import current_app
from werkzeug.exceptions import HTTPException
from werkzeug.local import LocalProxy

from . import tokens
from .config import LOOPBACK_HOSTS
from .config import origin

log = logging.getLogger(__name__)

TIMEOUT = 5  # seconds for each back-channel call to Cognito
ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "userinfo_endpoint",
    "revocation_endpoint",
    "end_session_endpoint",
)


class ProviderError(HTTPException):
    """The identity provider is misconfigured or answered nonsense."""

    code = 502
    description = "The sign-in service answered unexpectedly. Please try again later."


class ProviderUnavailable(HTTPException):
    """The identity provider (or its signing keys) cannot be reached right now."""

    code = 503
    description = (
        "The sign-in service is not answering just now. Nothing was changed; "
        "please try again in a moment."
    )


class CognitoApp(FlaskOAuth2App):
    """authlib's Flask client, with pinned discovery and our ID-token verifier."""

    def load_server_metadata(self) -> dict[str, Any]:
        """Load discovery once; refuse a foreign issuer or endpoint (security.md 12)."""
        if "_loaded_at" in self.server_metadata:
            return self.server_metadata
        metadata = super().load_server_metadata()
        problem = metadata_problem(metadata, current_app.config)
        if problem:
            self.server_metadata.pop("_loaded_at", None)
            log.error("discovery document refused: %s", problem)
            raise ProviderError()
        return metadata

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
            return verify_id_token(
                token["id_token"], nonce=nonce, access_token=token.get("access_token")
            )
        except tokens.KeysUnavailable:
            raise ProviderUnavailable() from None
        except tokens.InvalidToken as error:
            raise OAuthError(
                error="invalid_id_token", description=error.reason
            ) from None


def metadata_problem(metadata: dict, config: Any) -> str | None:
    """Why a discovery document cannot be trusted, or None."""
    if metadata.get("issuer") != config["COGNITO_ISSUER"]:
        return "issuer differs from BLOG_COGNITO_ISSUER"
    allowed = {
        origin(config[name])
        for name in ("COGNITO_ISSUER", "COGNITO_DOMAIN", "COGNITO_JWKS_URL")
        if config.get(name)
    }
    for name in ENDPOINTS:
        url = metadata.get(name)
        if url is None:
            continue
        parts = urlsplit(str(url))
        secure = parts.scheme == "https" or parts.hostname in LOOPBACK_HOSTS
        if not secure or origin(str(url)) not in allowed:
            return f"{name} is not on the pool's origin"
    return None


def register(app: Flask) -> None:
    """Create this app's own authlib registry (never shared between apps)."""
    oauth = OAuth(app)
    oauth.register(
        "cognito",
        client_cls=CognitoApp,
        client_id=app.config["COGNITO_CLIENT_ID"],
        client_secret=app.config["COGNITO_CLIENT_SECRET"],
        server_metadata_url=app.config["COGNITO_METADATA_URL"],
        client_kwargs={
            "scope": "openid email profile",
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
            "default_timeout": TIMEOUT,
        },
    )


def _client() -> CognitoApp:
    return current_app.extensions["authlib.integrations.flask_client"].cognito


client: CognitoApp = LocalProxy(_client)  # type: ignore[assignment]


def jwks_url() -> str:
    """BLOG_COGNITO_JWKS_URL, else the pinned discovery's jwks_uri."""
    return (
        current_app.config.get("COGNITO_JWKS_URL")
        or client.load_server_metadata()["jwks_uri"]
    )


def verify_id_token(token: object, **checks: Any) -> dict:
    """Verify an ID token against this app's pool and client."""
    config = current_app.config
    return tokens.verify_id_token(
        token,
        jwks_url=jwks_url(),
        issuer=config["COGNITO_ISSUER"],
        client_id=config["COGNITO_CLIENT_ID"],
        **checks,
    )


def refresh(refresh_token: str) -> dict:
    """Trade a refresh token for new tokens.

    Raises `OAuthError` when refused, `requests.RequestException` when unreachable
    and `ValueError` when the answer is not JSON.
    """
    response = post_as_client(
        client.load_server_metadata()["token_endpoint"],
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
    )
    body = response.json()
    if response.status_code != 200 or not isinstance(body, dict):
        raise OAuthError(
            error=str(body.get("error") if isinstance(body, dict) else body)
        )
    return body


def revoke(refresh_token: str) -> None:
    """Revoke a refresh token at Cognito; failures are logged, never raised."""
    url = current_app.config["COGNITO_DOMAIN"] + "/oauth2/revoke"
    try:
        post_as_client(url, {"token": refresh_token}).raise_for_status()
    except requests.RequestException as exc:
        log.warning("refresh token revocation failed (%s)", type(exc).__name__)


def post_as_client(url: str, data: dict) -> requests.Response:
    """A back-channel form POST with Basic client auth, as Cognito documents it."""
    config = current_app.config
    return requests.post(
        url,
        data=data,
        auth=(config["COGNITO_CLIENT_ID"], config["COGNITO_CLIENT_SECRET"]),
        timeout=TIMEOUT,
    )


def logout_url() -> str:
    """Cognito's own /logout (it does not accept OIDC RP-initiated logout)."""
    config = current_app.config
    query = urlencode(
        {
            "client_id": config["COGNITO_CLIENT_ID"],
            "logout_uri": config["BASE_URL"] + "/",
        }
    )
    return f"{config['COGNITO_DOMAIN']}/logout?{query}"
