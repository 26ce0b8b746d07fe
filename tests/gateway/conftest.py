"""Containers of wsgi.py with serverless.yml's environment, on moto, and a user pool.

The user pool is the scriptable fake IdP (conftest's `idp`) or the local Cognito.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Callable
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from blog.storage import dynamodb
from tests.support.fakeaws import create_sessions_table
from tests.support.fakeaws import fake_credentials
from tests.support.fakeidp import CLIENT_ID
from tests.support.fakeidp import CLIENT_SECRET
from tests.support.localsite import LocalCognito
from tests.support.localsite import local_cognito_app
from tests.support.servers import serve

from .events import HOST
from .events import ROOT

_containers = itertools.count()


@pytest.fixture
def aws(monkeypatch) -> Any:
    """moto's DynamoDB (both tables) and Secrets Manager (both secrets)."""
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
    app = local_cognito_app(tmp_path / "cognito", "local-cognito-test-key")
    with serve(app) as base:
        yield LocalCognito(app, base)
