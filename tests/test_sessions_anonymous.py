"""A visitor without a session cookie costs no session-store call and gets no cookie.

Each anonymous hit on a guarded page used to delete a session that was never stored
(a billable DynamoDB write anyone can repeat) and to expire a cookie never set.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from flask import Flask
from moto import mock_aws

from tests.support.fakeaws import apps_use
from tests.support.fakeaws import create_sessions_table
from tests.support.fakeaws import fake_credentials

TABLE = "blog-test-sessions"
VISITS = [
    ("GET", "/posts/"),
    ("GET", "/posts/new"),
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/api/docs"),
    ("POST", "/posts/new"),
]


@pytest.fixture(params=["filesystem", "dynamodb"])
def app(request, make_app, monkeypatch) -> Iterator[Flask]:
    """The blog on each session backend; `app.store_calls` lists what its store got."""
    if request.param == "filesystem":
        app = make_app()
        app.store_calls = []
        cache = app.session_interface.cache
        for name in ("get", "set", "add", "has", "delete"):
            method = getattr(cache, name)
            monkeypatch.setattr(cache, name, spy(app.store_calls, name, method))
        yield app
        return
    fake_credentials(monkeypatch)
    with mock_aws():
        resource = boto3.resource("dynamodb")
        create_sessions_table(resource, TABLE)
        apps_use(monkeypatch, resource)
        app = make_app(SESSION_TYPE="dynamodb", SESSION_TABLE=TABLE)
        app.store_calls = []
        resource.meta.client.meta.events.register(
            "before-parameter-build.dynamodb",
            lambda event_name, params, **_: app.store_calls.append(
                event_name.rsplit(".", 1)[-1])
            if params.get("TableName") == TABLE else None)
        yield app


def spy(calls: list[str], name: str, method):
    def record(*args, **kwargs):
        calls.append(name)
        return method(*args, **kwargs)

    return record


@pytest.mark.parametrize(("method", "path"), VISITS)
def test_no_cookie_in_means_no_store_call_and_no_cookie_out(app, method, path):
    client = app.test_client()
    data = {"title": "Hi", "body": "there"} if method == "POST" else None
    response = client.open(path, method=method, data=data)
    assert response.status_code in (200, 302, 400)
    assert response.headers.getlist("Set-Cookie") == []
    assert app.store_calls == []


def test_many_anonymous_hits_cost_nothing(app):
    client = app.test_client()
    for _ in range(20):
        assert client.get("/posts/").status_code == 302
    assert app.store_calls == []
    assert client.get_cookie("__Host-session", domain="blog.example") is None


def test_an_unknown_cookie_is_removed_without_a_store_write(app):
    client = app.test_client()
    client.set_cookie("__Host-session", "x" * 43, domain="blog.example")
    response = client.get("/posts/")
    assert response.status_code == 302
    (deletion,) = response.headers.getlist("Set-Cookie")
    assert deletion.startswith("__Host-session=;") and "Max-Age=0" in deletion
    assert client.get_cookie("__Host-session", domain="blog.example") is None
    assert app.store_calls in (["get"], ["GetItem"])  # the lookup, no write
