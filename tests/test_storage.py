"""One contract suite for every Store backend, plus SQLite's own behaviour."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from datetime import UTC
from datetime import datetime

import pytest
import time_machine
from flask import Flask
from werkzeug.exceptions import Conflict

from blog import markdown
from blog.storage import Author
from blog.storage import BadCursor
from blog.storage import Store
from blog.storage import get_store
from blog.storage import rfc3339
from blog.storage import sqlite
from tests.support.storage import ISSUER
from tests.support.storage import OLD_SCHEMA
from tests.support.storage import UNKNOWN
from tests.support.storage import A
from tests.support.storage import B
from tests.support.storage import PostsUnavailable
from tests.support.storage import add_old_post
from tests.support.storage import create
from tests.support.storage import update


def make_posts(store: Store, count: int) -> list[str]:
    """Create `count` posts one millisecond apart; return their ids, oldest first."""
    with time_machine.travel(1_700_000_000, tick=False) as clock:
        ids = []
        for n in range(count):
            ids.append(create(store, f"Post {n}", "body").id)
            clock.shift(0.001)
    return ids


def all_pages(store: Store, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        posts, cursor = store.list_posts(cursor, limit)
        pages.append([post.id for post in posts])
        if cursor is None:
            return pages


def test_create_and_get(store: Store) -> None:
    moment = datetime(2023, 11, 14, 22, 13, 20, 123000, UTC)
    with time_machine.travel(moment, tick=False):
        post = create(store, "Title", "# Body")
    assert store.get_post(post.id) == post
    assert (post.title, post.body, post.author_sub, post.author_name) == (
        "Title", "# Body", "sub-a", "alice")
    assert post.created_at == post.updated_at == 1_700_000_000_123
    assert rfc3339(post.created_at) == "2023-11-14T22:13:20.123Z"
    assert len(post.id) == 36 and post.id != create(store).id


def test_update_by_author(store: Store) -> None:
    with time_machine.travel(1_700_000_000, tick=False) as clock:
        post = create(store, "Old", "old")
        clock.shift(5)
        updated = update(store, post.id, "New", "new", A)
    assert updated is not None and (updated.title, updated.body) == ("New", "new")
    assert updated.updated_at == post.created_at + 5000 == updated.created_at + 5000
    assert store.get_post(post.id) == updated


def test_update_by_someone_else_changes_nothing(store: Store) -> None:
    post = create(store, "Mine", "mine")
    assert update(store, post.id, "Theirs", "theirs", B) is None
    assert store.get_post(post.id) == post


def test_delete_by_author_only(store: Store) -> None:
    post = create(store, "T", "B")
    assert store.delete_post(post.id, B) is False
    assert store.get_post(post.id) == post
    assert store.delete_post(post.id, A) is True
    assert store.get_post(post.id) is None
    assert store.delete_post(post.id, A) is False


def test_moderator_delete(store: Store) -> None:
    post = create(store, "T", "B")
    assert store.delete_post(post.id, None) is True
    assert store.get_post(post.id) is None


@pytest.mark.parametrize("post_id", [UNKNOWN, "{upper}", "{id}0", "1", "", "../x",
                                     "' OR 1=1 --", "{id}' OR '1'='1", "x" * 3000])
def test_unknown_or_malformed_ids(store: Store, post_id: str) -> None:
    post = create(store, "T", "B")
    post_id = post_id.format(id=post.id, upper=post.id.upper())
    assert store.get_post(post_id) is None
    assert update(store, post_id, "x", "y", A) is None
    assert store.delete_post(post_id, None) is False
    assert store.get_post(post.id) == post


def test_newest_first(store: Store) -> None:
    ids = make_posts(store, 3)
    posts, cursor = store.list_posts(None, 10)
    assert [post.id for post in posts] == ids[::-1]
    assert cursor is None


def test_pages_cover_everything_once(store: Store) -> None:
    ids = make_posts(store, 25)
    pages = all_pages(store, 10)
    assert [len(page) for page in pages] == [10, 10, 5]
    assert sum(pages, []) == ids[::-1]


def test_no_empty_last_page(store: Store) -> None:
    make_posts(store, 20)
    first, cursor = store.list_posts(None, 10)
    second, cursor = store.list_posts(cursor, 10)
    assert len(first) == len(second) == 10 and cursor is None


def test_empty_store(store: Store) -> None:
    assert store.list_posts(None, 10) == ([], None)


def test_same_millisecond_posts_page_deterministically(store: Store) -> None:
    with time_machine.travel(1_700_000_000, tick=False):
        ids = {create(store, f"P{n}", "b").id for n in range(7)}
    one_by_one = sum(all_pages(store, 1), [])
    assert len(one_by_one) == 7 and set(one_by_one) == ids
    assert sum(all_pages(store, 3), []) == one_by_one
    assert [post.id for post in store.list_posts(None, 10)[0]] == one_by_one


def b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "garbage", "", "!!!!", "w6k", "é", b64(None), b64({"a": 1}), b64([1, 2]),
    b64(["1", UNKNOWN]), b64([True, UNKNOWN]), b64([1.5, UNKNOWN]), b64([-1, UNKNOWN]),
    b64([2**64, UNKNOWN]), b64([1, "x"]), b64([1, UNKNOWN, 0]),
    b64([1, UNKNOWN, 2, 2]), b64([1, UNKNOWN, 2, 1, 5]), b64([1, UNKNOWN, "2"]),
    b64([1, "ABCDEF00-0000-4000-8000-000000000000"]),
])
def test_garbage_cursor(store: Store, cursor: str) -> None:
    make_posts(store, 2)
    with pytest.raises(BadCursor) as error:
        store.list_posts(cursor, 1)
    assert error.value.code == 400


def test_locked_database_is_503(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sqlite, "TIMEOUT", 0.05)
    store = sqlite.SqliteStore(str(tmp_path / "posts.sqlite3"))
    other = sqlite3.connect(tmp_path / "posts.sqlite3")
    other.execute("BEGIN EXCLUSIVE")
    with pytest.raises(PostsUnavailable) as error:
        create(store, "T", "B")
    assert error.value.code == 503
    other.rollback()
    assert create(store, "T", "B").title == "T"


def test_readers_are_not_blocked_by_a_writer(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sqlite, "TIMEOUT", 0.05)
    store = sqlite.SqliteStore(str(tmp_path / "posts.sqlite3"))
    post = create(store, "T", "B")
    writer = sqlite3.connect(tmp_path / "posts.sqlite3")
    writer.execute("BEGIN EXCLUSIVE")
    reader = sqlite.SqliteStore(str(tmp_path / "posts.sqlite3"))
    assert reader.list_posts(None, 5) == ([post], None)
    assert reader.get_post(post.id) == post
    writer.rollback()


def test_get_store_is_one_per_app_context(app: Flask) -> None:
    with app.app_context():
        first = get_store()
        assert get_store() is first
        create(first, "T", "B")
    with pytest.raises(sqlite3.ProgrammingError):
        first.list_posts(None, 1)  # closed at teardown
    with app.app_context():
        assert get_store() is not first and len(get_store().list_posts(None, 5)[0]) == 1


def test_init_db_command(app: Flask) -> None:
    path = os.path.join(app.instance_path, "posts.sqlite3")
    assert not os.path.exists(path)
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0 and "ready" in result.output
    assert os.path.exists(path)
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0  # idempotent


# --- authorship is the issuer and sub together (SECURITY.md, Identity) ---

OTHER_POOL = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"


def test_the_same_sub_from_another_issuer_is_not_the_author(store: Store) -> None:
    post = create(store, "Mine", "mine")
    impostor = Author(OTHER_POOL, A.sub)
    assert update(store, post.id, "Theirs", "theirs", impostor) is None
    assert store.delete_post(post.id, impostor) is False
    assert store.get_post(post.id) == post and post.author == A
    assert update(store, post.id, "Still mine", "mine", A) is not None


# --- Markdown is rendered when a post is saved, never when it is read ---

def refuse_to_parse(monkeypatch) -> None:
    """From now on the Markdown parser fails: what still works never parsed."""
    def parse(*args, **kwargs):
        raise AssertionError("Markdown parsed during a read")
    monkeypatch.setattr(markdown.PARSER, "parse", parse)


def test_posts_keep_their_html_and_excerpt(store: Store, monkeypatch) -> None:
    post = create(store, "T", "# Hi\n\n*there* <b>x</b>")
    refuse_to_parse(monkeypatch)
    stored = store.get_post(post.id)
    assert stored == post
    assert stored.body_html == (
        "<h1>Hi</h1>\n<p><em>there</em> &lt;b&gt;x&lt;/b&gt;</p>\n")
    assert stored.excerpt == "Hi there <b>x</b>"
    assert store.list_posts(None, 10) == ([post], None)
    monkeypatch.undo()
    updated = update(store, post.id, "T", "**new**", A)
    assert store.get_post(post.id).body_html == "<p><strong>new</strong></p>\n"
    assert updated.excerpt == "new"


def test_an_old_post_is_rendered_on_its_first_read_only(store: Store,
                                                       monkeypatch) -> None:
    add_old_post(store)
    first = store.get_post(UNKNOWN)
    assert first.body_html == "<h1>Old <em>one</em></h1>\n"
    assert first.excerpt == "Old one"
    assert first.author == A  # written by the pool the app is configured with
    refuse_to_parse(monkeypatch)
    assert store.get_post(UNKNOWN) == first
    assert store.list_posts(None, 10) == ([first], None)
    monkeypatch.undo()
    assert update(store, UNKNOWN, "Old", "x", Author(OTHER_POOL, "sub-a")) is None
    assert store.delete_post(UNKNOWN, Author(OTHER_POOL, "sub-a")) is False


def test_an_old_post_stays_editable_by_its_author(store: Store) -> None:
    add_old_post(store)
    assert update(store, UNKNOWN, "New", "new", A).body_html == "<p>new</p>\n"
    add_old_post(store, post_id=UNKNOWN.replace("0000-4", "0001-4"))
    assert store.delete_post(UNKNOWN.replace("0000-4", "0001-4"), A) is True


def test_an_old_body_too_complex_to_format_is_shown_as_typed(store: Store) -> None:
    add_old_post(store, body="![" * 25_000)
    post = store.get_post(UNKNOWN)
    assert post.body_html == "<pre>" + "![" * 25_000 + "</pre>"
    assert post.excerpt.startswith("![![") and len(post.excerpt) <= 241




def test_a_sqlite_file_from_before_keeps_working(tmp_path) -> None:
    path = tmp_path / "posts.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(OLD_SCHEMA)
    store = sqlite.SqliteStore(str(path), ISSUER)
    assert store.get_post(UNKNOWN).body_html == "<p><em>hi</em></p>\n"
    assert create(store, "New", "new").author == A
    assert [post.title for post in store.list_posts(None, 10)[0]] == ["New", "Old"]
    row = sqlite3.connect(path).execute(
        "SELECT author_iss, body_html, excerpt FROM post WHERE id = ?",
        (UNKNOWN,)).fetchone()
    assert row == (ISSUER, "<p><em>hi</em></p>\n", "hi")  # written back
    assert sqlite.SqliteStore(str(path), ISSUER).get_post(UNKNOWN).excerpt == "hi"


def test_render_posts_command(app: Flask, monkeypatch) -> None:
    path = os.path.join(app.instance_path, "posts.sqlite3")
    os.makedirs(app.instance_path, exist_ok=True)
    with sqlite3.connect(path) as old:
        old.executescript(OLD_SCHEMA)
    result = app.test_cli_runner().invoke(args=["render-posts"])
    assert result.exit_code == 0 and "All 1 posts have their HTML" in result.output
    refuse_to_parse(monkeypatch)
    with app.app_context():
        assert get_store().get_post(UNKNOWN).body_html == "<p><em>hi</em></p>\n"


# --- drafts: only their author sees them, in their own list; never in the posts list


def draft(store: Store, title: str = "D", body: str = "draft", author=A):
    return store.create_post(title, body, markdown.prepare(body), author, "alice",
                             "draft")


def test_a_draft_is_kept_but_never_listed(store: Store) -> None:
    with time_machine.travel(1_700_000_000, tick=False):
        post, hidden = create(store, "Out", "out"), draft(store, "In", "in")
    assert (hidden.status, hidden.published_at) == ("draft", None)
    assert (post.status, post.published_at) == ("published", post.created_at)
    assert store.get_post(hidden.id) == hidden
    assert [p.id for p in store.list_posts(None, 10)[0]] == [post.id]


def test_every_body_drafts_included_for_the_image_cleanup(store: Store) -> None:
    create(store, "Out", "published body")
    draft(store, "In", "draft body")
    draft(store, "B's", "their draft", author=B)
    assert sorted(store.bodies()) == ["draft body", "published body", "their draft"]


def test_drafts_are_listed_per_author_newest_first_in_pages(store: Store) -> None:
    with time_machine.travel(1_700_000_000, tick=False) as clock:
        mine = []
        for n in range(3):
            mine.append(draft(store, f"D{n}").id)
            draft(store, "B's", author=B)
            create(store, "Published")
            clock.shift(0.001)
    first, cursor = store.list_drafts(A, None, 2)
    rest, end = store.list_drafts(A, cursor, 2)
    assert [p.id for p in first + rest] == mine[::-1] and end is None
    assert [p.title for p in store.list_drafts(B, None, 10)[0]] == ["B's"] * 3


def test_publishing_sets_published_at_and_lists_the_post(store: Store) -> None:
    with time_machine.travel(1_700_000_000, tick=False) as clock:
        hidden = draft(store)
        clock.shift(60)
        post = store.update_post(hidden.id, "T", "b", markdown.prepare("b"), A,
                                 status="published")
    assert post.status == "published"
    assert post.published_at == hidden.created_at + 60_000 == post.updated_at
    assert [p.id for p in store.list_posts(None, 10)[0]] == [post.id]
    assert store.list_drafts(A, None, 10) == ([], None)
    again = store.update_post(post.id, "T", "c", markdown.prepare("c"), A,
                              status="draft")
    assert (again.status, again.published_at) == ("draft", None)
    assert store.list_posts(None, 10) == ([], None)
    assert [p.id for p in store.list_drafts(A, None, 10)[0]] == [post.id]


def test_a_save_over_a_moved_version_is_refused(store: Store) -> None:
    with time_machine.travel(1_700_000_000, tick=False):
        hidden = draft(store)
        first = store.update_post(hidden.id, "T", "one", markdown.prepare("one"), A,
                                  version=hidden.updated_at)
        assert first.updated_at > hidden.updated_at  # even in the same millisecond
        with pytest.raises(Conflict) as refused:
            store.update_post(hidden.id, "T", "two", markdown.prepare("two"), A,
                              version=hidden.updated_at)
    assert refused.value.current == first == store.get_post(hidden.id)
    assert store.update_post(hidden.id, "T", "x", markdown.prepare("x"), B,
                             version=first.updated_at) is None


def test_an_old_post_is_published(store: Store) -> None:
    add_old_post(store)
    old = store.get_post(UNKNOWN)
    assert (old.status, old.published_at) == ("published", old.created_at)
    assert [p.id for p in store.list_posts(None, 10)[0]] == [UNKNOWN]


def test_a_sqlite_file_from_before_drafts_gets_the_columns(tmp_path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    store = sqlite.SqliteStore(str(path), ISSUER)
    assert store.get_post(UNKNOWN).status == "published"
    hidden = draft(store)
    assert store.list_drafts(A, None, 10)[0] == [hidden]
    plan = " ".join(row[3] for row in store.db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM post WHERE status = 'draft' AND"
        " author_id = ? ORDER BY created_at DESC, id DESC", (A.id,)))
    assert "post_drafts" in plan
    store.close()
