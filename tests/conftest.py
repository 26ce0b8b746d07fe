"""Shared fixtures: an app against a scriptable fake Cognito, and a logged-in client."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs
from urllib.parse import quote
from urllib.parse import urlsplit

import pytest
from fakeidp import CLIENT_ID
from fakeidp import CLIENT_SECRET
from fakeidp import FakeIdP
from flask import Flask
from flask.testing import FlaskClient

from blog import create_app
from blog import jwks

BASE_URL = "https://blog.example"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch) -> None:
    """Tests set their own settings: ignore any BLOG_* variables of the shell."""
    import os

    for name in list(os.environ):
        if name.startswith("BLOG_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def request_log_as_before():
    """An app made with BLOG_LOG_FORMAT=json reroutes the request log: undo it."""
    import logging

    request_log = logging.getLogger("blog.request")
    handlers, propagate = list(request_log.handlers), request_log.propagate
    yield
    request_log.handlers[:] = handlers
    request_log.propagate = propagate


class Clock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The JWKS cache's clock, frozen until a test moves it."""
    fake = Clock()
    monkeypatch.setattr(jwks, "clock", fake)
    return fake


@pytest.fixture(scope="session")
def idp_server() -> Iterator[FakeIdP]:
    server = FakeIdP()
    yield server
    server.close()


@pytest.fixture
def idp(idp_server: FakeIdP) -> Iterator[FakeIdP]:
    """The fake Cognito, reset for each test (keys, answers, recorded requests)."""
    jwks.clear()
    idp_server.requests.clear()
    idp_server.token_response = None
    idp_server.jwks_status, idp_server.jwks_body, idp_server.delay = 200, None, 0.0
    idp_server.keys = [idp_server.keys[0]]
    yield idp_server
    jwks.clear()


def settings(idp: FakeIdP, tmp_path, **extra) -> dict:
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


def https_app(idp: FakeIdP, tmp_path, **extra) -> Flask:
    """The app with `settings(idp, tmp_path, **extra)`, and HttpsClient test clients."""
    app = create_app(settings(idp, tmp_path, **extra))
    app.test_client_class = HttpsClient
    return app


@pytest.fixture
def app(idp: FakeIdP, tmp_path) -> Flask:
    return https_app(idp, tmp_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def query_of(url: str) -> dict:
    """The query parameters of a URL, one value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def csrf_from(html: str) -> str:
    """The value of the first csrf_token field in a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


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


@pytest.fixture
def auth(client: FlaskClient, idp: FakeIdP) -> AuthActions:
    return AuthActions(client, idp)
