"""The servers of a load run, all on 127.0.0.1: the blog under gunicorn, moto_server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

PASSWORD = "Str0ng-Passw0rd!"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
POSTS_TABLE, SESSION_TABLE = "blog-load-posts", "blog-load-sessions"


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


def add_users(instance: str, names: list[str]) -> None:
    """Create confirmed users in the local Cognito of `instance` (before gunicorn)."""
    from blog import create_app
    from blog.localcognito import accounts
    from blog.localcognito import keys

    app = create_app({"INSTANCE_PATH": instance})
    with app.app_context():
        for name in names:
            accounts.create_user(name, f"{name}@example.com", PASSWORD, confirmed=True)
        keys.load_keys(
            app
        )  # the signing key, made once here rather than by racing workers


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
    dynamodb.create_table(
        TableName=SESSION_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    dynamodb.create_table(
        TableName=POSTS_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "kind", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_created",
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [
                    {"AttributeName": "kind", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
            }
        ],
    )


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


@contextmanager
def gunicorn(
    instance: str, workers: int, threads: int, env: dict[str, str] | None = None
) -> Iterator[str]:
    """The blog in local mode under gunicorn (gthread); yields its base URL.

    The login callback calls the local Cognito on the same server, so there must be
    more than one worker and thread, or the callback waits for itself.
    """
    port = free_port()
    os.makedirs(instance, exist_ok=True)
    log_path = os.path.join(instance, "gunicorn.log")
    log = open(log_path, "ab")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--worker-class",
            "gthread",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--keep-alive",
            "10",
            "--log-level",
            "warning",
            "blog:create_app()",
        ],
        env=clean_env(BLOG_INSTANCE_PATH=instance, **(env or {})),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with stopping(process):
            wait_for(url + "/healthz", process)
            yield url
    finally:
        log.close()
