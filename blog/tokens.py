"""Verification of Cognito tokens: ID tokens for pages, access tokens for the API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Collection
from typing import Any

import jwt

from . import jwks

LEEWAY = 30  # seconds of clock skew, everywhere; at most 60 (docs/SECURITY.md)
MAX_TOKEN_LENGTH = 16_384
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "token_use"]
DATES = ("exp", "iat", "nbf", "auth_time")  # NumericDate claims, checked when present
FORBIDDEN_HEADERS = ("jku", "x5u", "x5c", "jwk", "crit")
SEGMENT = re.compile(r"[A-Za-z0-9_-]+")  # unpadded base64url, as Cognito signs


class InvalidToken(Exception):
    """The token must not be trusted; `reason` is a short category safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeysUnavailable(InvalidToken):
    """The token's key is unknown and cannot be fetched now: judge it later."""


class ExpiredToken(InvalidToken):
    """The token was valid but has expired: a refresh may replace it."""


def read_header(token: object) -> dict[str, Any]:
    """Return the unverified header of a compact JWS after basic shape checks."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("malformed")
    if token.count(".") != 2:
        raise InvalidToken("malformed")
    # Only the header segment: jwt.get_unverified_header would decode and check all
    # three, character by character, before jwt.decode does it all again
    # (bench/RESULTS.md).
    segment = token.partition(".")[0]
    if not SEGMENT.fullmatch(segment):
        raise InvalidToken("malformed")
    try:
        header = json.loads(
            base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        )
    except (ValueError, RecursionError):
        raise InvalidToken("malformed") from None
    if not isinstance(header, dict):
        raise InvalidToken("malformed")
    if header.get("alg") != "RS256":
        raise InvalidToken("algorithm")
    if any(name in header for name in FORBIDDEN_HEADERS):
        raise InvalidToken("header")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 256:
        raise InvalidToken("kid")
    return header


def decode(token: object, *, jwks_url: str, issuer: str, audience: str | None,
           token_use: str, leeway: int = LEEWAY) -> dict[str, Any]:
    """Verify signature, issuer, lifetime and `token_use`; return the claims.

    `audience` is checked when given (ID tokens); access tokens have none.
    """
    header = read_header(token)
    try:
        key = jwks.get_cache(jwks_url).get(header["kid"])
    except jwks.Unavailable:
        raise KeysUnavailable("keys-unavailable") from None
    if key is None:
        raise InvalidToken("unknown-kid")
    required = (
        REQUIRED_CLAIMS if audience else [c for c in REQUIRED_CLAIMS if c != "aud"]
    )
    try:
        claims = jwt.decode(
            token, key, algorithms=["RS256"], issuer=issuer, audience=audience,
            # PyJWT would take "1796038319" or true for a time: the dates are ours.
            options={"require": required, "verify_aud": bool(audience),
                     "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError:
        raise InvalidToken("claims") from None
    if not all(is_numeric_date(claims[name]) for name in DATES if name in claims):
        raise InvalidToken("claims")
    now = time.time()
    if claims["exp"] <= now - leeway:
        raise ExpiredToken("expired")
    if max(claims["iat"], claims.get("nbf", 0)) > now + leeway:
        raise InvalidToken("issued-at")
    if claims["token_use"] != token_use:
        raise InvalidToken("token-use")
    if audience and claims["aud"] not in (audience, [audience]):
        raise InvalidToken("audience")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise InvalidToken("subject")
    return claims


def is_numeric_date(value: object) -> bool:
    """A JSON number of seconds (RFC 7519 NumericDate): not a string, bool or null."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or isinstance(value, float) and math.isfinite(value)


def verify_id_token(token: object, *, jwks_url: str, issuer: str, client_id: str,
                    nonce: str | None = None,
                    access_token: str | None = None) -> dict[str, Any]:
    """Verify a Cognito ID token and return its claims, or raise `InvalidToken`.

    At the callback pass the session's `nonce` and the `access_token` issued with it,
    so that `nonce` and `at_hash` are checked too.
    """
    claims = decode(token, jwks_url=jwks_url, issuer=issuer, audience=client_id,
                    token_use="id")
    if "azp" in claims and claims["azp"] != client_id:  # OIDC Core 3.1.3.7 step 5
        raise InvalidToken("audience")
    if nonce is not None:
        sent = claims.get("nonce")
        if not isinstance(sent, str) or not equal(sent, nonce):
            raise InvalidToken("nonce")
    if access_token is not None and "at_hash" in claims:
        if not equal(str(claims["at_hash"]), at_hash(access_token)):
            raise InvalidToken("at-hash")
    return claims


def verify_access_token(token: object, *, jwks_url: str, issuer: str,
                        client_ids: Collection[str]) -> dict[str, Any]:
    """Verify a Cognito access token issued to one of `client_ids`; return its claims.

    Access tokens have no `aud`: the app client is named by `client_id`
    (docs/SECURITY.md, "Token verification").
    """
    claims = decode(token, jwks_url=jwks_url, issuer=issuer, audience=None,
                    token_use="access")
    client_id = claims.get("client_id")
    if not isinstance(client_id, str) or client_id not in client_ids:
        raise InvalidToken("client")
    return claims


def equal(a: str, b: str) -> bool:
    """Constant-time comparison of two strings (any characters)."""
    return hmac.compare_digest(a.encode(), b.encode())


def at_hash(access_token: str) -> str:
    """The OIDC `at_hash` of an access token signed with RS256."""
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
