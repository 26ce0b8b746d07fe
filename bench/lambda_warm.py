"""A warm Lambda invocation through `wsgi.handler()` vs a direct WSGI call of the app.

In this process, with the environment serverless.yml gives the function: DynamoDB
sessions and posts and Secrets Manager served by moto on 127.0.0.1, Cognito faked.
"""

from __future__ import annotations

import copy
import importlib
import io
import json

from . import harness
from .common import LAMBDA_BASE_URL
from .common import AuthActions
from .common import HttpsClient
from .common import Row
from .common import compared
from .common import seed_posts

EVENTS = "/work/shared/docs/lambda-events.json"
SHAPE = "http_api_payload_1_0_default_stage"


def event(path: str, cookie: str | None = None) -> dict:
    """The documented HTTP API payload 1.0 event, for a GET of `path`."""
    with open(EVENTS) as file:
        base = json.load(file)[SHAPE]
    shaped = copy.deepcopy(base)
    shaped.update(
        path=path, queryStringParameters=None, multiValueQueryStringParameters=None
    )
    shaped["requestContext"]["path"] = path
    if cookie:
        shaped["headers"]["cookie"] = cookie
        shaped["multiValueHeaders"]["cookie"] = [cookie]
    return shaped


def session_cookie(app, idp) -> str:
    """Log a member in and return the Cookie header that carries the session."""
    app.test_client_class = HttpsClient
    client = app.test_client()
    AuthActions(client, idp).login()
    name = app.config["SESSION_COOKIE_NAME"]
    return f"{name}={client.get_cookie(name, domain='blog.example').value}"


def prepare(idp, backends) -> str:
    """Import `wsgi` here as a Lambda container would, seed posts; a session cookie."""
    backends.apply()
    wsgi = importlib.import_module("wsgi")
    if not getattr(wsgi, "bench_seeded", False):
        seed_posts(wsgi.app)
        wsgi.bench_seeded = True
    return session_cookie(wsgi.app, idp)


def run(idp, backends, quick: bool) -> tuple[list[Row], dict]:
    from werkzeug.test import EnvironBuilder

    cookie = prepare(idp, backends)
    wsgi = importlib.import_module("wsgi")

    def direct_call(path: str, cookie: str | None):
        headers = {k: v for k, v in event(path)["headers"].items()}
        if cookie:
            headers["cookie"] = cookie
        template = EnvironBuilder(
            path=path, base_url=LAMBDA_BASE_URL, headers=headers
        ).get_environ()

        def call() -> tuple[str, bytes]:
            environ = {**template, "wsgi.input": io.BytesIO()}
            status = []
            body = wsgi.app(environ, lambda s, h, e=None: status.append(s))
            try:
                return status[0], b"".join(body)
            finally:
                getattr(body, "close", lambda: None)()

        return call

    def through_handler(path: str, cookie: str | None):
        request = event(path, cookie)

        def call() -> dict:
            return wsgi.handler(dict(request), None)

        return call

    cases = {}
    for label, path, sent in (
        ("healthz", "/healthz", None),
        ("posts", "/posts/", cookie),
    ):
        handler_call, wsgi_call = through_handler(path, sent), direct_call(path, sent)
        answer, (status, body) = handler_call(), wsgi_call()
        assert answer["statusCode"] == 200 and status.startswith("200"), (
            answer,
            status,
        )
        assert answer["body"].encode().count(b"post-card") == body.count(b"post-card")
        cases[label] = (handler_call, wsgi_call)

    rows = []
    for label, title, number, rounds in (
        (
            "healthz",
            "Warm Lambda: handler() vs direct WSGI call, GET /healthz",
            100,
            25,
        ),
        (
            "posts",
            "Warm Lambda: handler() vs direct WSGI, guarded GET /posts/ "
            "(DynamoDB on moto)",
            2,
            15,
        ),
    ):
        handler_call, wsgi_call = cases[label]
        samples = harness.compare(
            {"handler": (handler_call, number), "wsgi": (wsgi_call, number)},
            rounds=rounds // 2 if quick else rounds,
        )
        rows.append(compared(title, samples, "handler", "wsgi"))
    return rows, {"cookie": cookie}
