"""Where posts live: a `Store` per request, SQLite locally or DynamoDB on Lambda."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import re
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple
from typing import Protocol

import click
from flask import Flask
from flask import current_app
from flask import g
from flask.cli import with_appcontext
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import Conflict
from werkzeug.exceptions import ServiceUnavailable

if TYPE_CHECKING:
    from ..markdown import Rendered

TITLE_MAX = 200  # characters, after runs of whitespace become one space
BODY_MAX = 50_000  # characters, as sent (line ends as \n)
TAGS_MAX = 5  # tags per post
# A tag after `normalise_tags`: 1 to 30 of a-z, 0-9 and single inner hyphens.
TAG = re.compile(r"(?=.{1,30}$)[a-z0-9]+(?:-[a-z0-9]+)*")
EDIT_GRACE = 10 * 60 * 1000  # ms after publishing in which an edit is not "updated"
WORDS_PER_MINUTE = 230
SLUG_MAX = 60  # characters of a post's readable slug
DRAFT, PUBLISHED = "draft", "published"  # a post's `status`
POST_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Author(NamedTuple):
    """Who wrote a post: the issuer and subject of their token, together (never `sub`
    alone: two identity providers may hand out the same `sub`)."""

    iss: str
    sub: str

    @property
    def id(self) -> str:
        """The member id: opaque, stable, and derived without a lookup."""
        return member_id(self.iss, self.sub)


def member_id(iss: str, sub: str) -> str:
    """24 lowercase base32 characters of SHA-256(issuer, newline, sub): 120 bits."""
    digest = hashlib.sha256(f"{iss}\n{sub}".encode()).digest()
    return base64.b32encode(digest[:15]).decode().lower()


@dataclasses.dataclass(frozen=True)
class Member:
    """A member as last seen at a login; times are int epoch milliseconds."""

    id: str
    iss: str
    sub: str
    name: str
    first_seen: int
    last_login: int | None


@dataclasses.dataclass(frozen=True)
class Post:
    """One post; times are int epoch milliseconds (UTC).

    `body_html` and `excerpt` are rendered from `body` when it is saved, so reads never
    parse Markdown.
    """

    id: str
    title: str
    body: str
    author_sub: str
    author_name: str
    created_at: int
    updated_at: int
    author_iss: str
    body_html: str
    excerpt: str
    # Posts saved before member ids get theirs from author_iss and author_sub on
    # read, and "" as author_name: what they stored may be a generated username.
    author_id: str = ""
    # Only its author sees a draft. `published_at` is set while published (posts from
    # before drafts: their `created_at`), None while a draft.
    status: str = PUBLISHED
    published_at: int | None = None
    # At most TAGS_MAX tags, as `normalise_tags` makes them.
    tags: tuple[str, ...] = ()
    # When the title, body or tags last changed meaningfully (`is_meaningful_edit`)
    # after publishing; None if never. Pages show "updated" for it.
    edited_at: int | None = None
    words: int = 0  # in the rendered text, counted when saved
    slug: str = "post"  # the readable part of its address, from the title when saved

    @property
    def author(self) -> Author:
        return Author(self.author_iss, self.author_sub)

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT

    @property
    def reading_minutes(self) -> int:
        """Minutes a reader needs, at WORDS_PER_MINUTE; at least one."""
        return max(1, round(self.words / WORDS_PER_MINUTE))


class Store(Protocol):
    """What views need from a backend; lists are newest first, (created_at, id) DESC,
    and return a page and the cursor of the next one in the same direction (None when
    no posts remain that way; `pages` turns that into Newer and Older links)."""

    def list_posts(self, cursor: str | None, limit: int, author_id: str | None = None,
                   tag: str | None = None) -> tuple[list[Post], str | None]:
        """A page of published posts after `cursor`: all of them, one author's
        (`author_id`), one tag's (`tag`), or one author's with one tag (the tag's
        index, filtered); drafts are never listed here. Index queries, no Scan."""
    def list_drafts(self, author: Author, cursor: str | None, limit: int,
                    tag: str | None = None) -> tuple[list[Post], str | None]:
        """A page of `author`'s own drafts (with `tag`, only those that have it), as
        `list_posts` pages (one index query)."""
    def bodies(self) -> Iterator[str]:
        """The Markdown of every post, drafts included (for the image cleanup)."""
    def get_post(self, id: str) -> Post | None: ...
    def create_post(self, title: str, body: str, rendered: Rendered, author: Author,
                    author_name: str, status: str = PUBLISHED,
                    tags: Sequence[str] = ()) -> Post: ...
    def update_post(self, id: str, title: str, body: str, rendered: Rendered,
                    author: Author, status: str | None = None,
                    version: int | None = None,
                    tags: Sequence[str] | None = None) -> Post | None:
        """Change the post only if `author` wrote it and, given a `version` (the
        `updated_at` the writer loaded), only if it is still that: else raise
        `PostChanged`. `status` None keeps the status and `tags` None the tags:
        callers pass them only to change them. Publishing sets `published_at`, a
        draft clears it. The post and its tag listings change together or not at
        all."""
    def delete_post(self, id: str, author: Author | None) -> bool:
        """Delete if `author` wrote it (None: a moderator's delete), with its tag
        listings, together."""
    def save_member(self, author: Author, name: str, login: bool) -> None:
        """Create or rename the member record; `login` also sets `last_login`."""
    def get_member(self, id: str) -> Member | None: ...
    def member_names(self, ids: Iterable[str]) -> dict[str, str]:
        """The recorded names of these member ids, in one batch read."""
    def init_db(self) -> None:
        """Create the schema or table if missing (idempotent)."""


class BadCursor(BadRequest):
    description = ("This page link is broken or out of date. "
                   "Start again from the newest posts.")


class PostChanged(Conflict):
    description = ("This post was changed somewhere else (another tab or window) "
                   "since you opened it, so your text was not saved over it.")

    def __init__(self, current: Post) -> None:
        super().__init__()
        self.current = current


class PostsUnavailable(ServiceUnavailable):
    description = "The posts are busy right now. Please try again in a moment."


def check_post(title: str, body: str, draft: bool = False,
               tags: Sequence[str] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """Tidy a title, body and tags (the pages' and the API's rules); errors per bad
    field.

    A good body is rendered here, once (`rendered`), for the store to keep. A `draft`
    may lack its title or its body, not both.
    """
    title = " ".join(title.split())
    body = body.replace("\r\n", "\n").lstrip("\n").rstrip()
    errors = {}
    if draft and not (title or body):
        errors["body"] = "Write something first: a title or a few words."
    elif not title and not draft:
        errors["title"] = "Give your post a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = (f"Keep the title to {TITLE_MAX} characters "
                           f"(it has {len(title)}).")
    if not body and not draft:
        errors["body"] = "Write something in the body."
    elif len(body) > BODY_MAX:
        errors["body"] = (f"Keep the body to {BODY_MAX:,} characters "
                          f"(it has {len(body):,}).")
    form: dict[str, Any] = {"title": title, "body": body}
    form["tags"], tag_error = normalise_tags(tags)
    if tag_error:
        errors["tags"] = tag_error
    if "body" not in errors:
        try:
            form["rendered"] = markdown().prepare(body)
        except markdown().TooComplex as error:
            errors["body"] = f"This body cannot be published. {error}"
    return form, errors


def split_tags(text: str) -> list[str]:
    """The tags of a form's comma-separated `tags` field, as typed."""
    return [tag for tag in text.split(",") if tag.strip()]


def normalise_tags(tags: Sequence[str]) -> tuple[list[str], str | None]:
    """Tags as stored: lowercase, spaces and underscores as hyphens, no leading "#",
    repeats dropped; and why they cannot be stored (None if they can)."""
    tidy: list[str] = []
    for typed in tags:
        tag = re.sub(r"[\s_]+", "-", typed.strip().lstrip("#").strip().lower())
        tag = re.sub(r"-{2,}", "-", tag).strip("-")
        if not TAG.fullmatch(tag):
            shown = " ".join(typed.split())[:40] or "an empty tag"
            return tidy, (f"“{shown}” cannot be a tag: use 1 to 30 letters a to z, "
                          "digits or hyphens.")
        if tag not in tidy:
            tidy.append(tag)
    if len(tidy) > TAGS_MAX:
        return tidy, f"Use at most {TAGS_MAX} tags (there are {len(tidy)})."
    return tidy, None


def slug_of(title: str) -> str:
    """The readable part of a post's address: the title in ASCII, lowercase words
    joined by hyphens, at most SLUG_MAX characters; "post" when nothing is left, and
    never the name of a post's own page ("edit-post", not "edit")."""
    from slugify import slugify  # imported by the first save, not at start-up

    slug = slugify(title, max_length=SLUG_MAX, word_boundary=True) or "post"
    return f"{slug}-post" if slug in ("edit", "delete") else slug


def is_meaningful_edit(before: Post, title: str, body: str, tags: Sequence[str],
                       status: str | None, now: int) -> bool:
    """Whether a save makes the post "updated": it was published and stays so, its
    title, body or tags change, and EDIT_GRACE has passed since it was published
    (fixing a typo just after publishing is not news)."""
    stays_published = not before.is_draft and status in (None, PUBLISHED)
    changed = (title, body, tuple(tags)) != (before.title, before.body, before.tags)
    published_at = before.published_at or before.created_at
    return stays_published and changed and now - published_at >= EDIT_GRACE


def markdown() -> Any:
    """The Markdown module, imported when a post is first rendered, not at start-up.

    Reads never parse Markdown, so a cold start serving pages needs none of its ~45 ms.
    """
    from .. import markdown as module

    return module


def now_ms() -> int:
    """The current time in int epoch milliseconds."""
    return time.time_ns() // 1_000_000


def new_version(version: int | None) -> int:
    """The `updated_at` of a save: now, and after `version` (the one it replaces)
    even if the clock has not moved, so that every save changes it."""
    now = now_ms()
    return now if version is None else max(now, version + 1)


def utc(ms: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime."""
    return EPOCH + timedelta(milliseconds=ms)


def rfc3339(ms: int) -> str:
    """Epoch milliseconds as an RFC 3339 UTC string, e.g. 2025-01-02T03:04:05.678Z."""
    return utc(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_post_id(value: object) -> bool:
    """True for a lowercase UUID string, the only id shape either backend stores."""
    return isinstance(value, str) and POST_ID.fullmatch(value) is not None


class Cursor(NamedTuple):
    """Where a page starts: just after the post (`created_at`, `id`) going older, or
    just before it going `newer`; `page` is the number of the page it leads to."""

    created_at: int
    id: str
    page: int = 2
    newer: bool = False


class Pages(NamedTuple):
    """Where a list page is and the cursors of its neighbours: `newer` None on the
    first page ("" means the first page itself), `older` None on the last."""

    number: int
    newer: str | None
    older: str | None


def encode_cursor(post: Post, page: int = 2, newer: bool = False) -> str:
    """An opaque cursor to the page after `post` (or before it, going `newer`)."""
    at = [post.created_at, post.id, page, 1] if newer else [
        post.created_at, post.id, page]
    raw = json.dumps(at, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Cursor:
    """The `Cursor` in an opaque cursor; raise `BadCursor` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, post_id, *rest = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise BadCursor() from None
    if type(created_at) is not int or not 0 <= created_at < 2**53:
        raise BadCursor()
    if not is_post_id(post_id) or len(rest) > 2:
        raise BadCursor()
    page, newer = [*rest, 2, 0][:2] if len(rest) != 1 else [rest[0], 0]
    if type(page) is not int or not 1 <= page < 2**31 or newer not in (0, 1):
        raise BadCursor()
    return Cursor(created_at, post_id, page, bool(newer))


def next_cursor(posts: list[Post], at: Cursor | None, more: bool) -> str | None:
    """The cursor to the next page of a list, in the direction `at` goes (older
    without one); None if no more posts lie that way. `posts` are newest first."""
    if not more or not posts:
        return None
    if at is not None and at.newer:
        return encode_cursor(posts[0], max(1, at.page - 1), newer=True)
    return encode_cursor(posts[-1], (at.page if at else 1) + 1)


def pages(posts: list[Post], cursor: str | None, next: str | None) -> Pages:
    """The page number and the Newer and Older cursors of a list page that a store
    returned for `cursor` (with `next`, its cursor onwards)."""
    at = decode_cursor(cursor) if cursor else None
    if at is None:
        return Pages(1, None, next)
    if at.newer:  # page 2's Newer is the first page itself, as when going older
        number = at.page if next else 1
        older = encode_cursor(posts[-1], number + 1) if posts else None
        return Pages(number, "" if next and number <= 2 else next, older)
    newer = encode_cursor(posts[0], at.page - 1, newer=True) if posts else ""
    return Pages(at.page, newer if at.page > 2 or not posts else "", next)


def rendered_now(row: dict, issuer: str | None,
                 keep: Callable[[str, dict[str, Any]], None]) -> Post:
    """A post from a stored `row`; what a row saved by an older version lacks is
    made now and written back once through `keep(id, values)` (which must not
    overwrite values a save wrote since).

    That is the HTML and excerpt (rendered), the word count, the slug and the
    issuer: rows without one were written when the app knew only the
    user pool it is configured with (`issuer`); None leaves them with no author.
    """
    missing: dict[str, Any] = {}
    if row.get("body_html") is None:
        rendered = markdown().prepare_or_plain(row["body"])
        missing.update(body_html=rendered.html, excerpt=rendered.excerpt,
                       words=rendered.words)
    elif row.get("words") is None:
        missing["words"] = len(markdown_text(row["body_html"]).split())
    if row.get("author_iss") is None and issuer is not None:
        missing["author_iss"] = issuer
    row = {"author_iss": "", **{k: v for k, v in row.items() if v is not None},
           **missing}
    if row.get("author_id") is None:  # its author_name may be a generated username
        row.update(author_id=member_id(row["author_iss"], row["author_sub"]),
                   author_name="")
    if row.get("slug") is None:
        row["slug"] = missing["slug"] = slug_of(row["title"])
    status = row.get("status") or PUBLISHED  # posts from before drafts: published
    published_at = row.get("published_at")
    if status == PUBLISHED and published_at is None:
        published_at = row["created_at"]
    row = {**row, "status": status, "tags": tuple(row.get("tags") or ()),
           "published_at": None if published_at is None else int(published_at),
           "edited_at": None if row.get("edited_at") is None else int(
               row["edited_at"]), "words": int(row.get("words") or 0)}
    post = Post(**{field.name: row[field.name] for field in dataclasses.fields(Post)
                   if field.name in row})
    if missing:
        try:
            keep(post.id, missing)
        except PostsUnavailable:
            pass  # kept next time; this reader still gets the page
    return post


def markdown_text(html: str) -> str:
    """The text of stored HTML, without markup."""
    from markupsafe import Markup

    return Markup(html).striptags()


def init_app(app: Flask) -> None:
    """Pick the backend once per app; register teardown and `flask init-db`."""
    if app.config.get("POSTS_TABLE"):
        from .dynamodb import opener
    else:
        from .sqlite import opener
    app.extensions["blog.storage"] = opener(app)
    app.teardown_appcontext(close_store)
    app.cli.add_command(init_db_command)
    app.cli.add_command(render_posts_command)


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


@click.command("render-posts")
@with_appcontext
def render_posts_command() -> None:
    """Store the HTML of every post saved before HTML was stored (reads do it too)."""
    store, cursor, count = get_store(), None, 0
    while True:
        posts, cursor = store.list_posts(cursor, 100)  # a read stores what is missing
        count += len(posts)
        if cursor is None:
            break
    click.echo(f"All {count} posts have their HTML stored.")
