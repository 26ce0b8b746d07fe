"""DynamoDB throttled, hung or unreachable: 503 pages, bounded waits, no half-writes.

The blog talks to a moto server through a proxy on 127.0.0.1 that can throttle chosen
operations, as DynamoDB does (400 ProvisionedThroughputExceededException).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import requests
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from tests.support import fakeaws
from tests.support.clients import AuthActions
from tests.support.clients import csrf_from
from tests.support.clients import post_path
from tests.support.servers import serve

BUSY = "busy right now"
THROTTLED = {
    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "message": "The level of configured provisioned throughput was exceeded.",
}


class ThrottlingProxy:
    """Forwards DynamoDB calls to moto, except those matching `throttle`.

    A rule is an operation (`PutItem`) or an operation on one table (`GetItem:table`).
    """

    def __init__(self, target: str) -> None:
        self.target, self.throttle, self.calls = target, set(), []
        self.http = requests.Session()
        self.serving = ExitStack()
        self.url = self.serving.enter_context(serve(self.wsgi))

    def wsgi(self, environ: dict, start_response) -> object:
        request = Request(environ)
        operation = request.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
        table = json.loads(request.get_data() or b"{}").get("TableName", "")
        self.calls.append(f"{operation}:{table}")
        if {operation, f"{operation}:{table}"} & self.throttle:
            response = Response(
                json.dumps(THROTTLED), 400, content_type="application/x-amz-json-1.0"
            )
        else:
            headers = {
                k: v
                for k, v in request.headers.items()
                if k.lower() not in ("host", "content-length")
            }
            upstream = self.http.post(
                self.target + "/", data=request.get_data(), headers=headers, timeout=10
            )
            response = Response(
                upstream.content,
                upstream.status_code,
                content_type=upstream.headers.get("Content-Type"),
            )
        return response(environ, start_response)

    def count(self, rule: str) -> int:
        return sum(
            1 for call in self.calls if call == rule or call.startswith(rule + ":")
        )

    def close(self) -> None:
        self.serving.close()
        self.http.close()


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with fakeaws.moto_server() as url:
        yield url


@pytest.fixture
def proxy(moto) -> Iterator[ThrottlingProxy]:
    proxy = ThrottlingProxy(moto)
    yield proxy
    proxy.close()


def dynamodb_app(make_app, monkeypatch, endpoint: str, sessions: bool = False):
    for name, value in {
        **fakeaws.AWS_ENV,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    extra = (
        {"SESSION_TYPE": "dynamodb", "SESSION_TABLE": fakeaws.SESSION_TABLE}
        if sessions
        else {}
    )
    return make_app(POSTS_TABLE=fakeaws.POSTS_TABLE, **extra)


@pytest.fixture
def writer(idp, make_app, monkeypatch, proxy) -> AuthActions:
    auth = AuthActions(
        dynamodb_app(make_app, monkeypatch, proxy.url).test_client(), idp
    )
    auth.login("alice")
    return auth


def publish(client, title: str, body: str, path: str = "/posts/new"):
    token = csrf_from(client.get("/posts/new").text)
    return client.post(path, data={"csrf_token": token, "title": title, "body": body})


def items_titled(moto: str, title: str) -> list[dict]:
    table = fakeaws.connect(moto, "resource").Table(fakeaws.POSTS_TABLE)
    return [item for item in table.scan()["Items"] if item.get("title") == title]


def test_throttled_write_is_a_503_and_writes_nothing(writer, proxy, moto):
    proxy.throttle = {"PutItem"}
    started = time.monotonic()
    page = publish(writer.client, "Throttled post", "Typed during throttling")
    assert page.status_code == 503 and BUSY in page.text
    assert time.monotonic() - started < 10  # backoff: at most 1 + 2 + 4 s
    assert proxy.count("PutItem") == 4  # 1 + max_attempts=3 retries, then the page
    proxy.throttle = set()
    assert items_titled(moto, "Throttled post") == []
    assert "Throttled post" not in writer.client.get("/posts/").text


def test_throttled_edit_leaves_the_post_whole(writer, proxy, moto):
    location = post_path(publish(writer.client, "Before edit",
                                 "Old body").headers["Location"])
    proxy.throttle = {"UpdateItem"}
    page = publish(writer.client, "After edit", "New body", path=location + "/edit")
    assert page.status_code == 503 and BUSY in page.text
    assert 'value="After edit"' in page.text and "New body" in page.text  # kept
    proxy.throttle = set()
    (item,) = items_titled(moto, "Before edit")
    assert item["body"] == "Old body" and item["created_at"] == item["updated_at"]
    assert "Old body" in writer.client.get(location, follow_redirects=True).text


def test_throttled_reads_are_a_503_then_the_list_is_back(writer, proxy):
    proxy.throttle = {"Query"}
    assert writer.client.get("/posts/").status_code == 503
    proxy.throttle = set()
    assert writer.client.get("/posts/").status_code == 200


def test_throttled_session_table_keeps_the_user_and_writes_nothing(
    idp, make_app, monkeypatch, proxy, moto
):
    app = dynamodb_app(make_app, monkeypatch, proxy.url, sessions=True)
    auth = AuthActions(app.test_client(), idp)
    auth.login("alice")
    token = csrf_from(auth.client.get("/posts/new").text)
    proxy.throttle = {f"GetItem:{fakeaws.SESSION_TABLE}"}
    page = auth.client.post(
        "/posts/new", data={"csrf_token": token, "title": "Sessionless", "body": "B"}
    )
    assert page.status_code == 503 and "session store is busy" in page.text
    proxy.throttle = set()
    assert items_titled(moto, "Sessionless") == []
    assert (
        'title="Signed in">alice' in auth.client.get("/posts/").text
    )  # not logged out


def closed_port() -> str:
    return f"http://127.0.0.1:{fakeaws.free_port()}"


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A port that accepts connections and never answers (a hung endpoint)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("where", ["refused", "hung"])
def test_unreachable_table_is_a_503_within_bounds(
    where, idp, make_app, monkeypatch, request
):
    endpoint = (
        closed_port() if where == "refused" else request.getfixturevalue("black_hole")
    )
    auth = AuthActions(
        dynamodb_app(make_app, monkeypatch, endpoint).test_client(), idp
    )
    auth.login("alice")
    started = time.monotonic()
    page = auth.client.get("/posts/")
    elapsed = time.monotonic() - started
    assert page.status_code == 503 and BUSY in page.text
    # 4 attempts of connect 2 s / read 3 s each, plus backoff: bounded, never hung.
    assert elapsed < (3 if where == "refused" else 4 * 3 + 3)


def test_throttled_write_gives_back_what_was_typed(writer, proxy):
    proxy.throttle = {"PutItem"}
    page = publish(writer.client, "Keep this title", "Keep this body")
    assert page.status_code == 503
    assert 'value="Keep this title"' in page.text and "Keep this body" in page.text
