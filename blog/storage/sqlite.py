"""Posts in a SQLite file in the instance folder (local mode and tests)."""

from __future__ import annotations

import dataclasses
import functools
import os
import sqlite3
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources

from flask import Flask

from . import Post
from . import Unavailable
from . import decode_cursor
from . import encode_cursor
from . import is_post_id
from . import now_ms

TIMEOUT = 5.0  # seconds to wait for another writer before answering 503
COLUMNS = "id, title, body, author_sub, author_name, created_at, updated_at"
SCHEMA = resources.files(__package__).joinpath("schema.sql").read_text()


def opener(app: Flask) -> Callable[[], SqliteStore]:
    """Open `<instance>/posts.sqlite3`, one connection per app context."""
    path = os.path.join(app.instance_path, "posts.sqlite3")
    return functools.partial(SqliteStore, path)


@contextmanager
def busy_as_503() -> Iterator[None]:
    """A database still locked after TIMEOUT is a 503 page, not a 500."""
    try:
        yield
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise Unavailable() from error
        raise


class SqliteStore:
    """The `Store` protocol on one sqlite3 connection; makes the schema on first use."""

    def __init__(self, path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.db = sqlite3.connect(path, timeout=TIMEOUT)
        self.db.row_factory = lambda cursor, row: Post(*row)
        self.init_db()

    def init_db(self) -> None:
        with busy_as_503():
            self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def list_posts(self, cursor: str | None,
                   limit: int) -> tuple[list[Post], str | None]:
        after = decode_cursor(cursor) if cursor is not None else None
        where = "WHERE (created_at, id) < (?, ?)" if after else ""
        with busy_as_503():
            posts = self.db.execute(
                f"SELECT {COLUMNS} FROM post {where}"
                " ORDER BY created_at DESC, id DESC LIMIT ?",
                (*(after or ()), limit + 1)).fetchall()
        more = len(posts) > limit
        return posts[:limit], encode_cursor(posts[limit - 1]) if more else None

    def get_post(self, id: str) -> Post | None:
        if not is_post_id(id):
            return None
        with busy_as_503():
            return self.db.execute(f"SELECT {COLUMNS} FROM post WHERE id = ?",
                                   (id,)).fetchone()

    def create_post(self, title: str, body: str, author_sub: str,
                    author_name: str) -> Post:
        now = now_ms()
        post = Post(str(uuid.uuid4()), title, body, author_sub, author_name, now, now)
        with busy_as_503(), self.db:
            self.db.execute("INSERT INTO post VALUES (?, ?, ?, ?, ?, ?, ?)",
                            dataclasses.astuple(post))
        return post

    def update_post(self, id: str, title: str, body: str,
                    author_sub: str) -> Post | None:
        if not is_post_id(id):
            return None
        with busy_as_503(), self.db:
            rows = self.db.execute(
                "UPDATE post SET title = ?, body = ?, updated_at = MAX(created_at, ?)"
                f" WHERE id = ? AND author_sub = ? RETURNING {COLUMNS}",
                (title, body, now_ms(), id, author_sub)).fetchall()
        return rows[0] if rows else None

    def delete_post(self, id: str, author_sub: str | None) -> bool:
        if not is_post_id(id):
            return False
        with busy_as_503(), self.db:
            deleted = self.db.execute(
                "DELETE FROM post WHERE id = ? AND (? IS NULL OR author_sub = ?)",
                (id, author_sub, author_sub))
        return deleted.rowcount == 1
