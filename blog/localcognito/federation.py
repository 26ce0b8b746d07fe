"""Federated sign-in: the pool signs members in through an external provider.

As Cognito does it, and as these pages of the Amazon Cognito Developer Guide say:

- `/oauth2/authorize?identity_provider=<name>` sends the browser straight to that
  provider's sign-in ("The redirect and authorization endpoint",
  docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html); the
  pool keeps the app's request and asks the provider with its own `state` and `nonce`,
  to come back to `/oauth2/idpresponse`.
- There the provider's code is redeemed and its ID token checked (signature, `iss`,
  `aud`, `exp`, the pool's `nonce`); the user is made or updated from the provider's
  claims through the attribute mapping ("Mapping IdP attributes to profiles and
  tokens"): username `<ProviderName>_<provider's sub>`, confirmed, no password, and a
  member of the automatic group `<user pool id>_<ProviderName>` ("Adding groups to a
  user pool"). Its tokens carry `identities` ("Understanding the identity (ID)
  token": a list of objects whose fields are all strings, `primary` "true" and
  `dateCreated` Unix milliseconds, `issuer` may be null).
- A provider's error goes back to the app's redirect_uri as `error` and
  `error_description` (named after the provider), with the app's `state` ("Managed
  login and federation error responses").

In local mode the providers are the look-alikes of `lookalike`, redeemed in-process,
so no request waits on another one to the same server.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
from flask import current_app
from flask import url_for

from . import accounts
from . import lookalike
from . import pool
from . import store

FLOW_LIFETIME = 600  # seconds a member has at the provider's page
# Cognito's own page for a provider the app client does not offer.
NOT_AVAILABLE = "Login option is not available. Please try another one."
SOCIAL = {"Google", "Facebook", "LoginWithAmazon", "SignInWithApple"}


class Refused(Exception):
    """A response that cannot go back to the app: shown on the hosted error page."""


class InvalidIdToken(Exception):
    """The provider's ID token failed a check (the message says which)."""


@dataclass
class Outcome:
    """How a federated sign-in ended: the app's request, and a user or an error."""

    params: dict[str, str]
    sub: str | None = None
    error: str | None = None
    description: str | None = None


def enabled() -> tuple[str, ...]:
    """The external providers the pool offers."""
    return lookalike.enabled()


def idp_response_url() -> str:
    return url_for("localcognito.idpresponse", _external=True)


def automatic_group(provider: str) -> str:
    """The group Cognito puts every user of a provider in: <pool id>_<provider>."""
    return f"{current_app.config['LOCAL_COGNITO_USER_POOL_ID']}_{provider}"


def begin(provider: str, params: dict[str, str]) -> tuple[str, str]:
    """Keep the app's request; return the provider's sign-in URL and the pool's
    `state` for this browser."""
    if provider not in enabled():
        raise Refused(NOT_AVAILABLE)
    client = lookalike.client(provider, idp_response_url())
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    store.insert(
        "federation",
        state_hash=store.digest(state),
        provider=provider,
        params=json.dumps(params),
        nonce=nonce,
        expires_at=int(time.time()) + FLOW_LIFETIME,
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": idp_response_url(),
            "scope": " ".join(lookalike.SCOPES),
            "state": state,
            "nonce": nonce,
        }
    )
    return f"{lookalike.issuer(provider)}/authorize?{query}", state


def finish(args: dict[str, str], browser_state: str | None) -> Outcome:
    """Handle the provider's answer at /oauth2/idpresponse; raises Refused.

    The pool's `state` must be one it gave this browser, unused and not expired.
    """
    state = args.get("state", "")
    row = state and store.one(
        "DELETE FROM federation WHERE state_hash = ? RETURNING *", store.digest(state)
    )
    if (
        not row
        or row["expires_at"] <= time.time()
        or not secrets.compare_digest((browser_state or "").encode(), state.encode())
    ):
        raise Refused("Invalid state. Go back to the app and sign in again.")
    provider, params = row["provider"], json.loads(row["params"])
    if "error" in args:
        told = " ".join(filter(None, (args["error"], args.get("error_description"))))
        description = f"{provider} Error - {told}"
        return Outcome(params, error=args["error"], description=description)
    client = lookalike.client(provider, idp_response_url())
    try:
        answer = lookalike.redeem(
            provider, args.get("code", ""), idp_response_url(), **client
        )
        claims = verify_id_token(provider, answer["id_token"], row["nonce"])
        sub = sign_in(provider, claims)
    except (lookalike.Refused, InvalidIdToken) as failed:
        description = f"{provider} Error - {failed}"
        return Outcome(params, error="invalid_request", description=description)
    except accounts.Invalid as invalid:
        wrong = ", ".join(f"{name}: {why}" for name, why in invalid.errors.items())
        description = f"Invalid user attributes: {wrong}"
        return Outcome(params, error="invalid_request", description=description)
    return Outcome(params, sub=sub)


def verify_id_token(provider: str, token: str, nonce: str) -> dict[str, Any]:
    """The claims of the provider's ID token; raises InvalidIdToken.

    Signed by a key of the provider's JWKS, issued by it for the pool's client,
    unexpired, and carrying the pool's `nonce`.
    """
    client = lookalike.client(provider, idp_response_url())
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        found = [k for k in lookalike.public_jwks(provider)["keys"] if k["kid"] == kid]
        if not found:
            raise InvalidIdToken("id_token signed by an unknown key")
        claims = jwt.decode(
            token,
            jwt.PyJWK(found[0]).key,
            algorithms=["RS256"],
            audience=client["client_id"],
            issuer=lookalike.issuer(provider),
            options={"require": ["iss", "aud", "sub", "exp", "iat"]},
        )
    except jwt.InvalidTokenError as error:
        raise InvalidIdToken(f"invalid id_token: {error}") from None
    sent = str(claims.get("nonce", "")).encode()
    if not secrets.compare_digest(sent, nonce.encode()):
        raise InvalidIdToken("invalid id_token: nonce mismatch")
    return claims


def _truth(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def sign_in(provider: str, claims: dict[str, Any]) -> str:
    """Make or update the federated user from the provider's claims; return its sub.

    Attributes come through the pool's attribute mapping, at every sign-in; the
    username is the provider's `sub`, as Cognito derives it.
    """
    mapping = pool.attribute_mapping()
    values = {attribute: claims.get(claim) for attribute, claim in mapping.items()}
    user_id = str(claims.get("sub") or "")
    missing = [a for a in pool.required_attributes() if not values.get(a)]
    if not user_id:
        missing.append("username")
    if missing:
        raise accounts.Invalid(**{a: "Attribute is required" for a in missing})
    attributes = {
        "email": str(values["email"]),
        "name": str(values["name"]),
        "email_verified": int(_truth(values.get("email_verified"))),
    }
    row = store.one(
        "SELECT sub FROM federated_user WHERE provider = ? AND provider_user_id = ?",
        provider,
        user_id,
    )
    if row is not None:
        store.run(
            "UPDATE federated_user SET email = ?, name = ?, email_verified = ?"
            " WHERE sub = ?",
            *attributes.values(),
            row["sub"],
        )
        return row["sub"]
    sub = str(uuid.uuid4())
    try:
        store.insert(
            "federated_user",
            sub=sub,
            username=f"{provider}_{user_id}",
            provider=provider,
            provider_user_id=user_id,
            created_at=int(time.time() * 1000),
            **attributes,
        )
    except sqlite3.IntegrityError:  # made meanwhile by a sign-in at the same time
        raise accounts.Invalid(username="User already exists") from None
    group = automatic_group(provider)
    store.run("INSERT OR IGNORE INTO user_group VALUES (?, ?)", sub, group)
    return sub


def identities(user: Any) -> list[dict[str, str | None]]:
    """The `identities` claim of a federated user (a pool_user row); [] for others."""
    if not user["provider"]:
        return []
    provider = user["provider"]
    return [
        {
            "userId": user["provider_user_id"],
            "providerName": provider,
            "providerType": provider if provider in SOCIAL else "OIDC",
            "issuer": None,
            "primary": "true",
            "dateCreated": str(user["linked_at"]),
        }
    ]
