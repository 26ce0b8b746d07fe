"""API Gateway in front of a wsgi.py container: its events, cookies and answers."""

from __future__ import annotations

import base64
from http.cookies import SimpleCookie
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
HOST = "abc123.execute-api.us-east-1.amazonaws.com"
SOURCE_IP = "203.0.113.7"
SHAPES = ["rest", "http1", "http2"]


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
