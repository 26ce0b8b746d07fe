"""RSA signing keys kept in the instance folder, their JWKS and JWT signing.

As on AWS, ID tokens and access tokens are signed by two different keys, both
published in the JWKS; `rotate_keys` replaces both.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask import current_app
from flask import g
from jwt.algorithms import RSAAlgorithm

KEYS_NAME = "localcognito-keys.json"
USES = ("id", "access")  # the token kinds, one signing key each
_lock = threading.RLock()


def _path(app: Flask) -> str:
    return os.path.join(app.instance_path, KEYS_NAME)


def new_jwk() -> dict[str, Any]:
    """Return a new private RS256 signing key as a JWK with its `kid`."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(private))
    jwk.pop("key_ops", None)
    jwk.update(kid=base64.b64encode(os.urandom(32)).decode(), alg="RS256", use="sig")
    return jwk


def public_part(jwk: dict[str, Any]) -> dict[str, str]:
    """Return what a JWKS publishes of a key: never its private fields."""
    return {f: jwk[f] for f in ("alg", "e", "kid", "kty", "n", "use")}


def _new_key(use: str) -> dict[str, Any]:
    jwk = new_jwk()
    return {
        "kid": jwk["kid"],
        "jwk": jwk,
        "token_use": use,
        "created_at": int(time.time()),
        "retired_at": None,
    }


def write_private(path: str, data: dict[str, Any]) -> None:
    """Replace `path` with `data` as JSON, readable by its owner only."""
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def _write(path: str, keys: list[dict[str, Any]]) -> None:
    write_private(path, {"keys": keys})


def _current(keys: list[dict[str, Any]], use: str) -> dict[str, Any] | None:
    # A key from before there were two signs ID tokens; it has no token_use.
    live = [k for k in keys if k.get("token_use", "id") == use and not k["retired_at"]]
    return live[-1] if live else None


def load_keys(app: Flask) -> list[dict[str, Any]]:
    """Return the stored keys, oldest first; a missing current key is made first."""
    path = _path(app)
    with _lock:
        keys: list[dict[str, Any]] = []
        if os.path.exists(path):
            with open(path) as f:
                keys = json.load(f)["keys"]
        missing = [use for use in USES if _current(keys, use) is None]
        if missing:
            os.makedirs(app.instance_path, exist_ok=True)
            keys += [_new_key(use) for use in missing]
            _write(path, keys)
        return keys


def _ttl(app: Flask) -> int:
    return int(app.config["LOCAL_COGNITO_TOKEN_TTL"])


def rotate_keys(app: Flask) -> list[str]:
    """Add new ID and access signing keys, retire the current ones; return the kids."""
    now = int(time.time())
    new = [_new_key(use) for use in USES]
    with _lock:
        keys = [k for k in load_keys(app) if _published(k, now, _ttl(app))]
        for key in keys:
            key["retired_at"] = key["retired_at"] or now
        _write(_path(app), [*keys, *new])
    return [key["kid"] for key in new]


def _published(key: dict[str, Any], now: int, ttl: int) -> bool:
    # A retired key stays published until the last token it signed expires.
    return key["retired_at"] is None or key["retired_at"] + ttl >= now


def public_jwks(app: Flask) -> dict[str, list[dict[str, str]]]:
    """Return the JWKS: public parts of the keys whose tokens may still be valid."""
    now = int(time.time())
    return {
        "keys": [
            public_part(k["jwk"])
            for k in load_keys(app)
            if _published(k, now, _ttl(app))
        ]
    }


def signing_key(use: str) -> dict[str, Any]:
    """Return the current private key for "id" or "access" tokens, fixed per request."""
    chosen = g.setdefault("localcognito_keys", {})
    if use not in chosen:
        chosen[use] = _current(load_keys(current_app), use)
    return chosen[use]


def sign(claims: dict[str, Any], use: str) -> str:
    """Sign claims as an RS256 JWT whose header has only kid and alg, as Cognito's."""
    key = signing_key(use)
    private = jwt.PyJWK(key["jwk"], algorithm="RS256").key
    return jwt.encode(
        claims, private, algorithm="RS256", headers={"kid": key["kid"], "typ": None}
    )


def verify(token: str, issuer: str) -> dict[str, Any] | None:
    """Return the claims of a token signed by a published key, or None."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        keys = public_jwks(current_app)["keys"]
        public = next(k for k in keys if k["kid"] == kid)
        return jwt.decode(
            token,
            jwt.PyJWK(public).key,
            algorithms=["RS256"],
            issuer=issuer,
            options={"require": ["exp", "iat", "iss", "sub", "token_use"]},
        )
    except (jwt.InvalidTokenError, StopIteration):
        return None
