"""What the benchmarks share: the fake Cognito, a blog with posts, DynamoDB, rows."""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from . import harness
from .harness import ROOT
from .harness import use_test_helpers

use_test_helpers()

from tests.support.clients import AuthActions  # noqa: E402  (the root is on sys.path now)
from tests.support.clients import HttpsClient  # noqa: E402
from tests.support.clients import settings  # noqa: E402
from tests.support.fakeaws import create_sessions_table  # noqa: E402
from tests.support.fakeidp import CLIENT_ID  # noqa: E402
from tests.support.fakeidp import CLIENT_SECRET  # noqa: E402
from tests.support.fakeidp import FakeIdP  # noqa: E402

__all__ = [
    "AuthActions",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "FakeIdP",
    "HttpsClient",
    "Row",
    "compared",
    "fmt",
    "met",
    "pyjwt_checks",
    "blog_app",
    "seed_posts",
    "id_token",
    "quiet",
    "LambdaBackends",
]

LAMBDA_BASE_URL = "https://abc123.execute-api.us-east-1.amazonaws.com"
BODY = (
    "Notes from the *trip*: we left early, took the [coast road](https://example.com) "
    "and stopped twice for coffee. The second stop was better.\n\n"
    "Next time: leave even earlier, and bring a proper map. " * 2
)


@dataclasses.dataclass
class Row:
    """One line of the results table."""

    name: str
    ours: str
    baseline: str
    ratio: str
    target: str = ""
    met: str = ""


def fmt(samples: dict, top: str, bottom: str) -> str:
    low, high = harness.spread(samples, top, bottom)
    return f"{harness.ratio(samples, top, bottom):.2f} [{low:.2f}–{high:.2f}]"


def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def compared(name: str, samples: dict, top: str, bottom: str, *target: str) -> Row:
    """A row of the median times of `top` and `bottom`, their ratio, and a target."""
    return Row(
        name,
        harness.us(harness.median(samples[top])),
        harness.us(harness.median(samples[bottom])),
        fmt(samples, top, bottom),
        *target,
    )


def pyjwt_checks(idp: FakeIdP) -> dict[str, Any]:
    """The arguments of jwt.decode that make PyJWT check what our verifier checks."""
    from blog import tokens

    return {
        "algorithms": ["RS256"],
        "issuer": idp.issuer,
        "audience": CLIENT_ID,
        "leeway": tokens.LEEWAY,
        "options": {"require": tokens.REQUIRED_CLAIMS},
    }


def quiet() -> None:
    """No request log lines from the local servers."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def blog_app(idp: FakeIdP, **extra: Any) -> Any:
    """The blog as tests build it (fake Cognito, SQLite, file sessions), not TESTING."""
    from blog import create_app

    tmp = Path(tempfile.mkdtemp(prefix="blog-bench-"))
    app = create_app(settings(idp, tmp, TESTING=False, **extra))
    app.test_client_class = HttpsClient
    return app


def seed_posts(app: Any, count: int = 12) -> None:
    from blog.markdown import prepare
    from blog.storage import Author
    from blog.storage import get_store

    author = Author(app.config["COGNITO_ISSUER"], "sub-alice")
    with app.app_context():
        for i in range(count):
            get_store().create_post(f"Post number {i}", BODY, prepare(BODY), author,
                                    "alice")


def id_token(idp: FakeIdP) -> str:
    """An ID token shaped like Cognito's (its claims, about 1 KB)."""
    return idp.id_token(
        sub=str(uuid.uuid4()),
        **{
            "cognito:username": "alice",
            "cognito:groups": ["writers"],
            "origin_jti": str(uuid.uuid4()),
            "event_id": str(uuid.uuid4()),
        },
    )


class LambdaBackends:
    """DynamoDB and Secrets Manager from a moto server on 127.0.0.1, as deployed."""

    def __init__(self, idp: FakeIdP) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "BLOG_COGNITO_ISSUER": idp.issuer,
            "BLOG_COGNITO_CLIENT_ID": CLIENT_ID,
            "BLOG_COGNITO_CLIENT_SECRET": "secretsmanager:blog-bench-client-secret",
            "BLOG_COGNITO_DOMAIN": idp.domain,
            "BLOG_BASE_URL": LAMBDA_BASE_URL,
            "BLOG_SECRET_KEY": "secretsmanager:blog-bench-flask-secret-key",
            "BLOG_SESSION_TYPE": "dynamodb",
            "BLOG_SESSION_TABLE": "blog-bench-sessions",
            "BLOG_POSTS_TABLE": "blog-bench-posts",
        }
        self._create()

    def _create(self) -> None:
        import boto3

        from blog.storage.dynamodb import TABLE_SHAPE

        kwargs = {
            "endpoint_url": self.endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "bench",
            "aws_secret_access_key": "bench",
        }
        dynamodb = boto3.client("dynamodb", **kwargs)
        create_sessions_table(dynamodb, self.env["BLOG_SESSION_TABLE"])
        dynamodb.create_table(TableName=self.env["BLOG_POSTS_TABLE"], **TABLE_SHAPE)
        secrets = boto3.client("secretsmanager", **kwargs)
        secrets.create_secret(
            Name="blog-bench-client-secret", SecretString=CLIENT_SECRET
        )
        secrets.create_secret(
            Name="blog-bench-flask-secret-key", SecretString=uuid.uuid4().hex * 2
        )

    def apply(self) -> None:
        """Put this process's environment in the Lambda function's configuration."""
        for name in list(os.environ):
            if name.startswith("BLOG_"):
                del os.environ[name]
        os.environ.update(self.env)

    def child_env(self) -> dict[str, str]:
        """The environment of a cold-start subprocess: the Lambda configuration only."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BLOG_", "AWS_", "PYTHON"))
        }
        return {**env, **self.env, "PYTHONPATH": str(ROOT)}

    def close(self) -> None:
        self.server.stop()
