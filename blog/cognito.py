"""The blog's side of the Cognito user pool, pinned to one issuer.

Discovery (refused unless it names our issuer and the pool's origins), ID-token
verification, refresh, revocation and the logout URL: what guarded pages need, without
authlib. The sign-in flow itself (authlib) is in `oauth_client`, imported only by the
login views.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit

import requests
from flask import Flask
from flask import current_app
from werkzeug.exceptions import HTTPException

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


class SignInRefused(Exception):
    """The callback cannot sign anyone in; `error` is a short reason safe to log,
    `sent` whether it is an `error` the callback was sent (by Cognito, relaying a
    provider's, or by a forger) rather than one found by the blog."""

    def __init__(self, error: str, sent: bool = False) -> None:
        super().__init__(error)
        self.error, self.sent = error, sent


class RefreshRefused(Exception):
    """Cognito refused the refresh token (revoked, expired or unknown)."""


METADATA = "blog.cognito.metadata"  # app.extensions key: the checked discovery


def metadata() -> dict[str, Any]:
    """This app's discovery document, fetched once and pinned to our issuer."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if METADATA not in app.extensions:
        response = requests.get(
            app.config["COGNITO_METADATA_URL"], timeout=TIMEOUT, allow_redirects=False
        )
        response.raise_for_status()
        try:
            document = response.json()
        except ValueError:
            document = None
        problem = (
            metadata_problem(document, app.config)
            if isinstance(document, dict)
            else "not a JSON object"
        )
        if problem:
            log.error("discovery document refused: %s", problem)
            raise ProviderError()
        app.extensions[METADATA] = document
    return app.extensions[METADATA]


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
    """Forget what was learnt from the pool's settings (local mode binds them late)."""
    app.extensions.pop(METADATA, None)
    app.extensions.pop("authlib.integrations.flask_client", None)


def jwks_url() -> str:
    """BLOG_COGNITO_JWKS_URL, else the pinned discovery's jwks_uri."""
    return current_app.config.get("COGNITO_JWKS_URL") or metadata()["jwks_uri"]


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

    Raises `RefreshRefused` when refused, `requests.RequestException` when
    unreachable and `ValueError` when the answer is not JSON.
    """
    response = post_as_client(
        metadata()["token_endpoint"],
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
    )
    body = response.json()
    if response.status_code != 200 or not isinstance(body, dict):
        raise RefreshRefused(
            str(body.get("error") if isinstance(body, dict) else body)
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
