"""Close aws-wsgi 0.2.7's gaps between API Gateway events and WSGI.

docs/ARCHITECTURE.md ("The same request on Lambda") lists the gaps and why each matters.

`v1_event` turns an HTTP API payload 2.0 event into the v1 shape aws-wsgi reads,
`fix_environ` is WSGI middleware correcting what aws-wsgi gets wrong in the environ,
and `finish` shapes aws-wsgi's answer for the gateway that sent the event.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import unquote_to_bytes
from urllib.parse import urlencode

WSGIApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]
SET_COOKIES = "blog.set_cookies"  # where the middleware leaves every Set-Cookie value


def is_scheduled(event: dict) -> bool:
    """An EventBridge schedule's event (serverless.yml `schedule`), not a request.

    Only EventBridge, through the permission serverless.yml grants it, or someone
    allowed to invoke the function directly can send one: API Gateway never does.
    """
    return (event.get("source") == "aws.events"
            and event.get("detail-type") == "Scheduled Event")


def v1_event(event: dict) -> dict:
    """A copy of `event` in the v1 (REST / payload 1.0) shape aws-wsgi understands."""
    if event.get("version") != "2.0":
        v1 = {**event, "queryStringParameters": event.get("queryStringParameters")}
        multi = event.get("multiValueHeaders") or {}
        cookies = [value for name, values in multi.items()
                   if name.lower() == "cookie" for value in values or ()]
        if len(cookies) > 1:  # HTTP/2 may send several Cookie headers
            headers = {k: v for k, v in (event.get("headers") or {}).items()
                       if k.lower() != "cookie"}
            v1["headers"] = {**headers, "cookie": "; ".join(cookies)}
        return v1
    context, http = event.get("requestContext") or {}, event["requestContext"]["http"]
    headers = dict(event.get("headers") or {})
    if event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])
    query: dict[str, list[str]] = {}
    raw_query = event.get("rawQueryString") or ""
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    raw_path = path = event.get("rawPath") or http["path"]
    stage = context.get("stage", "$default")
    if stage != "$default" and (raw_path + "/").startswith(f"/{stage}/"):
        path = raw_path[len(stage) + 1:] or "/"  # a named stage stays in the URL
    return {
        "httpMethod": http["method"], "path": path, "headers": headers,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "requestContext": {**context, "httpMethod": http["method"], "path": raw_path,
                           "identity": {"sourceIp": http.get("sourceIp"),
                                        "userAgent": http.get("userAgent")}},
        "body": event.get("body"),
        "isBase64Encoded": event.get("isBase64Encoded", False),
    }


def fix_environ(wsgi_app: WSGIApp) -> WSGIApp:
    """Wrap `app.wsgi_app`: scheme, query, path, stage and client IP from the event."""

    def middleware(environ: dict, start_response: Callable[..., Any]
                   ) -> Iterable[bytes]:
        event = environ.get("awsgi.event")  # the v1 event aws-wsgi was given
        if event is None:  # not under aws-wsgi: a WSGI server serving `wsgi:app`
            return wsgi_app(environ, start_response)
        context = event.get("requestContext") or {}
        scheme = environ["wsgi.url_scheme"] = environ.get("wsgi.url_scheme") or "https"
        if not environ.get("SERVER_PORT"):
            environ["SERVER_PORT"] = "443" if scheme == "https" else "80"
        query = event.get("multiValueQueryStringParameters")
        if query:
            environ["QUERY_STRING"] = urlencode(query, doseq=True)
        path = event["path"].encode("utf-8")  # as sent: percent-encoded, maybe not
        environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1")  # PEP 3333
        stage = context.get("stage")
        if stage and stage != "$default" and (
                (context.get("path") or "") + "/").startswith(f"/{stage}/"):
            environ["SCRIPT_NAME"] = f"/{stage}"
        # aws-wsgi takes the client-supplied first X-Forwarded-For entry.
        environ["REMOTE_ADDR"] = (context.get("identity") or {}).get("sourceIp") or ""

        def record(status: str, headers: list, exc_info: Any = None) -> Any:
            event[SET_COOKIES] = [v for k, v in headers if k.lower() == "set-cookie"]
            return start_response(status, headers, exc_info)

        body = wsgi_app(environ, record)
        try:
            return list(body)
        finally:  # aws-wsgi never calls close(), so call_on_close would never run
            if hasattr(body, "close"):
                body.close()

    return middleware


def finish(response: dict, event: dict, v1: dict) -> dict:
    """aws-wsgi's answer to `v1` with an int status and every cookie, for `event`'s API.
    """
    cookies = v1.get(SET_COOKIES) or []
    headers = {k: v for k, v in response["headers"].items()
               if k.lower() != "set-cookie"}
    response = {**response, "statusCode": int(response["statusCode"]),
                "headers": headers}
    if event.get("version") == "2.0":
        response["cookies"] = cookies
    elif cookies:  # `headers` holds one value per name; the gateway merges both maps
        response["multiValueHeaders"] = {"Set-Cookie": cookies}
    return response
