"""wsgi.handler behind API Gateway: REST (stage dev), HTTP API payload 1.0 and 2.0.

Each "container" is a fresh import of wsgi.py with the environment serverless.yml sets;
DynamoDB and Secrets Manager are moto; the user pool is the project's local Cognito, or
the scriptable fake IdP, both served on 127.0.0.1.
"""

from __future__ import annotations

import base64
import html
import importlib.util
import itertools
import json
import mimetypes
import os
import re
import threading
from collections.abc import Callable
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlsplit

import boto3
import flask
import pytest
import requests
from conftest import csrf_from
from conftest import query_of
from fakeaws import create_sessions_table
from fakeaws import fake_credentials
from fakeidp import CLIENT_ID
from fakeidp import CLIENT_SECRET
from localsite import PASSWORD
from localsite import add_user
from moto import mock_aws
from werkzeug.serving import make_server

from blog import localcognito
from blog.csrf import csrf
from blog.storage import dynamodb

ROOT = Path(__file__).resolve().parent.parent
HOST = "abc123.execute-api.us-east-1.amazonaws.com"
SOURCE_IP = "203.0.113.7"
SHAPES = ["rest", "http1", "http2"]
_containers = itertools.count()


@pytest.fixture
def aws(monkeypatch) -> Any:
    """moto's DynamoDB (both tables) and Secrets Manager (both secrets)."""
    for name in [name for name in os.environ if name.startswith("BLOG_")]:
        monkeypatch.delenv(name)
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


class LocalCognito:
    """The project's local Cognito on 127.0.0.1, and a browser that signs in there."""

    def __init__(self, app: flask.Flask, base: str) -> None:
        self.app, self.base, self.browser = app, base, requests.Session()

    def provider(self, blog_url: str) -> dict:
        """An app client whose callback and sign-out URLs are the blog's."""
        client = localcognito.ensure_client(self.app, blog_url)
        return {
            "issuer": self.base + "/_cognito",
            "domain": self.base + "/_cognito",
            **client,
        }

    def add_user(self, name: str) -> None:
        add_user(self.app, name)

    def sign_in(self, authorize_url: str, username: str) -> str:
        """Fill in the Hosted UI's login form; return where it sends the browser."""
        login_url = urljoin(
            self.base,
            self.browser.get(authorize_url, allow_redirects=False).headers["Location"],
        )
        page = self.browser.get(login_url).text
        fields = {}
        for tag in re.findall(r"<input[^>]*>", page):
            name, value = (
                re.search(r'name="([^"]*)"', tag),
                re.search(r'value="([^"]*)"', tag),
            )
            fields[name[1]] = html.unescape(value[1]) if value else ""
        action = html.unescape(
            re.search(r'<form method="post" action="([^"]+)"', page)[1]
        )
        back = self.browser.post(
            urljoin(login_url, action),
            allow_redirects=False,
            data={**fields, "username": username, "password": PASSWORD},
        )
        return self.follow(back.headers["Location"])

    def follow(self, url: str) -> str:
        """Follow the provider's redirects until one leaves it."""
        while (url := urljoin(self.base, url)).startswith(self.base):
            answer = self.browser.get(url, allow_redirects=False)
            assert answer.status_code in (302, 303), answer.text[:300]
            url = answer.headers["Location"]
        return url


@pytest.fixture
def local_cognito(tmp_path) -> Iterator[LocalCognito]:
    app = flask.Flask("localcognito", instance_path=str(tmp_path / "cognito"))
    app.config.update(SECRET_KEY="local-cognito-test-key", TESTING=True)
    localcognito.init_app(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LocalCognito(app, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join()
    server.server_close()


class Gateway:
    """API Gateway in front of one container, plus a browser's cookie jar."""

    def __init__(self, container: ModuleType, shape: str) -> None:
        self.handler, self.shape, self.cookies = container.handler, shape, {}
        self.stage = "/dev" if shape == "rest" else ""
        self.base = f"https://{HOST}{self.stage}"

    def event(
        self,
        method: str,
        path: str,
        query: str = "",
        body: bytes | None = None,
        headers: dict | None = None,
    ) -> dict:
        """An event as API Gateway sends it; `path` is without the stage."""
        headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Port": "443",
            "X-Forwarded-For": f"198.51.100.66, {SOURCE_IP}",
            "User-Agent": "pytest",
            **(headers or {}),
        }
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        pairs = parse_qs(query, keep_blank_values=True)
        binary = body is not None and self.shape != "rest"  # HTTP APIs base64 bodies
        text = (
            None
            if body is None
            else (base64.b64encode(body).decode() if binary else body.decode())
        )
        if self.shape == "http2":
            return {
                "version": "2.0",
                "routeKey": "$default",
                "rawPath": path,
                "rawQueryString": query,
                "cookies": [c.strip() for c in cookie.split(";") if c.strip()],
                "headers": {k.lower(): v for k, v in headers.items()},
                "queryStringParameters": {k: ",".join(v) for k, v in pairs.items()}
                or None,
                "requestContext": {
                    "accountId": "123456789012",
                    "apiId": "abc123",
                    "domainName": HOST,
                    "http": {
                        "method": method,
                        "path": path,
                        "protocol": "HTTP/1.1",
                        "sourceIp": SOURCE_IP,
                        "userAgent": "pytest",
                    },
                    "requestId": "r1",
                    "routeKey": "$default",
                    "stage": "$default",
                },
                "body": text,
                "isBase64Encoded": binary,
            }
        if cookie:
            headers["Cookie"] = cookie
        if self.shape == "http1":
            headers = {k.lower(): v for k, v in headers.items()}
        stage = "dev" if self.shape == "rest" else "$default"
        return {
            **({"version": "1.0"} if self.shape == "http1" else {}),
            "resource": "/{proxy+}" if self.shape == "rest" else "$default",
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in pairs.items()} or None,
            "multiValueQueryStringParameters": pairs or None,
            "pathParameters": None,
            "stageVariables": None,
            "requestContext": {
                "httpMethod": method,
                "stage": stage,
                "path": self.stage + path,
                "domainName": HOST,
                "apiId": "abc123",
                "requestId": "r1",
                "identity": {"sourceIp": SOURCE_IP, "userAgent": "pytest"},
            },
            "body": text,
            "isBase64Encoded": binary,
        }

    def send(
        self,
        method: str,
        url: str,
        form: dict | None = None,
        headers: dict | None = None,
    ) -> dict:
        """Request `url` (on this API, or a path with the stage); keep cookies."""
        parts = urlsplit(url)
        assert parts.netloc in ("", HOST), f"not this API: {url}"
        assert parts.path.startswith(self.stage + "/"), f"{url} misses {self.stage!r}"
        body = urlencode(form).encode() if form is not None else None
        if form is not None:
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"https://{HOST}",
                "Referer": self.base + "/",
                **(headers or {}),
            }
        event = self.event(
            method, parts.path[len(self.stage) :], parts.query, body, headers
        )
        response = self.handler(event, None)
        assert isinstance(response["statusCode"], int)
        for set_cookie in set_cookies(response, self.shape):
            for name, morsel in SimpleCookie(set_cookie).items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, url: str) -> dict:
        return self.send("GET", url)


def set_cookies(response: dict, shape: str) -> list[str]:
    """Every Set-Cookie the gateway would send on, from the place it reads them."""
    assert "set-cookie" not in {k.lower() for k in response["headers"]}
    if shape == "http2":
        return response["cookies"]
    return response.get("multiValueHeaders", {}).get("Set-Cookie", [])


def text(response: dict) -> str:
    body = response["body"]
    return base64.b64decode(body).decode() if response["isBase64Encoded"] else body


def open_gateway(cold_start: Callable[..., ModuleType], shape: str) -> Gateway:
    """A new container whose BLOG_BASE_URL includes the stage, when there is one."""
    stage = "/dev" if shape == "rest" else ""
    return Gateway(cold_start(f"https://{HOST}{stage}"), shape)


def log_in(gateway: Gateway, idp, next_path: str | None = None) -> dict:
    """/auth/login → the Hosted UI (the fake IdP's answer) → the callback's answer."""
    query = "?" + urlencode({"next": next_path}) if next_path else ""
    login = gateway.get(gateway.base + "/auth/login" + query)
    assert login["headers"]["Location"].startswith(idp.domain + "/oauth2/authorize?")
    params = query_of(login["headers"]["Location"])
    assert params["redirect_uri"] == gateway.base + "/auth/authorize"
    idp.token_response = {
        "id_token": idp.id_token(
            nonce=params["nonce"], sub="sub-alice", **{"cognito:username": "alice"}
        ),
        "access_token": "opaque-access",
        "refresh_token": "refresh-1",
        "token_type": "Bearer",
        "expires_in": 3600,
    }
    callback = (
        params["redirect_uri"]
        + "?"
        + urlencode({"code": "the-code", "state": params["state"]})
    )
    return gateway.get(callback)


@pytest.mark.parametrize("shape", SHAPES)
def test_login_write_and_logout_through_the_local_cognito(
    cold_start, local_cognito, aws, shape
):
    stage = "/dev" if shape == "rest" else ""
    provider = local_cognito.provider(f"https://{HOST}{stage}")
    gateway = Gateway(cold_start(f"https://{HOST}{stage}", provider), shape)
    local_cognito.add_user("alice")
    guarded = gateway.get(gateway.base + "/posts/new")
    assert guarded["headers"]["Location"] == f"{stage}/auth/login?next=/posts/new"
    login = gateway.get(gateway.base + "/auth/login")
    authorize = login["headers"]["Location"]
    assert query_of(authorize)["redirect_uri"] == gateway.base + "/auth/authorize"
    callback = gateway.get(local_cognito.sign_in(authorize, "alice"))
    assert callback["statusCode"] == 302, text(callback)
    assert callback["headers"]["Location"] == f"{stage}/posts/"
    form = gateway.get(callback["headers"]["Location"] + "new")
    assert form["statusCode"] == 200 and "alice" in text(form)
    created = gateway.send(
        "POST",
        gateway.base + "/posts/new",
        form={
            "title": "From Lambda",
            "body": "*café* & more",
            "csrf_token": csrf_from(text(form)),
        },
    )
    assert created["statusCode"] == 302, text(created)
    detail = gateway.get(created["headers"]["Location"])
    assert detail["statusCode"] == 200 and "From Lambda" in text(detail)
    assert "<em>café</em> &amp; more" in text(detail)
    logout = gateway.send(
        "POST",
        gateway.base + "/auth/logout",
        form={"csrf_token": csrf_from(text(detail))},
    )
    assert gateway.cookies == {} and aws.Table("blog-dev-sessions").scan()["Count"] == 0
    assert local_cognito.follow(logout["headers"]["Location"]) == gateway.base + "/"
    assert gateway.get(gateway.base + "/")["statusCode"] == 200
    assert gateway.get(gateway.base + "/posts/")["statusCode"] == 302


@pytest.mark.parametrize("shape", SHAPES)
def test_login_through_the_handler_with_a_scripted_idp(cold_start, idp, shape):
    gateway = open_gateway(cold_start, shape)
    callback = log_in(gateway, idp)
    assert callback["headers"]["Location"] == f"{gateway.stage}/posts/"
    token_call = [r for r in idp.requests if r[1].endswith("/oauth2/token")][-1]
    assert token_call[2]["auth"].password == CLIENT_SECRET  # read from Secrets Manager
    page = gateway.get(gateway.base + "/posts/")
    assert page["statusCode"] == 200 and "alice" in text(page)
    logout = gateway.send(
        "POST",
        gateway.base + "/auth/logout",
        form={"csrf_token": csrf_from(text(page))},
    )
    assert logout["headers"]["Location"] == f"{idp.domain}/logout?" + urlencode(
        {"client_id": CLIENT_ID, "logout_uri": gateway.base + "/"}
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_session_cookie_flags(cold_start, shape):
    gateway = open_gateway(cold_start, shape)
    (cookie,) = set_cookies(gateway.get(gateway.base + "/auth/login"), shape)
    assert cookie.startswith("__Host-session=")
    attributes = [part.strip() for part in cookie.split(";")]
    assert {"Secure", "HttpOnly", "Path=/", "SameSite=Lax"} <= set(attributes)


@pytest.mark.parametrize("shape", ["http1", "http2"])
def test_next_after_login(cold_start, idp, shape):
    gateway = open_gateway(cold_start, shape)
    assert log_in(gateway, idp, "/posts/new")["headers"]["Location"] == "/posts/new"


def test_next_after_login_keeps_the_rest_stage(cold_start, idp):
    gateway = open_gateway(cold_start, "rest")
    assert log_in(gateway, idp, "/posts/new")["headers"]["Location"] == "/dev/posts/new"


def test_a_second_container_reads_the_session(cold_start, idp):
    first, second = cold_start(), cold_start()
    assert first.app is not second.app
    browser = Gateway(first, "http1")
    assert log_in(browser, idp)["statusCode"] == 302
    browser.handler = second.handler
    page = browser.get(browser.base + "/posts/")
    assert page["statusCode"] == 200 and "alice" in text(page)


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
