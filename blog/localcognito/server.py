"""The OAuth 2.0 / OpenID Connect server, built from authlib's grants and endpoints."""

from __future__ import annotations

import hmac
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749 import TokenMixin
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask
from flask import current_app

from . import keys
from . import minting
from . import store

CODE_LIFETIME = 300
REFRESH_LIFETIME = 30 * 24 * 3600
SCOPES = ["openid", "email", "profile", "phone"]
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


@dataclass
class Client(ClientMixin):
    """The app client, with its callback and sign-out URLs."""

    client_id: str
    client_secret: str
    callback_urls: list[str]
    logout_urls: list[str]
    client_metadata: dict[str, Any] = field(default_factory=dict)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # Cognito wants redirect_uri on every request

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or " ".join(SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.callback_urls

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


def query_client(client_id: str | None) -> Client | None:
    """Return the app client with this id, or None."""
    row = store.one("SELECT * FROM client WHERE client_id = ?", client_id)
    if row is None:
        return None
    urls = store.all_rows("SELECT kind, url FROM client_url ORDER BY url")
    return Client(
        client_id=row["client_id"],
        client_secret=row["client_secret"],
        callback_urls=[u["url"] for u in urls if u["kind"] == "callback"],
        logout_urls=[u["url"] for u in urls if u["kind"] == "logout"],
    )


class Record:
    """A stored row whose columns are attributes."""

    def __init__(self, row: sqlite3.Row) -> None:
        self.__dict__.update(dict(row))


class AuthCode(Record, AuthorizationCodeMixin):
    """A row of auth_code."""

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


class RefreshToken(Record, TokenMixin):
    """A row of refresh_token (only the token's hash is kept)."""

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return self.expires_at <= time.time()

    def is_revoked(self) -> bool:
        return bool(self.revoked)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """Codes live 5 minutes and are consumed on first presentation."""

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        store.insert(
            "auth_code",
            code_hash=store.digest(code),
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            sub=request.user["sub"],
            nonce=data.get("nonce"),
            auth_time=request.user["auth_time"],
            event_id=request.user["event_id"],
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            expires_at=int(time.time()) + CODE_LIFETIME,
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthCode | None:
        # Deleting on lookup makes a replay fail even when two requests race.
        row = store.one(
            "DELETE FROM auth_code WHERE code_hash = ? AND client_id = ? RETURNING *",
            store.digest(code),
            client.client_id,
        )
        if row is None or row["expires_at"] <= time.time():
            return None
        return AuthCode(row)

    def delete_authorization_code(self, authorization_code: AuthCode) -> None:
        pass  # already deleted by query_authorization_code

    def authenticate_user(self, code: AuthCode) -> minting.Principal | None:
        origin_jti = str(uuid.uuid4())
        return minting.load_principal(
            code.sub, code.auth_time, code.event_id, origin_jti
        )


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Refresh grant; rotation follows LOCAL_COGNITO_REFRESH_TOKEN_ROTATION."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    @property
    def INCLUDE_NEW_REFRESH_TOKEN(self) -> bool:  # noqa: N802 (authlib's name)
        return bool(current_app.config["LOCAL_COGNITO_REFRESH_TOKEN_ROTATION"])

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        row = store.one(
            "SELECT * FROM refresh_token WHERE token_hash = ?",
            store.digest(refresh_token),
        )
        token = RefreshToken(row) if row else None
        if token and not token.is_revoked() and not token.is_expired():
            return token
        return None

    def authenticate_user(self, token: RefreshToken) -> minting.Principal | None:
        return minting.load_principal(
            token.sub, token.auth_time, token.event_id, token.origin_jti
        )

    def revoke_old_credential(self, token: RefreshToken) -> None:
        if self.INCLUDE_NEW_REFRESH_TOKEN:
            store.run(
                "UPDATE refresh_token SET revoked = 1 WHERE token_hash = ?",
                token.token_hash,
            )


class CognitoIDToken(OpenIDCode):
    """Adds Cognito's ID token to code and refresh-token responses."""

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return False  # Cognito does not reject a repeated nonce

    def resolve_client_private_key(self, client: Client) -> dict[str, Any]:
        return keys.signing_key("id")["jwk"]

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": keys.signing_key("id")["kid"]}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": minting.issuer(),
            "aud": client.client_id,
            "iat": now,
            "exp": now + minting.token_ttl(),
        }

    def generate_user_info(self, user: minting.Principal, scope: str) -> dict[str, Any]:
        return minting.id_token_claims(user)


class S256CodeChallenge(CodeChallenge):
    """PKCE as Cognito does it: S256 only."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]


class Revocation(RevocationEndpoint):
    """RFC 7009 revocation of refresh tokens, answering 200 with an empty body."""

    CLIENT_AUTH_METHODS = AUTH_METHODS
    SUPPORTED_TOKEN_TYPES = ("refresh_token",)

    def query_token(self, token_string: str, hint: str | None) -> RefreshToken | None:
        row = store.one(
            "SELECT * FROM refresh_token WHERE token_hash = ?",
            store.digest(token_string),
        )
        return RefreshToken(row) if row else None

    def revoke_token(self, token: RefreshToken, request: OAuth2Request) -> None:
        # Revoking the family also ends the access tokens issued from it.
        store.run(
            "UPDATE refresh_token SET revoked = 1 WHERE origin_jti = ?",
            token.origin_jti,
        )

    def create_endpoint_response(self, request: OAuth2Request) -> tuple:
        status, _, headers = super().create_endpoint_response(request)
        return status, "", headers


@dataclass
class AccessToken(TokenMixin):
    """A verified access token, as userInfo needs it."""

    claims: dict[str, Any]

    @property
    def scope(self) -> str:
        return self.claims.get("scope", "")

    def get_scope(self) -> str:
        return self.scope

    def get_client(self) -> Client | None:
        return query_client(self.claims.get("client_id"))

    def get_user(self) -> dict[str, Any]:
        return self.claims

    def is_expired(self) -> bool:
        return self.claims["exp"] <= time.time()

    def is_revoked(self) -> bool:
        row = store.one(
            "SELECT 1 FROM refresh_token WHERE origin_jti = ? AND revoked = 1",
            self.claims.get("origin_jti"),
        )
        return row is not None


class AccessTokenValidator(BearerTokenValidator):
    """Accepts this pool's access tokens (never ID tokens)."""

    def authenticate_token(self, token_string: str) -> AccessToken | None:
        claims = keys.verify(token_string, minting.issuer())
        if claims is None or claims.get("token_use") != "access":
            return None
        return AccessToken(claims)


class UserInfo(UserInfoEndpoint):
    """Cognito's /oauth2/userInfo answer."""

    def generate_user_info(self, user: dict[str, Any], scope: str) -> dict[str, Any]:
        row = store.one("SELECT * FROM pool_user WHERE sub = ?", user["sub"])
        verified = bool(row and row["email_verified"])
        return {
            "sub": user["sub"],
            "name": row["name"] if row else "",
            "email_verified": str(verified).lower(),  # Cognito sends a string here
            "email": row["email"] if row else "",
            "username": user["username"],
        }


def generate_token(
    grant_type: str,
    client: Client,
    user: minting.Principal,
    scope: str,
    expires_in: int | None = None,
    include_refresh_token: bool = True,
) -> dict[str, Any]:
    """authlib token generator: JWT access token, opaque refresh token."""
    token = {
        "access_token": minting.access_token(user, client.client_id, scope),
        "expires_in": minting.token_ttl(),
        "token_type": "Bearer",
        "scope": scope,
    }
    if include_refresh_token:
        token["refresh_token"] = secrets.token_urlsafe(64)
    return token


def save_token(token: dict[str, Any], request: OAuth2Request) -> None:
    """Store a new refresh token; a rotated one keeps the original's expiry."""
    if "refresh_token" not in token:
        return
    user = request.user
    old = request.refresh_token
    store.insert(
        "refresh_token",
        token_hash=store.digest(token["refresh_token"]),
        client_id=request.client.client_id,
        sub=user.sub,
        scope=token["scope"],
        auth_time=user.auth_time,
        event_id=user.event_id,
        origin_jti=user.origin_jti,
        expires_at=old.expires_at if old else int(time.time()) + REFRESH_LIFETIME,
    )


def create_server(app: Flask) -> AuthorizationServer:
    """Build the authorization server for one app."""
    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.scopes_supported = SCOPES
    server.register_token_generator("default", generate_token)
    server.register_grant(
        AuthorizationCodeGrant, [S256CodeChallenge(required=True), CognitoIDToken()]
    )
    server.register_grant(RefreshTokenGrant, [CognitoIDToken()])
    server.register_endpoint(Revocation)
    protector = ResourceProtector()
    protector.register_token_validator(AccessTokenValidator())
    server.register_endpoint(UserInfo(resource_protector=protector))
    return server
