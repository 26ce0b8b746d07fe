"""Driving the blog in tests: settings, an https test client, logging clients in."""

from __future__ import annotations

import os
import re
import time
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import quote
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from .fakeidp import CLIENT_ID
from .fakeidp import CLIENT_SECRET
from .fakeidp import FakeIdP

BASE_URL = "https://blog.example"
ID_TOKEN_ONLY = {"aud": None, "cognito:username": None, "email": None,
                 "email_verified": None}  # fmt: skip


def clear_blog_settings(monkeypatch: Any) -> None:
    """Unset every BLOG_* variable of the shell: tests set their own settings."""
    for name in [name for name in os.environ if name.startswith("BLOG_")]:
        monkeypatch.delenv(name)


def settings(idp: FakeIdP, tmp_path: Any, **extra: Any) -> dict:
    """The blog's settings against `idp`, its instance folder in `tmp_path`."""
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "COGNITO_ISSUER": idp.issuer,
        "COGNITO_CLIENT_ID": CLIENT_ID,
        "COGNITO_CLIENT_SECRET": CLIENT_SECRET,
        "COGNITO_DOMAIN": idp.domain,
        "BASE_URL": BASE_URL,
        **extra,
    }


class HttpsClient(FlaskClient):
    """A test client that talks to https://blog.example, the configured BASE_URL.

    Like a browser under `Referrer-Policy: same-origin`, it sends a same-site Referer
    with form posts (Flask-WTF checks it on https).
    """

    def open(self, *args, **kwargs):
        if args and isinstance(args[0], str):
            kwargs.setdefault("base_url", BASE_URL)
            if kwargs.get("method", "GET") != "GET":
                headers = kwargs.setdefault("headers", {})
                if isinstance(headers, dict):
                    headers.setdefault("Referer", BASE_URL + "/")
        return super().open(*args, **kwargs)

    def session_transaction(self, *args, **kwargs):
        kwargs.setdefault("base_url", BASE_URL)
        return super().session_transaction(*args, **kwargs)


def query_of(url: str) -> dict:
    """The query parameters of a URL, one value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def csrf_from(html: str) -> str:
    """The value of the first csrf_token field in a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def access_claims(idp: FakeIdP, username: str = "alice", **claims: Any) -> dict:
    """An access token's claims as Cognito sets them: client_id, username, no aud."""
    return idp.claims(**{**ID_TOKEN_ONLY, "token_use": "access", "client_id": CLIENT_ID,
                         "scope": "openid email profile", "username": username,
                         "sub": f"sub-{username}", **claims})  # fmt: skip


def bearer(idp: FakeIdP, username: str = "alice", **claims: Any) -> dict:
    """An Authorization header with an access token of `idp` for the JSON API."""
    token = idp.sign(access_claims(idp, username, **claims))
    return {"Authorization": f"Bearer {token}"}


def stored(client: FlaskClient) -> dict:
    """What the client's server-side session holds."""
    with client.session_transaction() as session:
        return dict(session)


class AuthActions:
    """Log a test client in by writing a real, signed token into its server session."""

    def __init__(self, client: FlaskClient, idp: FakeIdP) -> None:
        self.client, self.idp = client, idp

    def login(
        self,
        username: str = "alice",
        sub: str | None = None,
        groups: list[str] | None = None,
        **claims,
    ) -> dict:
        sub = sub or f"sub-{username}"
        token = self.idp.id_token(
            sub=sub,
            **{"cognito:username": username, "cognito:groups": groups},
            **claims,
        )
        now = int(time.time())
        user = {
            "iss": self.idp.issuer,
            "sub": sub,
            "username": username,
            "email": f"{username}@example.com",
            "groups": groups or [],
        }
        with self.client.session_transaction() as session:
            session.update(
                user=user,
                login_at=now,
                last_seen=now,
                tokens={
                    "id_token": token,
                    "access_token": "opaque-access",
                    "refresh_token": f"refresh-{username}",
                },
            )
        return user

    def start(self, next_path: str | None = None) -> dict:
        """GET /auth/login and return the query of the authorize redirect."""
        url = "/auth/login" + (f"?next={quote(next_path)}" if next_path else "")
        response = self.client.get(url)
        assert response.status_code == 302, response.status
        return query_of(response.headers["Location"])

    def callback(self, params: dict, token: dict | None = None, **claims):
        """Let the fake Cognito answer the code exchange, then hit the callback."""
        if token is None:
            id_token = self.idp.id_token(nonce=params.get("nonce"), **claims)
            token = {
                "id_token": id_token,
                "access_token": "opaque-access",
                "refresh_token": "refresh-1",
                "token_type": "Bearer",
                "expires_in": 3600,
            }
        self.idp.token_response = token
        return self.client.get(f"/auth/authorize?code=the-code&state={params['state']}")

    def csrf_token(self, path: str = "/") -> str:
        """The CSRF token of the form on `path`, as a browser would read it."""
        return csrf_from(self.client.get(path).get_data(as_text=True))

    def logout(self):
        return self.client.post("/auth/logout", data={"csrf_token": self.csrf_token()})



def post_path(location: str) -> str:
    """`/posts/<id>` of a post's address (its readable one ends in a slug)."""
    return re.search(r"/posts/[0-9a-f-]{36}", location).group(0)
