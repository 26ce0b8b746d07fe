"""What the sessions and posts backends share: one AWS resource, one failure rule.

Each app gets one boto3 DynamoDB resource, made on first use and kept in
`app.extensions` (sessions and posts use the same one). A backend that cannot serve
right now (throttled, a missing table, an unreachable endpoint, a database still
locked) becomes a 503 page, never a 500 and never a logged-out member.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
AWS = "blog.aws"  # app.extensions key: this app's AWS resources


def dynamodb(app: Flask) -> Any:
    """This app's one boto3 DynamoDB resource, made on first use."""
    resources = app.extensions.setdefault(AWS, {})
    if "dynamodb" not in resources:
        resources["dynamodb"] = connect()
    return resources["dynamodb"]


def connect() -> Any:
    """A new boto3 DynamoDB resource that gives up quickly, never hangs a page."""
    import boto3
    from botocore.config import Config

    return boto3.resource("dynamodb", config=Config(
        connect_timeout=2, read_timeout=3,
        retries={"mode": "standard", "max_attempts": 3}))


@contextmanager
def failures_as(unavailable: type[HTTPException], what: str,
                expected: str | None = None) -> Iterator[None]:
    """Raise `unavailable` (a 503) when the backend `what` cannot serve right now.

    An AWS error whose code is `expected` is re-raised for the caller to handle; any
    other error (a bug) is re-raised as it is.
    """
    try:
        yield
    except Exception as error:
        reason = why_unavailable(error, expected)
        if reason is None:
            raise
        log.warning("%s unavailable: %s", what, reason)
        raise unavailable() from error


def why_unavailable(error: Exception, expected: str | None = None) -> str | None:
    """A short reason if `error` means the backend cannot serve now, else None."""
    if isinstance(error, sqlite3.OperationalError):
        text = str(error)
        return "locked" if "locked" in text or "busy" in text else None
    aws = sys.modules.get("botocore.exceptions")  # None: no AWS backend in use
    if aws is None:
        return None
    BotoCoreError, ClientError = aws.BotoCoreError, aws.ClientError  # noqa: N806

    if isinstance(error, ClientError):
        code = error.response["Error"].get("Code")
        return None if code == expected else f"refused: {code}"
    if isinstance(error, BotoCoreError):
        return f"unreachable: {type(error).__name__}"
    return None
