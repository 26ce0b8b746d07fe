"""Minting Cognito-shaped ID and access tokens: their claims, lifetime and issuer.

A federated user's tokens carry its `cognito:username` (<ProviderName>_<id>) and
groups (with the provider's automatic group) like any user's, and `identities` in the
ID token (see `federation`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask import request

from . import federation
from . import keys
from . import store


@dataclass(frozen=True)
class Principal:
    """A user as tokens describe them: the account plus the sign-in it comes from."""

    sub: str
    username: str
    name: str
    email: str
    groups: tuple[str, ...]
    auth_time: int
    event_id: str
    origin_jti: str
    email_verified: bool = True
    identities: tuple[dict[str, Any], ...] = ()


def load_principal(
    sub: str, auth_time: int, event_id: str, origin_jti: str
) -> Principal | None:
    """Build the principal of a confirmed user (the pool's own or federated), or None
    if there is none."""
    user = store.one("SELECT * FROM pool_user WHERE sub = ? AND confirmed = 1", sub)
    if user is None:
        return None
    groups = store.all_rows(
        "SELECT name FROM user_group WHERE sub = ? ORDER BY name", sub
    )
    return Principal(
        sub=sub,
        username=user["username"],
        name=user["name"],
        email=user["email"],
        groups=tuple(row["name"] for row in groups),
        auth_time=auth_time,
        event_id=event_id,
        origin_jti=origin_jti,
        email_verified=bool(user["email_verified"]),
        identities=tuple(federation.identities(user)),
    )


def issuer() -> str:
    """Return the issuer: this request's host URL plus /_cognito."""
    return request.host_url.rstrip("/") + "/_cognito"


def token_ttl() -> int:
    """Return the lifetime of ID and access tokens in seconds."""
    return int(current_app.config["LOCAL_COGNITO_TOKEN_TTL"])


def _common(user: Principal, token_use: str) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": user.sub}
    if user.groups:
        claims["cognito:groups"] = list(user.groups)
    claims.update(
        token_use=token_use,
        auth_time=user.auth_time,
        jti=str(uuid.uuid4()),
        origin_jti=user.origin_jti,
        event_id=user.event_id,
    )
    return claims


def id_token_claims(user: Principal) -> dict[str, Any]:
    """Return the user claims of an ID token (authlib adds iss, aud, iat, exp, ...)."""
    claims = _common(user, "id")
    claims.update(
        {"cognito:username": user.username, "name": user.name, "email": user.email},
        email_verified=user.email_verified,
    )
    if user.identities:
        claims["identities"] = list(user.identities)
    return claims


def access_token(user: Principal, client_id: str, scope: str) -> str:
    """Return a signed access token: no aud, client_id and username instead."""
    now = int(time.time())
    claims = _common(user, "access")
    claims.update(
        iss=issuer(),
        client_id=client_id,
        scope=scope,
        username=user.username,
        iat=now,
        exp=now + token_ttl(),
    )
    return keys.sign(claims, "access")
