"""Posts in a SQLite file in the instance folder (local mode and tests)."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING
from typing import Any

from flask import Flask

from .. import backends
from . import DRAFT
from . import PUBLISHED
from . import Author
from . import Member
from . import Post
from . import PostChanged
from . import PostsUnavailable
from . import decode_cursor
from . import encode_cursor
from . import is_post_id
from . import new_version
from . import now_ms
from . import rendered_now

if TYPE_CHECKING:
    from ..markdown import Rendered

TIMEOUT = 5.0  # seconds to wait for another writer before answering 503
COLUMNS = ", ".join(field.name for field in dataclasses.fields(Post))
PLACES = ", ".join("?" for _ in dataclasses.fields(Post))
SCHEMA = resources.files(__package__).joinpath("schema.sql").read_text()
# Columns added since the first schema: files made before get them on open.
MIGRATIONS = {"author_iss": "TEXT", "body_html": "TEXT", "excerpt": "TEXT",
              "author_id": "TEXT", "status": "TEXT", "published_at": "INTEGER"}
# Made after MIGRATIONS: an older file has no `status` column before then.
DRAFTS_INDEX = ("CREATE INDEX IF NOT EXISTS post_drafts ON post"
                " (author_id, created_at DESC, id DESC) WHERE status = 'draft'")
PUBLISHED_ROWS = "status IS NOT 'draft'"  # NULL: a row from before drafts


def opener(app: Flask) -> Callable[[], SqliteStore]:
    """Open `<instance>/posts.sqlite3`, one connection per app context."""
    path = os.path.join(app.instance_path, "posts.sqlite3")
    # Read per context: local mode learns its issuer on the first request.
    return lambda: SqliteStore(path, app.config.get("COGNITO_ISSUER"))


def busy_as_503() -> Any:
    """A database still locked after TIMEOUT is `PostsUnavailable`, not a 500."""
    return backends.failures_as(PostsUnavailable, "posts database")


class SqliteStore:
    """The `Store` protocol on one sqlite3 connection; makes the schema on first use."""

    def __init__(self, path: str, issuer: str | None = None) -> None:
        """`issuer` is the author's issuer of rows saved before issuers were kept."""
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.issuer = issuer
        self.db = sqlite3.connect(path, timeout=TIMEOUT)
        self.db.row_factory = sqlite3.Row
        self.init_db()

    def init_db(self) -> None:
        with busy_as_503():
            self.db.executescript(SCHEMA)
            self.migrate()

    def migrate(self) -> None:
        """Add the columns a file from an older version lacks (rows keep NULL)."""
        have = {row["name"] for row in self.db.execute("PRAGMA table_info(post)")}
        for name, kind in MIGRATIONS.items():
            if name not in have:
                try:
                    self.db.execute(f"ALTER TABLE post ADD COLUMN {name} {kind}")
                except sqlite3.OperationalError as error:
                    if "duplicate column" not in str(error):  # another process won
                        raise
        self.db.execute(DRAFTS_INDEX)

    def to_post(self, row: sqlite3.Row) -> Post:
        """A row as a `Post`; an old row gets its HTML (and issuer) now."""
        return rendered_now(dict(row), self.issuer, self.keep)

    def keep(self, id: str, rendered: Rendered, issuer: str | None) -> None:
        """Store what an old row lacked; never overwrite what a save wrote since."""
        with busy_as_503(), self.db:
            self.db.execute(
                "UPDATE post SET body_html = COALESCE(body_html, ?),"
                " excerpt = COALESCE(excerpt, ?), author_iss = COALESCE(author_iss, ?)"
                " WHERE id = ?", (rendered.html, rendered.excerpt, issuer, id))

    def close(self) -> None:
        self.db.close()

    def list_posts(self, cursor: str | None,
                   limit: int) -> tuple[list[Post], str | None]:
        return self.page(PUBLISHED_ROWS, (), cursor, limit)

    def bodies(self) -> Iterator[str]:
        """The Markdown of every post, drafts included."""
        with busy_as_503():
            rows = self.db.execute("SELECT body FROM post").fetchall()
        return iter([row[0] for row in rows])

    def list_drafts(self, author: Author, cursor: str | None,
                    limit: int) -> tuple[list[Post], str | None]:
        return self.page("status = 'draft' AND author_id = ?", (author.id,), cursor,
                         limit)

    def page(self, where: str, values: tuple, cursor: str | None,
             limit: int) -> tuple[list[Post], str | None]:
        """The rows matching `where`, newest first, after `cursor`."""
        after = decode_cursor(cursor) if cursor is not None else None
        if after:
            where += " AND (created_at, id) < (?, ?)"
        with busy_as_503():
            rows = self.db.execute(
                f"SELECT {COLUMNS} FROM post WHERE {where}"
                " ORDER BY created_at DESC, id DESC LIMIT ?",
                (*values, *(after or ()), limit + 1)).fetchall()
        posts = [self.to_post(row) for row in rows[:limit]]
        return posts, encode_cursor(posts[-1]) if len(rows) > limit else None

    def get_post(self, id: str) -> Post | None:
        if not is_post_id(id):
            return None
        with busy_as_503():
            row = self.db.execute(f"SELECT {COLUMNS} FROM post WHERE id = ?",
                                  (id,)).fetchone()
        return self.to_post(row) if row else None

    def create_post(self, title: str, body: str, rendered: Rendered, author: Author,
                    author_name: str, status: str = PUBLISHED) -> Post:
        now = now_ms()
        post = Post(str(uuid.uuid4()), title, body, author.sub, author_name, now, now,
                    author.iss, rendered.html, rendered.excerpt, author.id, status,
                    None if status == DRAFT else now)
        with busy_as_503(), self.db:
            self.db.execute(f"INSERT INTO post ({COLUMNS}) VALUES ({PLACES})",
                            dataclasses.astuple(post))
        return post

    def update_post(self, id: str, title: str, body: str, rendered: Rendered,
                    author: Author, status: str | None = None,
                    version: int | None = None) -> Post | None:
        if not is_post_id(id):
            return None
        now = new_version(version)
        # published_at: kept while published, set on publishing, cleared as a draft.
        with busy_as_503(), self.db:
            rows = self.db.execute(
                "UPDATE post SET title = ?, body = ?, body_html = ?, excerpt = ?,"
                " updated_at = MAX(created_at, ?), author_iss = ?,"
                " status = COALESCE(?, status),"
                " published_at = CASE COALESCE(?, status, 'published')"
                "   WHEN 'draft' THEN NULL"
                "   ELSE COALESCE(published_at, CASE WHEN status IS NULL"
                "     THEN created_at ELSE ? END) END"
                f" WHERE id = ? AND {self.written_by()}"
                " AND (? IS NULL OR updated_at = ?)"
                f" RETURNING {COLUMNS}",
                (title, body, rendered.html, rendered.excerpt, now, author.iss, status,
                 status, now, id, *self.author_values(author), version,
                 version)).fetchall()
        if rows:
            return self.to_post(rows[0])
        if version is not None:
            current = self.get_post(id)
            if current is not None and current.author == author:
                raise PostChanged(current)
        return None

    def delete_post(self, id: str, author: Author | None) -> bool:
        if not is_post_id(id):
            return False
        where, values = ("", ()) if author is None else (
            f" AND {self.written_by()}", self.author_values(author))
        with busy_as_503(), self.db:
            deleted = self.db.execute(f"DELETE FROM post WHERE id = ?{where}",
                                      (id, *values))
        return deleted.rowcount == 1

    def save_member(self, author: Author, name: str, login: bool) -> None:
        now = now_ms()
        with busy_as_503(), self.db:
            self.db.execute(
                "INSERT INTO member (id, iss, sub, name, first_seen, last_login)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " name = excluded.name,"
                " last_login = COALESCE(excluded.last_login, member.last_login)",
                (author.id, author.iss, author.sub, name, now, now if login else None))

    def get_member(self, id: str) -> Member | None:
        with busy_as_503():
            row = self.db.execute("SELECT * FROM member WHERE id = ?", (id,)).fetchone()
        return Member(**dict(row)) if row else None

    def member_names(self, ids: Iterable[str]) -> dict[str, str]:
        ids = list(set(ids))
        if not ids:
            return {}
        places = ", ".join("?" * len(ids))
        with busy_as_503():
            rows = self.db.execute(
                f"SELECT id, name FROM member WHERE id IN ({places})", ids).fetchall()
        return {row["id"]: row["name"] for row in rows}

    @staticmethod
    def written_by() -> str:
        """The SQL condition that `author_values(author)` wrote the row."""
        return "author_sub = ? AND (author_iss = ? OR (author_iss IS NULL AND ?))"

    def author_values(self, author: Author) -> tuple[str, str, bool]:
        legacy = self.issuer is not None and author.iss == self.issuer
        return author.sub, author.iss, legacy
