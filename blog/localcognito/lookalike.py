"""A local look-alike OpenID provider for each external provider the pool federates.

In local mode every name in COGNITO_IDENTITY_PROVIDERS (such as "Google") gets a small
OpenID provider of its own under /_lookalike/<name>, so federated sign-in runs offline:
its own users (an email and a name, no password), its own sign-in page that says it
is not the real provider, its own RS256 key (instance/lookalike-keys.json, apart from
the pool's), and the authorization-code flow ending in an ID token whose `iss` is its
own URL, `aud` the local Cognito's client id for it, `sub` a stable opaque id, with
the request's `nonce`, `email`, `email_verified` (true) and `name`. Its one client is
the local Cognito (`federation`), which redeems codes in-process with `redeem`.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from typing import Any

import jwt
from authlib.common.urls import add_params_to_uri
from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request

from . import accounts
from . import cookies
from . import keys
from . import store

bp = Blueprint(
    "lookalike",
    __name__,
    url_prefix="/_lookalike",
    template_folder="templates",
    static_folder="static",
)

KEYS_NAME = "lookalike-keys.json"
FORMS = cookies.FormTokens("lookalike-csrf", "/_lookalike", "lookalike-csrf")
CODE_LIFETIME = 300
TOKEN_LIFETIME = 3600
SCOPES = ["openid", "email", "profile"]
_lock = threading.Lock()


class Refused(Exception):
    """An OAuth error of the token endpoint: `error`, `description`, HTTP `status`."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{status} {error} {description}")
        self.error, self.description, self.status = error, description, status


def enabled() -> tuple[str, ...]:
    """The external providers of the pool: the COGNITO_IDENTITY_PROVIDERS setting."""
    return tuple(current_app.config.get("COGNITO_IDENTITY_PROVIDERS") or ())


def issuer(provider: str) -> str:
    """The provider's issuer: this host's /_lookalike/<provider>."""
    return f"{request.host_url}_lookalike/{provider}"


# The client: the local Cognito, registered once per provider with its redirect URIs.


def client(provider: str, redirect_uri: str) -> dict[str, str]:
    """The local Cognito's client id and secret here, made once; allow redirect_uri."""
    store.run(
        "INSERT OR IGNORE INTO lookalike_client VALUES (?, ?, ?)",
        provider,
        secrets.token_hex(16),
        secrets.token_urlsafe(32),
    )
    store.run(
        "INSERT OR IGNORE INTO lookalike_redirect VALUES (?, ?)", provider, redirect_uri
    )
    row = store.one(
        "SELECT client_id, client_secret FROM lookalike_client WHERE provider = ?",
        provider,
    )
    return {"client_id": row["client_id"], "client_secret": row["client_secret"]}


def _registered(provider: str, client_id: str | None, redirect_uri: str | None) -> bool:
    row = store.one(
        "SELECT 1 FROM lookalike_client c JOIN lookalike_redirect r USING (provider)"
        " WHERE provider = ? AND c.client_id = ? AND r.uri = ?",
        provider,
        client_id,
        redirect_uri,
    )
    return row is not None


# Its users.


def add_user(provider: str, email: str, name: str) -> str:
    """Create an account at the provider and return its `sub`; raises Invalid."""
    errors = {}
    if not accounts.EMAIL.match(email) or len(email) > accounts.NAME_MAX:
        errors["email"] = "Enter a valid email address."
    if not name or len(name) > accounts.NAME_MAX or not name.isprintable():
        errors["name"] = "Enter the name this account shows."
    if errors:
        raise accounts.Invalid(**errors)
    sub = str(10**20 + secrets.randbelow(9 * 10**20))  # 21 digits, as Google's
    try:
        store.insert(
            "lookalike_user",
            provider=provider,
            sub=sub,
            email=email,
            name=name,
            created_at=int(time.time()),
        )
    except sqlite3.IntegrityError:
        raise accounts.Invalid(email=f"{provider} already has this account.") from None
    return sub


def find_user(provider: str, email: str) -> sqlite3.Row | None:
    """The provider's account with this email (any case), if any."""
    return store.one(
        "SELECT * FROM lookalike_user WHERE provider = ? AND email = ?", provider, email
    )


# Its signing key, one per provider.


def signing_key(provider: str) -> dict[str, Any]:
    """The provider's private JWK, made on first use."""
    path = os.path.join(current_app.instance_path, KEYS_NAME)
    with _lock:
        found: dict[str, Any] = {}
        if os.path.exists(path):
            with open(path) as f:
                found = json.load(f)
        if provider not in found:
            found[provider] = keys.new_jwk()
            keys.write_private(path, found)
    return found[provider]


def public_jwks(provider: str) -> dict[str, list[dict[str, str]]]:
    """The provider's JWKS, as its /jwks serves it."""
    return {"keys": [keys.public_part(signing_key(provider))]}


# Codes and tokens.


def issue_code(provider: str, args: dict[str, str], sub: str) -> str:
    """A one-time code for the account `sub`, bound to the client and redirect_uri."""
    code = secrets.token_urlsafe(32)
    store.insert(
        "lookalike_code",
        code_hash=store.digest(code),
        provider=provider,
        client_id=args["client_id"],
        redirect_uri=args["redirect_uri"],
        sub=sub,
        nonce=args.get("nonce"),
        expires_at=int(time.time()) + CODE_LIFETIME,
    )
    return code


def redeem(
    provider: str, code: str, redirect_uri: str, client_id: str, client_secret: str
) -> dict[str, Any]:
    """The token response for an authorization code; raises Refused."""
    row = store.one(
        "SELECT client_secret FROM lookalike_client"
        " WHERE provider = ? AND client_id = ?",
        provider,
        client_id,
    )
    if row is None or not secrets.compare_digest(
        row["client_secret"].encode(), client_secret.encode()
    ):
        raise Refused("invalid_client", "Unknown client or wrong secret.", 401)
    grant = store.one(
        "DELETE FROM lookalike_code WHERE code_hash = ? AND provider = ? RETURNING *",
        store.digest(code),
        provider,
    )
    if (
        grant is None
        or grant["expires_at"] <= time.time()
        or grant["client_id"] != client_id
        or grant["redirect_uri"] != redirect_uri
    ):
        raise Refused("invalid_grant", "Bad, used or expired code.")
    user = store.one(
        "SELECT * FROM lookalike_user WHERE provider = ? AND sub = ?",
        provider,
        grant["sub"],
    )
    now = int(time.time())
    claims = {
        "iss": issuer(provider),
        "azp": client_id,
        "aud": client_id,
        "sub": user["sub"],
        "email": user["email"],
        "email_verified": True,
        "name": user["name"],
        "iat": now,
        "exp": now + TOKEN_LIFETIME,
    }
    if grant["nonce"]:
        claims["nonce"] = grant["nonce"]
    jwk = signing_key(provider)
    id_token = jwt.encode(
        claims, jwt.PyJWK(jwk).key, algorithm="RS256", headers={"kid": jwk["kid"]}
    )
    return {
        "access_token": secrets.token_urlsafe(32),
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "scope": " ".join(SCOPES),
        "id_token": id_token,
    }


# Its pages and endpoints.


@bp.before_request
def only_enabled() -> None:
    """A provider the pool does not federate is not served."""
    provider = (request.view_args or {}).get("provider")
    if provider is not None and provider not in enabled():
        abort(404)


@bp.after_request
def finish(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    FORMS.save(response)
    return response


def page(name: str, provider: str, status: int = 200, **context: Any) -> Any:
    return (
        render_template(f"lookalike/{name}.html", provider=provider, **context),
        status,
    )


def signin_page(provider: str, errors: dict[str, str]) -> Any:
    return page(
        "signin", provider, csrf_token=FORMS.token(), form=request.form, errors=errors
    )


def back(args: dict[str, str], **params: str) -> Response:
    """Redirect to the client's redirect_uri with `params` and its `state`."""
    if "state" in args:
        params["state"] = args["state"]
    return redirect(add_params_to_uri(args["redirect_uri"], list(params.items())))


@bp.get("/<provider>/.well-known/openid-configuration")
def discovery(provider: str) -> Response:
    iss = issuer(provider)
    return jsonify(
        issuer=iss,
        authorization_endpoint=f"{iss}/authorize",
        token_endpoint=f"{iss}/token",
        jwks_uri=f"{iss}/jwks",
        response_types_supported=["code"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=["RS256"],
        scopes_supported=SCOPES,
        token_endpoint_auth_methods_supported=[
            "client_secret_basic",
            "client_secret_post",
        ],
        claims_supported=["sub", "email", "email_verified", "name"],
    )


@bp.get("/<provider>/jwks")
def jwks(provider: str) -> Response:
    return jsonify(public_jwks(provider))


@bp.route("/<provider>/authorize", methods=["GET", "POST"])
def authorize(provider: str) -> Any:
    """The sign-in page: an email (and a name the first time), or Cancel."""
    args = request.args.to_dict()
    if not _registered(provider, args.get("client_id"), args.get("redirect_uri")):
        message = "This client_id and redirect_uri are not registered here."
        return page("error", provider, 400, message=message)
    if args.get("response_type") != "code":
        return back(args, error="unsupported_response_type")
    if request.method != "POST":
        return signin_page(provider, {})
    if not FORMS.ok():
        message = "This form has expired. Go back, reload the page and try again."
        return page("error", provider, 400, message=message)
    if request.form.get("action") == "cancel":
        return back(args, error="access_denied", error_description="Sign-in cancelled")
    email = request.form.get("email", "").strip()
    name = request.form.get("name", "").strip()
    user = find_user(provider, email)
    try:
        sub = user["sub"] if user else add_user(provider, email, name)
    except accounts.Invalid as invalid:
        return signin_page(provider, invalid.errors)
    return back(args, code=issue_code(provider, args, sub))


@bp.post("/<provider>/token")
def token(provider: str) -> Any:
    """Redeem a code (client_secret_basic or client_secret_post)."""
    auth, form = request.authorization, request.form
    client_id = auth.username if auth else form.get("client_id", "")
    secret = auth.password if auth else form.get("client_secret", "")
    try:
        if form.get("grant_type") != "authorization_code":
            raise Refused("unsupported_grant_type", "Only authorization_code.")
        answer = redeem(
            provider,
            form.get("code", ""),
            form.get("redirect_uri", ""),
            client_id or "",
            secret or "",
        )
    except Refused as refused:
        error = {"error": refused.error, "error_description": refused.description}
        return jsonify(error), refused.status
    return jsonify(answer)
