"""The posts stores as the tests use them: authors, saving as the views do, tables.

The tests reach `blog.storage`'s error class and DynamoDB connection through here, so
that a rename in blog/ is one edit in the tests.
"""

from __future__ import annotations

from typing import Any

from blog import backends
from blog.markdown import prepare
from blog.storage import Author
from blog.storage import Post
from blog.storage import PostsUnavailable
from blog.storage import Store

__all__ = ["A", "B", "ISSUER", "PostsUnavailable", "create", "posts_table", "update"]

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool"
A, B = Author(ISSUER, "sub-a"), Author(ISSUER, "sub-b")


def create(
    store: Store, title: str = "T", body: str = "B", author: Author = A,
    name: str = "alice",
) -> Post:  # fmt: skip
    """Save a post as the views do: its body rendered first."""
    return store.create_post(title, body, prepare(body), author, name)


def update(
    store: Store, post_id: str, title: str, body: str, author: Author
) -> Post | None:
    return store.update_post(post_id, title, body, prepare(body), author)


def posts_table(name: str) -> Any:
    """The DynamoDB table `name` as the blog connects to it (moto in tests)."""
    return backends.connect().Table(name)
