"""What the app sees of API Gateway's events, and what the gateway gets back."""

from __future__ import annotations

import base64
import json
import mimetypes
from collections.abc import Callable
from types import ModuleType
from typing import Any

import flask
import pytest

from blog.csrf import csrf

from .events import HOST
from .events import ROOT
from .events import SHAPES
from .events import SOURCE_IP
from .events import Gateway
from .events import set_cookies
from .events import text

FORM = {"title": "café & co", "body": "a+b=c"}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
closed: list[str] = []


def probe(container: ModuleType) -> ModuleType:
    """Add routes that report what the app saw (before its first request)."""
    app = container.app

    @app.route("/probe/<path:rest>", methods=["GET", "POST"])
    def echo(rest: str) -> Any:
        response = flask.jsonify(
            rest=rest,
            tags=flask.request.args.getlist("tag"),
            url=flask.request.url,
            remote_addr=flask.request.remote_addr,
            form=flask.request.form.to_dict(),
            index=flask.url_for("posts.index", _external=True),
        )
        response.set_cookie("first", "1", secure=True)
        response.set_cookie("second", "2", secure=True)
        response.call_on_close(lambda: closed.append(rest))
        return response

    csrf.exempt(echo)
    app.add_url_rule(
        "/image.png", "png", lambda: flask.Response(PNG, mimetype="image/png")
    )
    return container


@pytest.fixture
def probed(cold_start) -> Callable[[str], Gateway]:
    return lambda shape: Gateway(probe(cold_start()), shape)


@pytest.mark.parametrize("shape", SHAPES)
def test_what_the_app_sees(probed, shape):
    gateway = probed(shape)
    response = gateway.get(f"{gateway.stage}/probe/caf%C3%A9%2F1?tag=a&tag=b%20c")
    seen = json.loads(text(response))
    assert seen["rest"] == "café/1"
    assert seen["tags"] == ["a", "b c"]
    assert seen["remote_addr"] == SOURCE_IP  # not the X-Forwarded-For it was sent
    assert seen["url"] == f"https://{HOST}{gateway.stage}/probe/café/1?tag=a&tag=b+c"
    assert seen["index"] == f"https://{HOST}{gateway.stage}/posts/"


@pytest.mark.parametrize("shape", SHAPES)
def test_https_without_forwarded_headers(probed, shape):
    gateway = probed(shape)
    event = gateway.event("GET", "/probe/x", headers={"Host": HOST})
    for name in (
        "X-Forwarded-Proto",
        "x-forwarded-proto",
        "X-Forwarded-Port",
        "x-forwarded-port",
    ):
        event["headers"].pop(name, None)
    seen = json.loads(text(gateway.handler(event, None)))
    assert seen["index"] == f"https://{HOST}{gateway.stage}/posts/"


@pytest.mark.parametrize("shape", SHAPES)
def test_every_cookie_reaches_the_gateway(probed, shape):
    gateway = probed(shape)
    cookies = set_cookies(gateway.get(f"{gateway.stage}/probe/x"), shape)
    assert [c.split(";")[0] for c in cookies] == ["first=1", "second=2"]


@pytest.mark.parametrize("shape", SHAPES)
def test_form_post_body(probed, shape):
    gateway = probed(shape)
    response = gateway.send("POST", f"{gateway.stage}/probe/x", form=FORM)
    assert json.loads(text(response))["form"] == FORM


def test_close_runs_after_each_response(probed):
    closed.clear()
    gateway = probed("http1")
    gateway.get("/probe/one")
    assert closed == ["one"]


@pytest.mark.parametrize("shape", SHAPES)
def test_binary_body_is_base64(probed, shape):
    gateway = probed(shape)
    response = gateway.get(f"{gateway.stage}/image.png")
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == PNG
    favicon = gateway.get(f"{gateway.stage}/static/favicon.svg")
    assert favicon["isBase64Encoded"] is False and "<svg" in favicon["body"]


def test_every_static_file_survives_the_gateway(cold_start):
    gateway = Gateway(cold_start(), "http1")
    for path in (ROOT / "blog" / "static").rglob("*"):
        if path.is_file():
            url = "/static/" + path.relative_to(ROOT / "blog" / "static").as_posix()
            response = gateway.get(url)
            body = response["body"]
            raw = (
                base64.b64decode(body) if response["isBase64Encoded"] else body.encode()
            )
            assert response["statusCode"] == 200 and raw == path.read_bytes(), url


def test_binary_types_cover_the_static_files():
    import wsgi

    for path in (ROOT / "blog" / "static").rglob("*.*"):
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        textual = kind.startswith("text/") or kind.endswith(
            ("+xml", "/json", "javascript")
        )
        assert textual or kind in wsgi.BINARY_TYPES, path.name


@pytest.mark.parametrize("shape", SHAPES)
def test_health_and_not_found(cold_start, shape):
    gateway = Gateway(cold_start(), shape)
    health = gateway.get(f"{gateway.stage}/healthz")
    assert health["statusCode"] == 200 and json.loads(text(health)) == {"status": "ok"}
    missing = gateway.get(f"{gateway.stage}/no/such/page")
    assert missing["statusCode"] == 404 and "Not found" in text(missing)


def test_rest_event_without_query_keys(cold_start):
    gateway = Gateway(cold_start(), "rest")
    event = gateway.event("GET", "/healthz")
    for key in (
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "headers",
        "multiValueHeaders",
    ):
        event.pop(key)
    assert gateway.handler(event, None)["statusCode"] == 200
