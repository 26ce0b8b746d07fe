"""Containers of wsgi.py with serverless.yml's environment, on moto, and a user pool.

The user pool is the scriptable fake IdP (conftest's `idp`) or the local Cognito.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import threading
from collections.abc import Callable
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import flask
import pytest
from fakeaws import create_sessions_table
from fakeaws import fake_credentials
from fakeidp import CLIENT_ID
from fakeidp import CLIENT_SECRET
from localsite import LocalCognito
from moto import mock_aws
from werkzeug.serving import make_server

from blog import localcognito
from blog.storage import dynamodb

from .events import HOST
from .events import ROOT

_containers = itertools.count()


@pytest.fixture
def aws(monkeypatch) -> Any:
    """moto's DynamoDB (both tables) and Secrets Manager (both secrets)."""
    for name in [name for name in os.environ if name.startswith("BLOG_")]:
        monkeypatch.delenv(name)
    fake_credentials(monkeypatch)
    with mock_aws():
        resource = boto3.resource("dynamodb")
        create_sessions_table(resource, "blog-dev-sessions")
        dynamodb.DynamoDBStore(resource.Table("blog-dev-posts")).init_db()
        secrets = boto3.client("secretsmanager")
        key = secrets.create_secret(
            Name="blog-dev-flask-secret-key", SecretString="k" * 64
        )
        secrets.create_secret(
            Name="blog-dev-cognito-client-secret", SecretString=CLIENT_SECRET
        )
        monkeypatch.setenv("BLOG_SECRET_KEY", "secretsmanager:" + key["ARN"])
        yield resource


@pytest.fixture
def cold_start(aws, idp, monkeypatch) -> Callable[..., ModuleType]:
    """Import wsgi.py afresh, as a new Lambda container does, with serverless.yml's env.

    The user pool is the fake IdP unless `provider` names another (issuer, domain,
    client_id, client_secret); the client secret is read from Secrets Manager.
    """

    def start(
        base_url: str = f"https://{HOST}", provider: dict | None = None
    ) -> ModuleType:
        provider = provider or {
            "issuer": idp.issuer,
            "domain": idp.domain,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        boto3.client("secretsmanager").put_secret_value(
            SecretId="blog-dev-cognito-client-secret",
            SecretString=provider["client_secret"],
        )
        monkeypatch.setenv("BLOG_COGNITO_ISSUER", provider["issuer"])
        monkeypatch.setenv("BLOG_COGNITO_CLIENT_ID", provider["client_id"])
        monkeypatch.setenv(
            "BLOG_COGNITO_CLIENT_SECRET",
            "secretsmanager:blog-dev-cognito-client-secret",
        )
        monkeypatch.setenv("BLOG_COGNITO_DOMAIN", provider["domain"])
        monkeypatch.setenv("BLOG_BASE_URL", base_url)
        monkeypatch.setenv("BLOG_SESSION_TYPE", "dynamodb")
        monkeypatch.setenv("BLOG_SESSION_TABLE", "blog-dev-sessions")
        monkeypatch.setenv("BLOG_POSTS_TABLE", "blog-dev-posts")
        name = f"wsgi_container_{next(_containers)}"
        spec = importlib.util.spec_from_file_location(name, ROOT / "wsgi.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return start


@pytest.fixture
def local_cognito(tmp_path) -> Iterator[LocalCognito]:
    app = flask.Flask("localcognito", instance_path=str(tmp_path / "cognito"))
    app.config.update(SECRET_KEY="local-cognito-test-key", TESTING=True)
    localcognito.init_app(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LocalCognito(app, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join()
    server.server_close()
