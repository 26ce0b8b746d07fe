"""Where posts live: a `Store` per request, SQLite locally or DynamoDB on Lambda."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
import time
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Protocol

import click
from flask import Flask
from flask import current_app
from flask import g
from flask.cli import with_appcontext
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import ServiceUnavailable

POST_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class Post:
    """One post; times are int epoch milliseconds (UTC)."""

    id: str
    title: str
    body: str
    author_sub: str
    author_name: str
    created_at: int
    updated_at: int


class Store(Protocol):
    """What views need from a backend; lists are newest first, (created_at, id) DESC."""

    def list_posts(self, cursor: str | None,
                   limit: int) -> tuple[list[Post], str | None]:
        """A page after `cursor` and the next cursor (None when no posts remain)."""
    def get_post(self, id: str) -> Post | None: ...
    def create_post(self, title: str, body: str, author_sub: str,
                    author_name: str) -> Post: ...
    def update_post(self, id: str, title: str, body: str,
                    author_sub: str) -> Post | None:
        """Change the post only if `author_sub` wrote it (one conditional write)."""
    def delete_post(self, id: str, author_sub: str | None) -> bool:
        """Delete if `author_sub` wrote it; None means a moderator's delete."""
    def init_db(self) -> None:
        """Create the schema or table if missing (idempotent)."""


class BadCursor(BadRequest):
    description = ("This page link is broken or out of date. "
                   "Start again from the newest posts.")


class Unavailable(ServiceUnavailable):
    description = "The posts are busy right now. Please try again in a moment."


def now_ms() -> int:
    """The current time in int epoch milliseconds."""
    return time.time_ns() // 1_000_000


def utc(ms: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime."""
    return EPOCH + timedelta(milliseconds=ms)


def rfc3339(ms: int) -> str:
    """Epoch milliseconds as an RFC 3339 UTC string, e.g. 2025-01-02T03:04:05.678Z."""
    return utc(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_post_id(value: object) -> bool:
    """True for a lowercase UUID string, the only id shape either backend stores."""
    return isinstance(value, str) and POST_ID.fullmatch(value) is not None


def encode_cursor(post: Post) -> str:
    """An opaque cursor pointing just after `post` in newest-first order."""
    raw = json.dumps([post.created_at, post.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """(created_at, id) from a cursor; raise `BadCursor` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, post_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise BadCursor() from None
    if type(created_at) is not int or not 0 <= created_at < 2**53:
        raise BadCursor()
    if not is_post_id(post_id):
        raise BadCursor()
    return created_at, post_id


def init_app(app: Flask) -> None:
    """Pick the backend once per app; register teardown and `flask init-db`."""
    if app.config.get("POSTS_TABLE"):
        from .dynamodb import opener
    else:
        from .sqlite import opener
    app.extensions["blog.storage"] = opener(app)
    app.teardown_appcontext(close_store)
    app.cli.add_command(init_db_command)


def get_store() -> Store:
    """The store of this app context, opened on first use."""
    if "posts_store" not in g:
        open_store: Callable[[], Store] = current_app.extensions["blog.storage"]
        g.posts_store = open_store()
    return g.posts_store


def close_store(error: BaseException | None = None) -> None:
    store = g.pop("posts_store", None)
    if store is not None and hasattr(store, "close"):
        store.close()


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the posts schema or table if it does not exist yet."""
    get_store().init_db()
    click.echo("The posts store is ready.")
