"""Fake AWS for tests: moto's credentials, the sessions table, a moto server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from typing import Any

import requests

from blog.storage.dynamodb import TABLE_SHAPE

if TYPE_CHECKING:
    import pytest

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# The sessions table as serverless.yml declares it (the blog never creates it).
SESSIONS_TABLE_SHAPE = {
    "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
}
# The moto server process's credentials, and the tables it starts with.
AWS_ENV = {**FAKE_AWS, "AWS_SESSION_TOKEN": "testing"}
POSTS_TABLE, SESSION_TABLE = "blog-load-posts", "blog-load-sessions"


def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials and a region for moto, so that no real account is ever used."""
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)


def create_sessions_table(dynamodb: Any, name: str) -> None:
    """The sessions table as serverless.yml declares it (boto3 client or resource)."""
    dynamodb.create_table(TableName=name, **SESSIONS_TABLE_SHAPE)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    """Poll `url` until it answers, or fail if `process` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[2:4]} exited with {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without BLOG_* or AWS_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOG_", "AWS_"))}
    return {**env, **extra}


@contextmanager
def stopping(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """Terminate `process` (and wait for it) however the block ends."""
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto DynamoDB server process with the blog's two tables; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env=clean_env(**AWS_ENV),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        with stopping(process):
            wait_for(url + "/moto-api/", process)
            create_tables(url)
            yield url


def connect(endpoint: str, kind: str = "client") -> Any:
    """A boto3 DynamoDB client (or `kind="resource"`) for the moto server."""
    import boto3

    factory = boto3.resource if kind == "resource" else boto3.client
    return factory(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def create_tables(endpoint: str) -> None:
    """The posts and sessions tables, shaped as serverless.yml declares them."""
    dynamodb = connect(endpoint)
    create_sessions_table(dynamodb, SESSION_TABLE)
    dynamodb.create_table(TableName=POSTS_TABLE, **TABLE_SHAPE)


def count_items(endpoint: str) -> dict[str, int]:
    """How many posts, members (items of the posts table) and sessions (visitors not
    yet expired) the tables hold."""
    pages = connect(endpoint).get_paginator("scan")

    def count(table: str, kind: str | None = None) -> int:
        only = {} if kind is None else {
            "FilterExpression": "#kind = :kind",
            "ExpressionAttributeNames": {"#kind": "kind"},
            "ExpressionAttributeValues": {":kind": {"S": kind}}}
        return sum(page["Count"] for page in pages.paginate(
            TableName=table, Select="COUNT", **only))

    return {"posts": count(POSTS_TABLE, "post"),
            "members": count(POSTS_TABLE, "member"),
            "sessions": count(SESSION_TABLE)}


def dynamodb_env(endpoint: str) -> dict[str, str]:
    """Settings that put the blog's posts and sessions in the tables at `endpoint`."""
    return {
        **AWS_ENV,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "BLOG_POSTS_TABLE": POSTS_TABLE,
        "BLOG_SESSION_TYPE": "dynamodb",
        "BLOG_SESSION_TABLE": SESSION_TABLE,
    }


def apps_use(monkeypatch: Any, resource: Any) -> None:
    """Apps made from now on use `resource` as their one DynamoDB resource."""
    from blog import backends

    monkeypatch.setattr(backends, "connect", lambda: resource)
