"""BLOG_SECRET_KEY and BLOG_COGNITO_CLIENT_SECRET as secretsmanager:/ssm: references."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from blog.config import ConfigError
from tests.support.fakeaws import FAKE_AWS
from tests.support.fakeaws import fake_credentials
from tests.support.fakeidp import CLIENT_SECRET


@pytest.fixture
def aws(monkeypatch) -> Iterator[None]:
    fake_credentials(monkeypatch)
    with mock_aws():
        yield


def test_secrets_manager_by_arn_and_name(aws, make_app):
    secrets = boto3.client("secretsmanager")
    key = secrets.create_secret(Name="flask-key", SecretString="s3cret-key-value")
    secrets.create_secret(Name="client-secret", SecretString=CLIENT_SECRET)
    app = make_app(SECRET_KEY="secretsmanager:" + key["ARN"],
                   COGNITO_CLIENT_SECRET="secretsmanager:client-secret")
    assert app.secret_key == "s3cret-key-value"
    assert app.config["COGNITO_CLIENT_SECRET"] == CLIENT_SECRET


def test_ssm_secure_string(aws, make_app):
    boto3.client("ssm").put_parameter(Name="/blog/dev/secret-key", Type="SecureString",
                                      Value="from-parameter-store")
    app = make_app(SECRET_KEY="ssm:/blog/dev/secret-key")
    assert app.secret_key == "from-parameter-store"


def test_plain_values_are_kept(aws, make_app):
    app = make_app(SECRET_KEY="ssm-looking-but-plain")
    assert app.secret_key == "ssm-looking-but-plain"


@pytest.mark.parametrize(("name", "reference", "reason"), [
    ("SECRET_KEY", "secretsmanager:missing", "ResourceNotFoundException"),
    ("COGNITO_CLIENT_SECRET", "ssm:/no/such/parameter", "ParameterNotFound"),
    ("SECRET_KEY", "secretsmanager:", "names nothing"),
    ("SECRET_KEY", "ssm:", "names nothing"),
])
def test_unreadable_reference_stops_start_up(aws, make_app, name, reference,
                                             reason):
    with pytest.raises(ConfigError) as error:
        make_app(**{name: reference})
    message = str(error.value)
    assert message.startswith(f"BLOG_{name} names {reference!r}") and reason in message


def test_binary_secret_is_refused(aws, make_app):
    boto3.client("secretsmanager").create_secret(Name="bytes", SecretBinary=b"\x00\x01")
    with pytest.raises(ConfigError, match="BLOG_SECRET_KEY .* holds no text value"):
        make_app(SECRET_KEY="secretsmanager:bytes")


def test_unreachable_service_stops_start_up(make_app, monkeypatch):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name, value in {**FAKE_AWS, "AWS_MAX_ATTEMPTS": "1",
                        "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://127.0.0.1:{port}"
                        }.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError,
                       match="BLOG_COGNITO_CLIENT_SECRET .* could not be read"):
        make_app(COGNITO_CLIENT_SECRET="secretsmanager:x")
