"""Sessions in DynamoDB (moto): no CreateTable, expiry, no needless writes, 503s."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from flask import Flask
from moto import mock_aws

from tests.support.fakeaws import apps_use
from tests.support.fakeaws import create_sessions_table
from tests.support.fakeaws import fake_credentials

TABLE = "blog-test-sessions"
WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


@pytest.fixture
def resource(monkeypatch) -> Iterator[Any]:
    fake_credentials(monkeypatch)
    with mock_aws():
        resource = boto3.resource("dynamodb")
        create_sessions_table(resource, TABLE)
        apps_use(monkeypatch, resource)
        yield resource


@pytest.fixture
def calls(resource) -> list[str]:
    """The DynamoDB operations the app calls through `resource`, in order."""
    seen: list[str] = []
    resource.meta.client.meta.events.register(
        "before-call.dynamodb",
        lambda event_name, **_: seen.append(event_name.split(".")[-1]),
    )
    return seen


def dynamodb_app(make_app, resource, table: str = TABLE) -> Flask:
    return make_app(
        SESSION_TYPE="dynamodb",
        SESSION_TABLE=table,
    )


@pytest.fixture
def app(make_app, resource) -> Flask:
    return dynamodb_app(make_app, resource)


def fail(
    resource: Any, operation: str, code: str = "ProvisionedThroughputExceededException"
):
    """Make every `operation` call answer with the DynamoDB error `code`."""

    def answer(**_: Any) -> tuple:
        return AWSResponse("https://dynamodb", 400, {}, None), {
            "Error": {"Code": code, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    resource.meta.client.meta.events.register(
        f"before-call.dynamodb.{operation}", answer, unique_id=f"fail-{operation}"
    )
    return lambda: resource.meta.client.meta.events.unregister(
        f"before-call.dynamodb.{operation}", unique_id=f"fail-{operation}"
    )


def sid(client) -> str:
    return client.get_cookie("__Host-session", domain="blog.example").value


def item(resource, session_id: str) -> dict | None:
    return (
        resource.Table(TABLE).get_item(Key={"id": "session:" + session_id}).get("Item")
    )


def test_start_up_makes_no_dynamodb_call(make_app, resource, calls):
    app = dynamodb_app(make_app, resource)
    assert (
        calls == []
    )  # no CreateTable, DescribeTable or UpdateTimeToLive at cold start
    assert app.session_interface.client is resource  # not a localhost:8000 default


def test_login_stores_the_session_with_an_expiration(app, auth, client, resource):
    before = int(time.time())
    auth.callback(auth.start())
    stored = item(resource, sid(client))
    lifetime = app.config["SESSION_ABSOLUTE_TIMEOUT"]
    assert before + lifetime <= stored["expiration"] <= time.time() + lifetime
    assert client.get("/posts/").status_code == 200
    with client.session_transaction() as session:
        assert isinstance(session["login_at"], int) and isinstance(
            session["user"], dict
        )
        assert isinstance(session["user"]["groups"], list)


def test_login_replaces_the_pre_login_session(auth, client, resource):
    params = auth.start()
    before = sid(client)
    assert item(resource, before) is not None  # authlib's state lives there
    auth.callback(params)
    assert sid(client) != before
    assert item(resource, before) is None and item(resource, sid(client)) is not None


def test_reading_pages_writes_nothing(auth, client, calls):
    auth.callback(auth.start())
    client.get("/posts/")  # the first page stores the session's CSRF token
    calls.clear()
    for path in ("/posts/", "/", "/posts/", "/healthz"):
        assert client.get(path).status_code == 200
    assert calls and not WRITES & set(calls)


def test_expired_item_is_no_session_even_before_ttl_deletes_it(auth, client, resource):
    auth.callback(auth.start())
    assert client.get("/posts/").status_code == 200
    resource.Table(TABLE).update_item(
        Key={"id": "session:" + sid(client)},
        UpdateExpression="SET expiration = :past",
        ExpressionAttributeValues={":past": int(time.time()) - 1},
    )
    response = client.get("/posts/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_throttled_read_is_a_503_page_not_a_logout(auth, client, resource):
    auth.callback(auth.start())
    restore = fail(resource, "GetItem")
    page = client.get("/posts/")
    assert page.status_code == 503 and "Temporarily unavailable" in page.get_data(True)
    posted = client.post("/posts/new", data={"title": "Kept", "body": "in the browser"})
    assert posted.status_code == 503  # not a redirect to login that drops the form
    restore()
    assert client.get("/posts/").status_code == 200  # the session survived
    assert "Kept" not in client.get("/posts/").get_data(True)


def test_throttled_write_is_a_503_page(auth, client, resource):
    params = auth.start()
    fail(resource, "UpdateItem")
    response = auth.callback(params)
    assert (
        response.status_code == 503
        and "Temporarily unavailable" in response.get_data(True)
    )
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers


def test_missing_table_is_a_503_page(make_app, resource):
    client = dynamodb_app(make_app, resource, table="no-such-table").test_client()
    assert client.get("/").status_code == 200  # no cookie: nothing to read
    client.set_cookie("__Host-session", "x" * 43, domain="blog.example")
    assert client.get("/").status_code == 503


def test_unreachable_endpoint_is_a_503_page(make_app, resource, monkeypatch):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = boto3.resource(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    apps_use(monkeypatch, unreachable)
    client = dynamodb_app(make_app, unreachable).test_client()
    client.set_cookie("__Host-session", "x" * 43, domain="blog.example")
    response = client.get("/posts/")
    assert (
        response.status_code == 503
        and "Temporarily unavailable" in response.get_data(True)
    )
