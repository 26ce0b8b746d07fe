"""Shared fixtures: an app against a scriptable fake Cognito, and a logged-in client.

Helpers live in tests/support/; this file holds fixtures only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from moto import mock_aws

from blog import create_app
from blog import jwks
from blog.storage import Store
from blog.storage import dynamodb
from blog.storage import sqlite
from tests.support.clients import AuthActions
from tests.support.clients import HttpsClient
from tests.support.clients import clear_blog_settings
from tests.support.clients import settings
from tests.support.clock import Clock
from tests.support.fakeaws import fake_credentials
from tests.support.fakeidp import FakeIdP
from tests.support.storage import ISSUER
from tests.support.storage import posts_table


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch) -> None:
    """Tests set their own settings: ignore any BLOG_* variables of the shell."""
    clear_blog_settings(monkeypatch)


@pytest.fixture(autouse=True)
def fresh_jwks() -> Iterator[None]:
    """Every test starts and ends with an empty JWKS cache (it is per process)."""
    jwks.clear()
    yield
    jwks.clear()


@pytest.fixture(autouse=True)
def request_log_as_before():
    """An app made with BLOG_LOG_FORMAT=json reroutes the request log: undo it."""
    request_log = logging.getLogger("blog.request")
    handlers, propagate = list(request_log.handlers), request_log.propagate
    yield
    request_log.handlers[:] = handlers
    request_log.propagate = propagate


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
def idp(idp_server: FakeIdP) -> FakeIdP:
    """The fake Cognito, reset for each test (keys, answers, recorded requests)."""
    idp_server.requests.clear()
    idp_server.token_response = None
    idp_server.jwks_status, idp_server.jwks_body, idp_server.delay = 200, None, 0.0
    idp_server.keys = [idp_server.keys[0]]
    return idp_server


@pytest.fixture
def make_app(idp: FakeIdP, tmp_path) -> Callable[..., Flask]:
    """`make_app(**settings)`: the blog against `idp`, with `settings` on top.

    Its test clients are HttpsClients (https://blog.example) unless `https=False`;
    `pool` puts another fake Cognito in place of `idp`.
    """

    def make(https: bool = True, pool: FakeIdP | None = None, **extra: Any) -> Flask:
        app = create_app(settings(pool or idp, tmp_path, **extra))
        if https:
            app.test_client_class = HttpsClient
        return app

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(client: FlaskClient, idp: FakeIdP) -> AuthActions:
    return AuthActions(client, idp)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request, tmp_path, monkeypatch) -> Iterator[Store]:
    """A posts store on each backend: a SQLite file, and the moto DynamoDB table."""
    if request.param == "sqlite":
        store = sqlite.SqliteStore(str(tmp_path / "posts.sqlite3"), ISSUER)
        yield store
        store.close()
    else:
        fake_credentials(monkeypatch)
        with mock_aws():
            store = dynamodb.DynamoDBStore(posts_table("posts"), ISSUER)
            store.init_db()
            yield store
