"""On Lambda, one JSON line per request on stdout, with both request ids; no secrets."""

from __future__ import annotations

import json
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest

from blog import logs
from tests.support.clients import query_of
from tests.support.fakeidp import CLIENT_SECRET

from .events import Gateway

FIELDS = {
    "timestamp", "level", "lambda_request_id", "api_request_id", "method", "path",
    "status", "duration_ms", "member", "cold_start",
}


@pytest.fixture
def lambda_env(monkeypatch):
    """What Lambda sets, in a process that has served nothing yet."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "blog-dev-web")
    monkeypatch.setattr(logs, "_first_request", True)


def numbered(gateway: Gateway) -> Gateway:
    """Give each event its own API Gateway and Lambda request ids: api-N, lambda-N."""
    handler, count = gateway.handler, iter(range(1, 100))

    def numbered_handler(event: dict, context: object) -> dict:
        number = next(count)
        event["requestContext"]["requestId"] = f"api-{number}"
        return handler(event, SimpleNamespace(aws_request_id=f"lambda-{number}"))

    gateway.handler = numbered_handler
    return gateway


def test_each_request_is_one_json_line_with_both_ids(
    lambda_env, cold_start, idp, capsys
):
    gateway = numbered(Gateway(cold_start(), "http2"))
    capsys.readouterr()
    login = gateway.get(gateway.base + "/auth/login?next=/posts/")
    params = query_of(login["headers"]["Location"])
    idp.token_response = {
        "id_token": idp.id_token(nonce=params["nonce"], sub="sub-alice"),
        "access_token": "opaque-access-token-value",
        "refresh_token": "refresh-token-value",
        "token_type": "Bearer",
        "expires_in": 3600,
    }
    query = urlencode({"code": "secret-code-123", "state": params["state"]})
    callback = gateway.get(gateway.base + "/auth/authorize?" + query)
    assert callback["statusCode"] == 302
    gateway.get(gateway.base + "/posts/")
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["api_request_id"] for line in lines] == ["api-1", "api-2", "api-3"]
    assert [line["lambda_request_id"] for line in lines] == [
        "lambda-1", "lambda-2", "lambda-3",
    ]
    assert all(set(line) == FIELDS for line in lines)
    assert [line["cold_start"] for line in lines] == [True, False, False]
    assert [line["path"] for line in lines] == [
        "/auth/login", "/auth/authorize", "/posts/",
    ]
    assert [line["status"] for line in lines] == [302, 302, 200]
    assert lines[0]["member"] is None
    assert lines[2]["member"] == logs.user_hash("sub-alice")
    assert all(isinstance(line["duration_ms"], float) for line in lines)
    for secret in ("secret-code-123", params["state"], params["nonce"], CLIENT_SECRET,
                   "opaque-access-token-value", "refresh-token-value", "sub-alice"):
        assert secret not in out


def test_locally_the_line_stays_text(cold_start, monkeypatch, caplog):
    monkeypatch.setenv("BLOG_LOG_FORMAT", "text")
    gateway = Gateway(cold_start(), "http1")
    caplog.set_level("INFO", logger="blog.request")
    gateway.get(gateway.base + "/healthz")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "blog.request"]
    assert line.startswith("GET /healthz 200 ") and line.endswith("user=-")
