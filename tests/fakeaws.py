"""Fake AWS for tests: moto's credentials and the sessions table of serverless.yml."""

from __future__ import annotations

from typing import Any

import pytest

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials and a region for moto, so that no real account is ever used."""
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)


def create_sessions_table(resource: Any, name: str) -> None:
    """The sessions table as serverless.yml declares it."""
    resource.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
