"""A scriptable stand-in for Cognito's endpoints, served over real HTTP on 127.0.0.1.

Unit tests use it where the local Cognito cannot misbehave on purpose: tokens with
wrong claims, failing endpoints, rotated keys. It records every request it gets.
"""

from __future__ import annotations

import json
import time
import uuid
from contextlib import ExitStack
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from .servers import serve

CLIENT_ID = "testclient123"
CLIENT_SECRET = "test-client-secret-value"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


class FakeIdP:
    """Discovery, JWKS, token and revoke endpoints whose answers tests can set."""

    def __init__(self) -> None:
        self.key = new_key()
        self.kid = "key-1"
        self.keys = [public_jwk(self.key, self.kid)]
        self.requests: list[tuple[str, str, dict]] = []
        self.token_response: Any = None  # dict, or (status, body), or callable
        self.jwks_status = 200
        self.jwks_body: Any = None  # overrides the key list when set
        self.delay = 0.0
        self.serving = ExitStack()
        self.url = self.serving.enter_context(serve(self.wsgi))
        self.issuer = self.url + "/pool"
        self.domain = self.url + "/domain"
        self.jwks_url = self.issuer + "/.well-known/jwks.json"

    def count(self, path_end: str) -> int:
        return sum(1 for _, path, _ in self.requests if path.endswith(path_end))

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_url,
            "authorization_endpoint": self.domain + "/oauth2/authorize",
            "token_endpoint": self.domain + "/oauth2/token",
            "userinfo_endpoint": self.domain + "/oauth2/userInfo",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
        }

    def claims(self, **overrides: Any) -> dict:
        now = int(time.time())
        claims = {
            "sub": str(uuid.uuid4()),
            "aud": CLIENT_ID,
            "iss": self.issuer,
            "token_use": "id",
            "cognito:username": "alice",
            "email": "alice@example.com",
            "email_verified": True,
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
            "jti": str(uuid.uuid4()),
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(
        self,
        claims: dict,
        key: Any = None,
        headers: dict | None = None,
        algorithm: str = "RS256",
    ) -> str:
        header = {"kid": self.kid, **(headers or {})}
        header = {k: v for k, v in header.items() if v is not None}
        return jwt.encode(claims, key or self.key, algorithm=algorithm, headers=header)

    def id_token(self, **overrides: Any) -> str:
        return self.sign(self.claims(**overrides))

    def wsgi(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append(
            (
                request.method,
                request.path,
                {"form": request.form.to_dict(), "auth": request.authorization},
            )
        )
        if self.delay:
            time.sleep(self.delay)
        return self.route(request)(environ, start_response)

    def route(self, request: Request) -> Response:
        path = request.path
        if path == "/pool/.well-known/openid-configuration":
            return json_response(self.discovery())
        if path == "/pool/.well-known/jwks.json":
            body = self.jwks_body if self.jwks_body is not None else {"keys": self.keys}
            return json_response(body, self.jwks_status)
        if path == "/domain/oauth2/token":
            answer = self.token_response
            if callable(answer):
                answer = answer(request)
            if isinstance(answer, tuple):
                return json_response(answer[1], answer[0])
            return json_response(
                answer or {"error": "invalid_grant"}, 200 if answer else 400
            )
        if path == "/domain/oauth2/revoke":
            return Response("", 200)
        return Response("not found", 404)

    def close(self) -> None:
        self.serving.close()


class OutageIdP(FakeIdP):
    """The fake Cognito, which can also stop listening and come back on its port."""

    def down(self) -> None:
        self.serving.close()

    def up(self) -> None:
        port = int(self.url.rsplit(":", 1)[1])
        self.serving = ExitStack()
        self.serving.enter_context(serve(self.wsgi, port))


def json_response(body: Any, status: int = 200) -> Response:
    text = body if isinstance(body, str) else json.dumps(body)
    return Response(text, status, content_type="application/json")
