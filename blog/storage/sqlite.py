"""Posts in a SQLite file in the instance folder (local mode and tests)."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from importlib import resources
from typing import TYPE_CHECKING
from typing import Any

from flask import Flask

from .. import backends
from . import DRAFT
from . import EDIT_GRACE
from . import PUBLISHED
from . import Author
from . import Member
from . import Post
from . import PostChanged
from . import PostsUnavailable
from . import decode_cursor
from . import is_post_id
from . import member_id
from . import new_version
from . import next_cursor
from . import now_ms
from . import rendered_now
from . import slug_of

if TYPE_CHECKING:
    from ..markdown import Rendered

TIMEOUT = 5.0  # seconds to wait for another writer before answering 503
COLUMNS = ", ".join(field.name for field in dataclasses.fields(Post))
PLACES = ", ".join("?" for _ in dataclasses.fields(Post))
SCHEMA = resources.files(__package__).joinpath("schema.sql").read_text()
# Columns added since the first schema: files made before get them on open.
MIGRATIONS = {"author_iss": "TEXT", "body_html": "TEXT", "excerpt": "TEXT",
              "author_id": "TEXT", "status": "TEXT", "published_at": "INTEGER",
              "tags": "TEXT", "edited_at": "INTEGER", "words": "INTEGER",
              "slug": "TEXT"}
# Made after MIGRATIONS: an older file has no `status` column before then.
INDEXES = (
    "CREATE INDEX IF NOT EXISTS post_drafts ON post"
    " (author_id, created_at DESC, id DESC) WHERE status = 'draft'",
    "CREATE INDEX IF NOT EXISTS post_by_author ON post"
    " (author_id, created_at DESC, id DESC) WHERE status IS NOT 'draft'")
PUBLISHED_ROWS = "status IS NOT 'draft'"  # NULL: a row from before drafts


def row_of(post: Post) -> tuple:
    """A post's column values, in COLUMNS order (tags as a JSON list)."""
    values = dataclasses.asdict(post)
    values["tags"] = json.dumps(list(post.tags))
    return tuple(values.values())


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
        for index in INDEXES:
            self.db.execute(index)
        # Rows from before member ids get theirs, so author pages list them (and
        # lose the name they saved, which may be a generated username).
        old = "author_id IS NULL AND author_iss IS NOT NULL"
        if self.db.execute(f"SELECT 1 FROM post WHERE {old} LIMIT 1").fetchone():
            self.db.create_function("member_id", 2, member_id, deterministic=True)
            with self.db:
                self.db.execute("UPDATE post SET author_id = member_id(author_iss,"
                                f" author_sub), author_name = '' WHERE {old}")

    def to_post(self, row: sqlite3.Row) -> Post:
        """A row as a `Post`; an old row gets what it lacks now."""
        values = dict(row)
        values["tags"] = json.loads(values["tags"] or "[]")
        return rendered_now(values, self.issuer, self.keep)

    def keep(self, id: str, values: dict[str, Any]) -> None:
        """Store what an old row lacked; never overwrite what a save wrote since."""
        sets = ", ".join(f"{name} = COALESCE({name}, ?)" for name in values)
        with busy_as_503(), self.db:
            self.db.execute(f"UPDATE post SET {sets} WHERE id = ?",
                            (*values.values(), id))

    def close(self) -> None:
        self.db.close()

    def list_posts(self, cursor: str | None, limit: int, author_id: str | None = None,
                   tag: str | None = None) -> tuple[list[Post], str | None]:
        where, values = PUBLISHED_ROWS, ()
        if tag is not None:
            where += " AND id IN (SELECT post_id FROM post_tag WHERE tag = ?)"
            values += (tag,)
        if author_id is not None:
            where += " AND author_id = ?"
            values += (author_id,)
        return self.page(where, values, cursor, limit)

    def bodies(self) -> Iterator[str]:
        """The Markdown of every post, drafts included."""
        with busy_as_503():
            rows = self.db.execute("SELECT body FROM post").fetchall()
        return iter([row[0] for row in rows])

    def list_drafts(self, author: Author, cursor: str | None, limit: int,
                    tag: str | None = None) -> tuple[list[Post], str | None]:
        where, values = "status = 'draft' AND author_id = ?", (author.id,)
        if tag is not None:
            where += " AND EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?)"
            values += (tag,)
        return self.page(where, values, cursor, limit)

    def page(self, where: str, values: tuple, cursor: str | None,
             limit: int) -> tuple[list[Post], str | None]:
        """The rows matching `where`, newest first, after (or, going newer, before)
        `cursor`."""
        at = decode_cursor(cursor) if cursor is not None else None
        order = "DESC"
        if at is not None:
            where += f" AND (created_at, id) {'>' if at.newer else '<'} (?, ?)"
            values += (at.created_at, at.id)
            order = "ASC" if at.newer else "DESC"
        with busy_as_503():
            rows = self.db.execute(
                f"SELECT {COLUMNS} FROM post WHERE {where}"
                f" ORDER BY created_at {order}, id {order} LIMIT ?",
                (*values, limit + 1)).fetchall()
        posts = [self.to_post(row) for row in rows[:limit]]
        if order == "ASC":
            posts.reverse()
        return posts, next_cursor(posts, at, len(rows) > limit)

    def get_post(self, id: str) -> Post | None:
        if not is_post_id(id):
            return None
        with busy_as_503():
            row = self.db.execute(f"SELECT {COLUMNS} FROM post WHERE id = ?",
                                  (id,)).fetchone()
        return self.to_post(row) if row else None

    def create_post(self, title: str, body: str, rendered: Rendered, author: Author,
                    author_name: str, status: str = PUBLISHED,
                    tags: Sequence[str] = ()) -> Post:
        now = now_ms()
        post = Post(str(uuid.uuid4()), title, body, author.sub, author_name, now, now,
                    author.iss, rendered.html, rendered.excerpt, author.id, status,
                    None if status == DRAFT else now, tuple(tags), None,
                    rendered.words, slug_of(title))
        with busy_as_503(), self.db:
            self.db.execute(f"INSERT INTO post ({COLUMNS}) VALUES ({PLACES})",
                            row_of(post))
            self.list_tags(post)
        return post

    def update_post(self, id: str, title: str, body: str, rendered: Rendered,
                    author: Author, status: str | None = None,
                    version: int | None = None,
                    tags: Sequence[str] | None = None) -> Post | None:
        if not is_post_id(id):
            return None
        now = new_version(version)
        tags_json = None if tags is None else json.dumps(list(tags))
        # published_at: kept while published, set on publishing, cleared as a draft;
        # edited_at: see storage.is_meaningful_edit (the right side sees the old row;
        # a row from before tags has NULL for none).
        with busy_as_503(), self.db:
            rows = self.db.execute(
                "UPDATE post SET title = ?, body = ?, body_html = ?, excerpt = ?,"
                " words = ?, slug = ?, tags = COALESCE(?, tags),"
                " updated_at = MAX(created_at, ?), author_iss = ?,"
                " edited_at = CASE WHEN status IS NOT 'draft'"
                "   AND COALESCE(?, 'published') = 'published'"
                "   AND (title IS NOT ? OR body IS NOT ?"
                "        OR COALESCE(?, tags, '[]') IS NOT COALESCE(tags, '[]'))"
                "   AND ? - COALESCE(published_at, created_at) >= ?"
                "   THEN ? ELSE edited_at END,"
                " status = COALESCE(?, status),"
                " published_at = CASE COALESCE(?, status, 'published')"
                "   WHEN 'draft' THEN NULL"
                "   ELSE COALESCE(published_at, CASE WHEN status IS NULL"
                "     THEN created_at ELSE ? END) END"
                f" WHERE id = ? AND {self.written_by()}"
                " AND (? IS NULL OR updated_at = ?)"
                f" RETURNING {COLUMNS}",
                (title, body, rendered.html, rendered.excerpt, rendered.words,
                 slug_of(title), tags_json, now, author.iss,
                 status, title, body, tags_json, now, EDIT_GRACE, now,
                 status, status, now, id, *self.author_values(author), version,
                 version)).fetchall()
            if rows:
                post = self.to_post(rows[0])
                self.list_tags(post)
                return post
        if version is not None:
            current = self.get_post(id)
            if current is not None and current.author == author:
                raise PostChanged(current)
        return None

    def list_tags(self, post: Post) -> None:
        """Make the post's tag rows what it is now (none for a draft); inside the
        transaction that saves the post."""
        self.db.execute("DELETE FROM post_tag WHERE post_id = ?", (post.id,))
        if not post.is_draft:
            self.db.executemany(
                "INSERT INTO post_tag (tag, post_id, created_at) VALUES (?, ?, ?)",
                [(tag, post.id, post.created_at) for tag in post.tags])

    def delete_post(self, id: str, author: Author | None) -> bool:
        if not is_post_id(id):
            return False
        where, values = ("", ()) if author is None else (
            f" AND {self.written_by()}", self.author_values(author))
        with busy_as_503(), self.db:
            deleted = self.db.execute(f"DELETE FROM post WHERE id = ?{where}",
                                      (id, *values))
            if deleted.rowcount == 1:
                self.db.execute("DELETE FROM post_tag WHERE post_id = ?", (id,))
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
