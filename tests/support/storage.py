"""The posts stores as the tests use them: authors, saving as the views do, tables.

The tests reach `blog.storage`'s error class and DynamoDB connection through here, so
that a rename in blog/ is one edit in the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from blog import backends
from blog.markdown import prepare
from blog.storage import PUBLISHED
from blog.storage import Author
from blog.storage import Post
from blog.storage import PostsUnavailable
from blog.storage import Store
from blog.storage import sqlite

__all__ = [
    "A", "B", "ISSUER", "OLD_SCHEMA", "UNKNOWN", "PostsUnavailable", "add_old_post",
    "create", "posts_table", "update",
]

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool"
A, B = Author(ISSUER, "sub-a"), Author(ISSUER, "sub-b")


def create(
    store: Store, title: str = "T", body: str = "B", author: Author = A,
    name: str = "alice", status: str = PUBLISHED, tags: Sequence[str] = (),
) -> Post:  # fmt: skip
    """Save a post as the views do: its body rendered first."""
    return store.create_post(title, body, prepare(body), author, name, status, tags)


def update(
    store: Store, post_id: str, title: str, body: str, author: Author,
    status: str | None = None, version: int | None = None,
    tags: Sequence[str] | None = None,
) -> Post | None:  # fmt: skip
    """Save over a post as the views do; `status` and `tags` None keep them."""
    return store.update_post(post_id, title, body, prepare(body), author,
                             status=status, version=version, tags=tags)


def posts_table(name: str) -> Any:
    """The DynamoDB table `name` as the blog connects to it (moto in tests)."""
    return backends.connect().Table(name)


UNKNOWN = "00000000-0000-4000-8000-000000000000"


def add_old_post(store: Store, post_id: str = UNKNOWN,
                 body: str = "# Old *one*") -> None:
    """A post as the version before this one saved it: no issuer, HTML or excerpt."""
    old = {"id": post_id, "title": "Old", "body": body, "author_sub": "sub-a",
           "author_name": "alice", "created_at": 1_600_000_000_000,
           "updated_at": 1_600_000_000_000}
    if isinstance(store, sqlite.SqliteStore):
        with store.db:
            store.db.execute(f"INSERT INTO post ({', '.join(old)}) VALUES"
                             f" ({', '.join('?' * len(old))})", tuple(old.values()))
    else:
        store.table.put_item(Item={**old, "kind": "post"})


OLD_SCHEMA = """
CREATE TABLE post (id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,
  author_sub TEXT NOT NULL, author_name TEXT NOT NULL, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL);
INSERT INTO post VALUES ('00000000-0000-4000-8000-000000000000', 'Old', '*hi*',
  'sub-a', 'alice', 1600000000000, 1600000000000);
"""
