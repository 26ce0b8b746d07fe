"""Bearer authentication of the API: Cognito access tokens only, never the session."""

from __future__ import annotations

import logging
import re
from typing import Any

import requests
from flask import current_app
from flask import request

from .. import cognito
from .. import tokens
from .problems import Problem

log = logging.getLogger(__name__)
TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")  # RFC 6750 b64token


def authenticate(write: bool = False) -> dict[str, Any]:
    """The verified claims of the request's access token; 401 or 403 otherwise.

    `write` requests also need BLOG_API_WRITE_SCOPE in the token's `scope`, when set.
    """
    config, token = current_app.config, bearer_token()
    try:
        if not token:
            raise tokens.InvalidToken("no-bearer-token")
        claims = tokens.verify_access_token(
            token, jwks_url=cognito.jwks_url(),
            issuer=config["COGNITO_ISSUER"],
            client_ids=config["API_CLIENT_IDS"] or [config["COGNITO_CLIENT_ID"]])
    except (tokens.KeysUnavailable, requests.RequestException, cognito.ProviderError):
        raise Problem(503, "The token cannot be checked right now. Try again later.",
                      headers={"Retry-After": "30"}) from None
    except tokens.InvalidToken as error:
        log.warning("API token refused: %s", error.reason)
        raise Problem(401, "Send a valid Cognito access token as "
                      "'Authorization: Bearer <token>'.", headers={
                          "WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    scope = config["API_WRITE_SCOPE"]
    granted = claims.get("scope")
    if write and scope and scope not in (granted.split() if isinstance(granted, str)
                                         else ()):
        raise Problem(403, f"This token lacks the '{scope}' scope needed to write.",
                      headers={"WWW-Authenticate":
                               f'Bearer error="insufficient_scope", scope="{scope}"'})
    return claims


def bearer_token() -> str:
    """The token of the one `Authorization: Bearer <token>` header, or ''."""
    values = request.headers.getlist("Authorization")
    scheme, _, token = values[0].partition(" ") if len(values) == 1 else ("", "", "")
    if scheme.lower() != "bearer" or not TOKEN68.fullmatch(token):
        return ""
    return token


def is_admin(claims: dict[str, Any]) -> bool:
    """Whether the token's user is in BLOG_ADMIN_GROUP."""
    groups = claims.get("cognito:groups")
    return isinstance(groups, list) and current_app.config["ADMIN_GROUP"] in groups
