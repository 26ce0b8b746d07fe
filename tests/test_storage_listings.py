"""Tags, author and tag pages, two-way page links, slugs, word counts and edited_at.

One contract for both stores (conftest's `store`: a SQLite file and the moto
DynamoDB table), asserted through what a reader gets from the store's lists; the
listings themselves (SQLite's post_tag rows, DynamoDB's tag items) are looked at only
to show that nothing is left behind. At the end, DynamoDB's transactions: a save
racing another save, and a transaction that fails (none of it written).
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from moto import mock_aws

from blog.storage import DRAFT
from blog.storage import EDIT_GRACE
from blog.storage import PUBLISHED
from blog.storage import SLUG_MAX
from blog.storage import TAG
from blog.storage import TAGS_MAX
from blog.storage import WORDS_PER_MINUTE
from blog.storage import Author
from blog.storage import BadCursor
from blog.storage import Cursor
from blog.storage import Pages
from blog.storage import Post
from blog.storage import Store
from blog.storage import decode_cursor
from blog.storage import dynamodb
from blog.storage import normalise_tags
from blog.storage import pages
from blog.storage import slug_of
from blog.storage import sqlite
from tests.support.fakeaws import fake_credentials
from tests.support.storage import ISSUER
from tests.support.storage import UNKNOWN
from tests.support.storage import A
from tests.support.storage import B
from tests.support.storage import PostsUnavailable
from tests.support.storage import add_old_post
from tests.support.storage import create
from tests.support.storage import posts_table
from tests.support.storage import update

T0 = 1_700_000_000  # seconds: when the tests' clocks start
MINUTE = 60  # seconds, as time_machine shifts
OTHER_POOL = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"


def ids(posts: list[Post]) -> list[str]:
    return [post.id for post in posts]


def every_page(store: Store, limit: int, **which: Any) -> list[list[str]]:
    """The post ids on each page of a list, following its cursors to the end."""
    shown, cursor = [], None
    while True:
        posts, cursor = store.list_posts(cursor, limit, **which)
        shown.append(ids(posts))
        if cursor is None:
            return shown
        assert len(shown) < 100, "the cursors go round in circles"


def listed(store: Store, limit: int = 2, **which: Any) -> list[str]:
    """Every post id a reader finds on a list, page after page, in order."""
    return sum(every_page(store, limit, **which), [])


def scan(table: Any) -> list[dict]:
    """Every item of the table, by id (a Scan: fine in a test, never in the blog)."""
    items, more = [], {}
    while True:
        page = table.scan(ConsistentRead=True, **more)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda item: item["id"])
        more = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def tag_listings(store: Store) -> set[tuple[str, str, int]]:
    """The (tag, post id, created_at) listings the store keeps: SQLite's post_tag
    rows, or DynamoDB's tag items (checking each one's id and shape)."""
    if isinstance(store, sqlite.SqliteStore):
        return {(row["tag"], row["post_id"], row["created_at"]) for row in
                store.db.execute("SELECT tag, post_id, created_at FROM post_tag")}
    found = set()
    for item in scan(store.table):
        if item["id"].startswith("tag#"):
            tag = item["listed_in"].removeprefix("tag#")
            assert item["id"] == f"tag#{tag}#{item['post_id']}"
            assert set(item) == {"id", "listed_in", "created_at", "post_id",
                                 "author_id"}
            found.add((tag, item["post_id"], int(item["created_at"])))
    return found


def assert_listings_true(store: Store, post_ids: list[str]) -> None:
    """The store lists exactly the tags of these posts that are published, and
    nothing for any other post."""
    expected = set()
    for post_id in post_ids:
        post = store.get_post(post_id)
        if post is not None and not post.is_draft:
            expected |= {(tag, post.id, post.created_at) for tag in post.tags}
    assert tag_listings(store) == expected


def reopen(store: Store) -> Store:
    """The same posts as the next request sees them: a new store object (for
    SQLite, a new connection, which migrates the file when it opens)."""
    if isinstance(store, sqlite.SqliteStore):
        path = store.db.execute("PRAGMA database_list").fetchone()["file"]
        return sqlite.SqliteStore(path, store.issuer)
    return dynamodb.DynamoDBStore(store.table, store.issuer)


def b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# --- normalise_tags: tags as stored -------------------------------------------------


@pytest.mark.parametrize(("typed", "stored"), [
    ([], []),
    (["Python"], ["python"]),
    (["  Web Dev  "], ["web-dev"]),
    (["web_dev", "Web Dev", "web--dev", "WEB_-_DEV"], ["web-dev"]),
    (["#rust", "Rust", "RUST", "## rust"], ["rust"]),
    (["a_b c", "-x-", "# y _"], ["a-b-c", "x", "y"]),
    (["b", "a", "B"], ["b", "a"]),  # in the order typed, repeats dropped
    (["1", "2", "3", "4", "5", "#5", "5 "], ["1", "2", "3", "4", "5"]),
    (["x" * 30, "\u00a0tab\tand\u2003space "], ["x" * 30, "tab-and-space"]),
])  # fmt: skip
def test_tags_are_stored_tidy(typed: list[str], stored: list[str]) -> None:
    assert normalise_tags(typed) == (stored, None)


def test_more_than_five_tags_are_refused_with_a_message() -> None:
    tags, error = normalise_tags(["a", "b", "c", "d", "e", "f"])
    assert error == f"Use at most {TAGS_MAX} tags (there are 6)."
    assert normalise_tags(["a", "A", "#a", "b", "c", "d", "e"]) == (
        ["a", "b", "c", "d", "e"], None)  # repeats do not count


@pytest.mark.parametrize(("typed", "named"), [
    ("c++", "“c++”"),
    ("é", "“é”"),
    ("café", "“café”"),
    ("x" * 31, f"“{'x' * 31}”"),
    ("a/b", "“a/b”"),
    ("<b>", "“<b>”"),
    ("-", "“-”"),
    ("#", "“#”"),
    ("", "empty"),
    ("   ", "empty"),
])  # fmt: skip
def test_a_bad_tag_is_refused_by_name(typed: str, named: str) -> None:
    _, error = normalise_tags(["fine", typed, "also-fine"])
    assert error is not None and named in error
    assert "1 to 30 letters a to z, digits or hyphens" in error


TYPED = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[ #]*[A-Za-z0-9 _-]{0,34}", fullmatch=True),
    st.sampled_from(["K", "İ", "ß", "ﬁ", "a\u200bb", "\u00a0x", "--", "#", "_"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(TYPED, max_size=9))
def test_any_typed_tags_are_refused_or_stored_tidy(typed: list[str]) -> None:
    tags, error = normalise_tags(typed)
    if error is not None:
        assert isinstance(error, str) and error.strip()
        return
    assert len(tags) <= TAGS_MAX and len(set(tags)) == len(tags)
    for tag in tags:
        assert TAG.fullmatch(tag), tag
        assert tag.strip("-") == tag and "--" not in tag, tag
    assert normalise_tags(tags) == (tags, None)  # stored tags come back unchanged


# --- tag pages ---------------------------------------------------------------------


def test_a_tag_lists_its_published_posts_newest_first_in_pages(store: Store) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        tagged = []
        for n in range(7):
            tagged.append(create(store, f"P{n}", "b", tags=["python", f"n{n}"]).id)
            create(store, f"Rust {n}", "b", tags=["rust"])
            create(store, "Draft", "b", status=DRAFT, tags=["python"])
            create(store, "Untagged", "b", author=B, name="bob")
            clock.shift(0.001)
    shown = every_page(store, 3, tag="python")
    assert [len(page) for page in shown] == [3, 3, 1]
    assert sum(shown, []) == tagged[::-1]
    assert listed(store, 1, tag="python") == tagged[::-1]
    assert listed(store, 7, tag="python") == tagged[::-1]
    assert every_page(store, 10, tag="n3") == [[tagged[3]]]
    assert store.list_posts(None, 10, tag="nothing") == ([], None)
    first, _ = store.list_posts(None, 10, tag="python")
    assert first[0] == store.get_post(tagged[-1])  # the whole post, as stored
    assert all("python" in post.tags and not post.is_draft for post in first)
    assert len(listed(store, 3, tag="rust")) == 7


def test_a_full_last_page_is_not_followed_by_an_empty_one(store: Store) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        for n in range(6):
            create(store, f"P{n}", "b", tags=["t"])
            clock.shift(0.001)
    assert [len(page) for page in every_page(store, 3, tag="t")] == [3, 3]


def test_same_millisecond_posts_page_once_each(store: Store) -> None:
    with time_machine.travel(T0, tick=False):
        made = {create(store, f"P{n}", "b", tags=["t"]).id for n in range(7)}
    for which in ({"tag": "t"}, {"author_id": A.id}):
        one_by_one = listed(store, 1, **which)
        assert sorted(one_by_one) == sorted(made)
        assert listed(store, 3, **which) == one_by_one
        assert ids(store.list_posts(None, 10, **which)[0]) == one_by_one


def test_an_authors_posts_with_a_tag_are_exactly_those(store: Store) -> None:
    with time_machine.travel(T0, tick=False) as clock:  # one ms apart: a fixed order
        mine = []
        for n in range(6):
            mine.append(create(store, f"A{n}", "b", tags=["t"] if n % 2 else ["u"]).id)
            clock.shift(0.001)
        create(store, "B's", "b", author=B, tags=["t"])
        create(store, "A's draft", "b", status=DRAFT, tags=["t"])
    wanted = [post_id for n, post_id in enumerate(mine) if n % 2][::-1]
    assert listed(store, 1, author_id=A.id, tag="t") == wanted
    assert listed(store, 2, author_id=B.id, tag="u") == []


def test_drafts_with_a_tag_are_their_authors_only(store: Store) -> None:
    draft = create(store, "Mine", "b", status=DRAFT, tags=["t"]).id
    create(store, "Untagged", "b", status=DRAFT)
    create(store, "Theirs", "b", author=B, status=DRAFT, tags=["t"])
    create(store, "Published", "b", tags=["t"])
    assert ids(store.list_drafts(A, None, 10, tag="t")[0]) == [draft]
    assert len(store.list_drafts(A, None, 10)[0]) == 2


def test_a_draft_is_on_its_tag_pages_only_while_published(store: Store) -> None:
    pages_of = ({"tag": "news"}, {"tag": "tech"}, {"author_id": A.id}, {})
    with time_machine.travel(T0, tick=False) as clock:
        post = create(store, "D", "b", status=DRAFT, tags=["news", "tech"])
        assert [listed(store, **which) for which in pages_of] == [[]] * 4
        clock.shift(MINUTE)
        published = update(store, post.id, "D", "b", A, status=PUBLISHED)
        assert published.tags == ("news", "tech")  # tags None keeps them
        assert [listed(store, **which) for which in pages_of] == [[post.id]] * 4
        assert_listings_true(store, [post.id])
        clock.shift(MINUTE)
        again = update(store, post.id, "D", "b2", A, status=DRAFT)
        assert again.tags == ("news", "tech") == store.get_post(post.id).tags
        assert [listed(store, **which) for which in pages_of] == [[]] * 4
        assert tag_listings(store) == set()
        clock.shift(MINUTE)
        retagged = update(store, post.id, "D", "b3", A, tags=["tech", "later"])
        assert retagged.is_draft and listed(store, tag="later") == []
        assert tag_listings(store) == set()
        update(store, post.id, "D", "b4", A, status=PUBLISHED)
    assert listed(store, tag="news") == []
    assert listed(store, tag="tech") == [post.id] == listed(store, tag="later")
    assert_listings_true(store, [post.id])


def test_changing_tags_moves_the_post_between_tag_pages(store: Store) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        post = create(store, "T", "b", tags=["a", "b"])
        clock.shift(1)
        other = create(store, "O", "b", tags=["b"])
        clock.shift(1)
        moved = update(store, post.id, "T", "b", A, tags=["b", "c"])
    assert moved.tags == ("b", "c") == store.get_post(post.id).tags
    assert listed(store, tag="a") == []
    assert listed(store, tag="b") == [other.id, post.id]
    assert listed(store, tag="c") == [post.id]
    kept = update(store, post.id, "T2", "b2", A)  # no tags: they stay
    assert kept.tags == ("b", "c") == store.get_post(post.id).tags
    assert listed(store, tag="c") == [post.id]
    assert_listings_true(store, [post.id, other.id])
    cleared = update(store, post.id, "T2", "b2", A, tags=[])
    assert cleared.tags == () == store.get_post(post.id).tags
    assert listed(store, tag="b") == [other.id] and listed(store, tag="c") == []
    assert listed(store, author_id=A.id) == [other.id, post.id]  # still published
    assert_listings_true(store, [post.id, other.id])


@pytest.mark.parametrize("by", ["author", "moderator"])
def test_deleting_a_post_takes_it_off_every_page(store: Store, by: str) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        kept = create(store, "Kept", "b", tags=["a"])
        clock.shift(1)
        post = create(store, "Gone", "b", tags=["a", "b", "c"])
        hidden = create(store, "Draft", "b", status=DRAFT, tags=["a"])
    assert listed(store, tag="a") == [post.id, kept.id]
    assert store.delete_post(post.id, A if by == "author" else None) is True
    assert listed(store, tag="a") == [kept.id]
    assert listed(store, tag="b") == [] == listed(store, tag="c")
    assert listed(store, author_id=A.id) == [kept.id] == listed(store)
    assert tag_listings(store) == {("a", kept.id, kept.created_at)}
    assert store.delete_post(hidden.id, A) is True
    assert store.delete_post(kept.id, None) is True
    assert tag_listings(store) == set() and listed(store, tag="a") == []
    if isinstance(store, dynamodb.DynamoDBStore):
        assert scan(store.table) == []  # no item of any kind left behind


def test_someone_elses_delete_or_edit_leaves_the_tags_listed(store: Store) -> None:
    post = create(store, "T", "b", tags=["a"])
    assert store.delete_post(post.id, B) is False
    assert update(store, post.id, "X", "x", B, tags=["x"]) is None
    assert update(store, post.id, "X", "x", Author(OTHER_POOL, A.sub), tags=[]) is None
    assert listed(store, tag="a") == [post.id] and listed(store, tag="x") == []
    assert_listings_true(store, [post.id])


# --- author pages ------------------------------------------------------------------


def test_an_author_page_lists_only_their_published_posts(store: Store) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        mine = []
        for n in range(5):
            mine.append(create(store, f"A{n}", "b", tags=["x"] if n % 2 else ()).id)
            create(store, f"B{n}", "b", author=B, name="bob")
            create(store, "A's draft", "b", status=DRAFT)
            create(store, "Same sub, other pool", "b", author=Author(OTHER_POOL, A.sub))
            clock.shift(0.001)
    shown = every_page(store, 2, author_id=A.id)
    assert [len(page) for page in shown] == [2, 2, 1]
    assert sum(shown, []) == mine[::-1]
    posts = store.list_posts(None, 10, author_id=A.id)[0]
    assert {post.author for post in posts} == {A} and not any(
        post.is_draft for post in posts)
    assert len(listed(store, author_id=B.id)) == 5
    assert len(listed(store, author_id=Author(OTHER_POOL, A.sub).id)) == 5
    assert listed(store, author_id="nobody") == []
    assert store.delete_post(mine[2], A) is True
    assert listed(store, author_id=A.id) == [mine[4], mine[3], mine[1], mine[0]]
    assert store.delete_post(mine[4], None) is True
    assert listed(store, author_id=A.id) == [mine[3], mine[1], mine[0]]


# --- paging both ways: Newer and Older ---------------------------------------------


def walk(store: Store, limit: int, **which: Any) -> list[tuple[list[str], Pages]]:
    """Every page of a list as a reader clicks through it: Older from the first
    page to the last, then Newer back to the first (ids and `Pages` of each)."""
    shown: list[tuple[list[str], Pages]] = []
    cursor: str | None = None
    while True:
        posts, onwards = store.list_posts(cursor, limit, **which)
        where = pages(posts, cursor, onwards)
        shown.append((ids(posts), where))
        if where.older is None:
            break
        cursor = where.older
        assert len(shown) < 50
    while where.newer is not None:
        cursor = where.newer or None  # "" is the first page itself
        posts, onwards = store.list_posts(cursor, limit, **which)
        where = pages(posts, cursor, onwards)
        shown.append((ids(posts), where))
        assert len(shown) < 100
    return shown


def make_listed_posts(store: Store, count: int) -> list[str]:
    """`count` posts by A tagged "t", among others' posts and drafts; oldest first.
    Some share a millisecond."""
    made = []
    with time_machine.travel(T0, tick=False) as clock:
        for n in range(count):
            made.append(create(store, f"P{n}", "b", tags=["t"]).id)
            create(store, "Draft", "b", status=DRAFT, tags=["t"])
            create(store, "B's", "b", author=B, tags=["u"])
            if n % 3:
                clock.shift(0.001)
    return made


@pytest.mark.parametrize(("count", "limit"), [(8, 3), (9, 3), (5, 1), (3, 2)])
@pytest.mark.parametrize("which", ["tag", "author", "all"])
def test_newer_walks_back_over_the_same_pages(store: Store, count: int, limit: int,
                                              which: str) -> None:
    made = make_listed_posts(store, count)
    lists = {"tag": {"tag": "t"}, "author": {"author_id": A.id}, "all": {}}
    everything = ids(store.list_posts(None, 100, **lists[which])[0])
    shown = walk(store, limit, **lists[which])
    last = -(-len(everything) // limit)  # the number of pages
    forward, back = shown[:last], shown[last:]
    assert [where.number for _, where in shown] == [
        *range(1, last + 1), *range(last - 1, 0, -1)]
    assert sum([page for page, _ in forward], []) == everything
    if which != "all":  # newest first; ties of a millisecond by id
        assert sorted(everything) == sorted(made)
        assert everything == sorted(made, reverse=True, key=lambda id: (
            store.get_post(id).created_at, id))
    assert all(len(page) == limit for page, _ in forward[:-1])
    assert forward[0][1].newer is None and forward[1][1].newer == ""
    assert forward[-1][1].older is None
    assert all(where.older for _, where in shown if where.number < last)
    assert all(where.newer for _, where in shown if where.number > 2)
    # Back on each page: the same posts, and the same Newer and Older links
    assert back == forward[:-1][::-1]


def follow(store: Store, cursor: str | None, limit: int,
           **which: Any) -> tuple[list[str], Pages]:
    """The page a link leads to ("" and None: the first page)."""
    posts, onwards = store.list_posts(cursor or None, limit, **which)
    return ids(posts), pages(posts, cursor or None, onwards)


def test_newer_still_ends_on_the_first_page_after_posts_were_published(
        store: Store) -> None:
    make_listed_posts(store, 7)
    third = follow(store, follow(store, None, 2, tag="t")[1].older, 2, tag="t")
    third = follow(store, third[1].older, 2, tag="t")
    assert third[1].number == 3
    with time_machine.travel(T0 + 60, tick=False):
        new = [create(store, f"New {n}", "b", tags=["t"]).id for n in range(3)]
    second = follow(store, third[1].newer, 2, tag="t")
    assert second[1].number == 2 and second[1].newer == ""
    first = follow(store, second[1].newer, 2, tag="t")
    assert first == follow(store, None, 2, tag="t")  # the first page itself
    assert set(first[0]) < set(new) and first[1].number == 1


def test_newer_ends_on_page_one_after_posts_were_unpublished(store: Store) -> None:
    made = make_listed_posts(store, 7)
    newest = ids(store.list_posts(None, 10, tag="t")[0])
    first = follow(store, None, 2, tag="t")
    third = follow(store, follow(store, first[1].older, 2, tag="t")[1].older, 2,
                   tag="t")
    assert third[0] == newest[4:6]
    for post_id in newest[1:4]:
        update(store, post_id, "Unpublished", "b", A, status=DRAFT)
    top = follow(store, third[1].newer, 2, tag="t")  # only newest[0] is newer now
    assert top[0] == newest[:1] and top[1].number == 1 and top[1].newer is None
    second = follow(store, top[1].older, 2, tag="t")
    assert second[0] == newest[4:6] and second[1].number == 2
    assert second[1].newer == "" and sorted(newest) == sorted(made)


def test_one_page_has_no_links(store: Store) -> None:
    make_listed_posts(store, 2)
    posts, onwards = store.list_posts(None, 5, tag="t")
    assert len(posts) == 2 and pages(posts, None, onwards) == Pages(1, None, None)


def test_an_old_two_element_cursor_leads_to_page_two(store: Store) -> None:
    made = make_listed_posts(store, 5)
    made.sort(key=lambda id: (store.get_post(id).created_at, id), reverse=True)
    for which in ({"tag": "t"}, {"author_id": A.id}):
        first, _ = store.list_posts(None, 2, **which)
        old = b64([first[-1].created_at, first[-1].id])
        assert decode_cursor(old) == Cursor(first[-1].created_at, first[-1].id, 2,
                                            False)
        posts, onwards = store.list_posts(old, 2, **which)
        assert ids(posts) == made[2:4]
        where = pages(posts, old, onwards)
        assert where.number == 2 and where.newer == "" and where.older == onwards
        rest, end = store.list_posts(where.older, 2, **which)
        assert ids(rest) == made[4:] and end is None


def test_a_cursor_from_another_list_gives_that_lists_next_page(store: Store) -> None:
    """A cursor is a place in time: on any list it gives the posts just older (or,
    going newer, just newer) than its post, or at worst BadCursor, never a 500."""
    with time_machine.travel(T0, tick=False) as clock:
        for n in range(12):
            author = (A, B)[n % 2]
            create(store, f"P{n}", "b", author=author, tags=[("a", "b", "c")[n % 3]])
            if n % 4 == 0:
                create(store, "Draft", "b", author=author, status=DRAFT, tags=["a"])
            if n % 5:
                clock.shift(0.001)
    lists: dict[str, Callable[..., tuple[list[Post], str | None]]] = {
        "all": lambda cursor, limit: store.list_posts(cursor, limit),
        "drafts": lambda cursor, limit: store.list_drafts(A, cursor, limit),
        **{f"author {author.sub}": lambda cursor, limit, author=author:
           store.list_posts(cursor, limit, author_id=author.id) for author in (A, B)},
        **{f"tag {tag}": lambda cursor, limit, tag=tag:
           store.list_posts(cursor, limit, tag=tag) for tag in "abc"},
    }
    cursors = set()
    for read in lists.values():
        cursor = None
        while True:
            posts, onwards = read(cursor, 2)
            where = pages(posts, cursor, onwards)
            cursors |= {where.newer, where.older} - {None, ""}
            if onwards is None:
                break
            cursor = onwards
    newest = store.list_posts(None, 100)[0]
    store.delete_post(newest[5].id, None)  # a cursor may point at a post gone since
    everything = {name: ids(read(None, 100)[0]) for name, read in lists.items()}
    order = {post.id: (post.created_at, post.id) for name in everything
             for post in map(store.get_post, everything[name])}
    assert len(cursors) > 12
    for cursor in sorted(cursors):
        at = decode_cursor(cursor)
        for name, read in lists.items():
            try:
                posts, onwards = read(cursor, 2)
            except BadCursor:
                continue
            if at.newer:
                expected = [id for id in everything[name]
                            if order[id] > (at.created_at, at.id)][-2:]
            else:
                expected = [id for id in everything[name]
                            if order[id] < (at.created_at, at.id)][:2]
            assert ids(posts) == expected, (name, at)
            where = pages(posts, cursor, onwards)
            assert where.number >= 1


# --- edited_at: "updated" shows only for real edits after the first minutes -------


def test_edited_at_after_the_grace_only(store: Store) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        post = create(store, "T", "one", tags=["a"])
        assert post.edited_at is None
        clock.shift(5 * MINUTE)
        early = update(store, post.id, "T", "two", A)
        assert early.edited_at is None
        clock.shift(6 * MINUTE)  # 11 minutes after publishing
        late = update(store, post.id, "T", "three", A)
        assert late.edited_at == late.updated_at == post.published_at + 11 * 60_000
        clock.shift(9 * MINUTE)  # nothing changed: not news
        same = update(store, post.id, "T", "three", A, tags=["a"])
        assert same.updated_at > late.updated_at
        assert same.edited_at == late.edited_at
        again = update(store, post.id, "T", "three", A)
        assert again.edited_at == late.edited_at
    assert store.get_post(post.id) == again


@pytest.mark.parametrize("change", ["title", "body", "tags"])
def test_each_of_title_body_and_tags_is_an_edit(store: Store, change: str) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        post = create(store, "T", "b", tags=["a"])
        clock.shift(EDIT_GRACE / 1000 - 0.001)  # a millisecond before the grace ends
        title, body, tags = {"title": ("T2", "b", None), "body": ("T", "b2", None),
                             "tags": ("T", "b", ["a", "z"])}[change]
        assert update(store, post.id, title, body, A, tags=tags).edited_at is None
        clock.shift(0.001)
        title, body, tags = {"title": ("T3", "b", None), "body": ("T", "b3", None),
                             "tags": ("T", "b", ["a"])}[change]
        edited = update(store, post.id, title, body, A, tags=tags)
    assert edited.edited_at == post.created_at + EDIT_GRACE
    assert store.get_post(post.id).edited_at == edited.edited_at


def test_publishing_or_editing_a_draft_is_not_an_edit(store: Store) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        post = create(store, "D", "b", status=DRAFT)
        clock.shift(20 * MINUTE)
        drafted = update(store, post.id, "D2", "b2", A, tags=["a"])
        assert drafted.edited_at is None
        clock.shift(20 * MINUTE)
        published = update(store, post.id, "D3", "b3", A, status=PUBLISHED)
        assert published.edited_at is None
        clock.shift(20 * MINUTE)
        unpublished = update(store, post.id, "D4", "b4", A, status=DRAFT)
        assert unpublished.edited_at is None  # it does not stay published
        clock.shift(20 * MINUTE)
        update(store, post.id, "D5", "b5", A)  # a change while it is a draft
        back = update(store, post.id, "D5", "b5", A, status=PUBLISHED)
        assert back.edited_at is None and back.published_at == back.updated_at
        clock.shift(5 * MINUTE)  # the grace runs from publishing again
        assert update(store, post.id, "D6", "b6", A).edited_at is None
    assert store.get_post(post.id).edited_at is None


# --- slugs and word counts ---------------------------------------------------------


@pytest.mark.parametrize(("title", "slug"), [
    ("Hello, World!", "hello-world"),
    ("Crème brûlée à la française", "creme-brulee-a-la-francaise"),
    ("Ünïcödé_and_underscores", "unicode-and-underscores"),
    ("Привет мир", "privet-mir"),
    ("!!!", "post"),
    ("🎉", "post"),
    ("   ", "post"),
])  # fmt: skip
def test_slug_of_a_title(title: str, slug: str) -> None:
    assert slug_of(title) == slug


@pytest.mark.parametrize("title", [
    "你好世界", "日本語のタイトル", "안녕하세요", "a" * 100, "word " * 40, "ab-" * 40,
    "x" * 59 + " yz", "Mot " * 14 + "dernier", "é" * 80, "-- leading and trailing --",
])  # fmt: skip
def test_a_slug_is_short_lowercase_ascii_and_never_empty(title: str) -> None:
    slug = slug_of(title)
    assert 0 < len(slug) <= SLUG_MAX
    assert slug.isascii() and slug == slug.lower()
    assert all(word.isalnum() for word in slug.split("-")), slug  # no -- or ends


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_title_has_an_address_friendly_slug(title: str) -> None:
    slug = slug_of(title)
    assert 0 < len(slug) <= SLUG_MAX and slug.isascii() and slug == slug.lower()
    assert all(part and part.isalnum() for part in slug.split("-")), slug


def test_a_posts_slug_follows_its_title(store: Store) -> None:
    post = create(store, "Привет мир", "b")
    assert post.slug == "privet-mir" == store.get_post(post.id).slug
    renamed = update(store, post.id, "A new title!", "b", A)
    assert renamed.slug == "a-new-title" == store.get_post(post.id).slug
    assert update(store, post.id, "???", "b", A).slug == "post"
    hidden = create(store, "", "only a body", status=DRAFT)
    assert hidden.slug == "post" == store.get_post(hidden.id).slug


def test_words_and_reading_minutes(store: Store) -> None:
    short = create(store, "Short", "Hello *there*, reader.")
    assert short.words == 3 == store.get_post(short.id).words
    assert short.reading_minutes == 1
    long = create(store, "Long", "\n\n".join(["word " * 100] * 23))  # 2,300 words
    assert long.words == 2300 == store.get_post(long.id).words
    assert long.reading_minutes == 10 == round(2300 / WORDS_PER_MINUTE)
    assert create(store, "Empty", "![](/media/x.png)").reading_minutes == 1
    shorter = update(store, long.id, "Long", "word " * 700, A)
    assert shorter.words == 700 == store.get_post(long.id).words
    assert shorter.reading_minutes == 3
    listed_words = {post.id: post.words for post in store.list_posts(None, 10)[0]}
    assert listed_words[long.id] == 700 and listed_words[short.id] == 3


# --- posts saved before these fields -----------------------------------------------


def test_an_old_post_reads_with_the_new_fields_and_joins_its_authors_page(
        store: Store) -> None:
    add_old_post(store)
    assert [post.id for post in store.list_posts(None, 10)[0]] == [UNKNOWN]
    old = store.get_post(UNKNOWN)
    assert (old.tags, old.slug, old.words, old.reading_minutes) == ((), "old", 2, 1)
    assert (old.status, old.edited_at, old.author) == (PUBLISHED, None, A)
    # The next request (SQLite: a new connection, which migrates the file as it
    # opens; DynamoDB: `listed_in` was written back by the first read):
    later = reopen(store)
    try:
        assert listed(later, author_id=A.id) == [UNKNOWN]
        assert listed(later, author_id=B.id) == [] == listed(later, tag="old")
        assert later.get_post(UNKNOWN) == old
        retagged = update(later, UNKNOWN, "Old", "# Old *one* more", A,
                          tags=["legacy"])
        assert retagged.edited_at == retagged.updated_at  # published long ago
        assert listed(later, tag="legacy") == [UNKNOWN] == listed(
            later, author_id=A.id)
        assert_listings_true(later, [UNKNOWN])
        assert later.delete_post(UNKNOWN, A) is True
        assert listed(later, tag="legacy") == [] == listed(later, author_id=A.id)
        assert tag_listings(later) == set()
    finally:
        if isinstance(later, sqlite.SqliteStore):
            later.close()


def test_saving_an_old_post_unchanged_is_not_an_edit(store: Store) -> None:
    add_old_post(store)
    old = store.get_post(UNKNOWN)
    assert update(store, UNKNOWN, old.title, old.body, A).edited_at is None
    same = update(store, UNKNOWN, old.title, old.body, A, tags=[])
    assert same.edited_at is None and same.tags == ()
    assert store.get_post(UNKNOWN).edited_at is None


# --- any sequence of saves: the lists agree with the posts --------------------------


def check_lists(store: Store, model: dict[str, Post], tags: list[str]) -> None:
    """Every list, read page by page, is what the saved posts say it is."""
    def newest_first(posts: list[Post]) -> list[str]:
        return ids(sorted(posts, key=lambda post: (post.created_at, post.id),
                          reverse=True))
    published = [post for post in model.values() if not post.is_draft]
    for tag in tags:
        assert listed(store, 2, tag=tag) == newest_first(
            [post for post in published if tag in post.tags]), tag
    for author in (A, B):
        assert listed(store, 2, author_id=author.id) == newest_first(
            [post for post in published if post.author == author])
        drafts, _ = store.list_drafts(author, None, 100)
        assert ids(drafts) == newest_first([post for post in model.values()
                                            if post.is_draft and post.author == author])
    assert listed(store, 3) == newest_first(published)
    assert {id: store.get_post(id) for id in model} == model
    assert tag_listings(store) == {(tag, post.id, post.created_at)
                                   for post in published for tag in post.tags}


@pytest.mark.parametrize("seed", range(3))
def test_the_lists_agree_with_the_posts_after_any_saves(store: Store,
                                                       seed: int) -> None:
    rng, tags, model = random.Random(seed), ["a", "b", "c", "d"], {}
    with time_machine.travel(T0, tick=False) as clock:
        for step in range(36):
            clock.shift(rng.choice([0, 0.001, 1, 11 * MINUTE]))
            chosen, roll = rng.sample(tags, rng.randint(0, 3)), rng.random()
            if not model or roll < 0.35:
                post = create(store, f"P{step}", "b", author=rng.choice([A, B]),
                              status=rng.choice([DRAFT, PUBLISHED]), tags=chosen)
            elif roll < 0.85:
                before = model[rng.choice(list(model))]
                status = rng.choice([None, DRAFT, PUBLISHED])
                post = update(store, before.id, f"P{step}", rng.choice(["b", "c"]),
                              before.author, status=status,
                              tags=rng.choice([None, chosen]))
            else:
                gone = rng.choice(list(model))
                assert store.delete_post(gone, rng.choice([None, model[gone].author]))
                del model[gone]
                post = None
            if post is not None:
                model[post.id] = post
            if step % 4 == 3:
                check_lists(store, model, tags)
    check_lists(store, model, tags)


# --- DynamoDB: a post and its tag items change together or not at all -------------


@pytest.fixture
def dynamo(monkeypatch) -> Iterator[dynamodb.DynamoDBStore]:
    """The DynamoDB store alone (on moto), for what only it does: transactions."""
    fake_credentials(monkeypatch)
    with mock_aws():
        store = dynamodb.DynamoDBStore(posts_table("posts"), ISSUER)
        store.init_db()
        yield store


def elsewhere(store: dynamodb.DynamoDBStore) -> dynamodb.DynamoDBStore:
    """Another Lambda's store on the same table, with a client of its own (so that
    hooks on `store`'s client do not see its calls)."""
    return dynamodb.DynamoDBStore(posts_table(store.table.name), ISSUER)


def before_each(store: dynamodb.DynamoDBStore, operation: str,
                action: Callable[[int], None]) -> list[int]:
    """Run `action(n)` just before the store's nth `operation` call reaches
    DynamoDB; the calls are counted in the list returned."""
    calls: list[int] = []

    def hook(**_: Any) -> None:
        calls.append(len(calls) + 1)
        action(len(calls))

    store.table.meta.client.meta.events.register(
        f"before-call.dynamodb.{operation}", hook)
    return calls


def failure(code: str, *reasons: str) -> Callable[[int], None]:
    """An action that fails the call with the AWS error `code`."""
    response: dict[str, Any] = {"Error": {"Code": code, "Message": "made by a test"}}
    if reasons:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]

    def fail(n: int) -> None:
        raise ClientError(response, "TransactWriteItems")

    return fail


THEIR_SAVES = {
    "retag": {"tags": ["b", "d"]},
    "unpublish": {"status": DRAFT},
    "unpublish and retag": {"status": DRAFT, "tags": ["d"]},
    "untag": {"tags": []},
}


@pytest.mark.parametrize("gap", [0, 1], ids=["same millisecond", "a second later"])
@pytest.mark.parametrize("theirs", list(THEIR_SAVES))
def test_an_update_racing_another_save_is_made_again_over_it(dynamo, gap: float,
                                                            theirs: str) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        post = create(dynamo, "T", "b", tags=["a", "b"])
        other = elsewhere(dynamo)

        def meanwhile(n: int) -> None:
            if n == 1:  # between this save's read and its write
                clock.shift(gap)
                update(other, post.id, "Theirs", "theirs", A, **THEIR_SAVES[theirs])

        calls = before_each(dynamo, "TransactWriteItems", meanwhile)
        mine = update(dynamo, post.id, "Mine", "mine", A, tags=["c"])
    assert calls[0] == 1
    assert mine == dynamo.get_post(post.id)
    assert (mine.title, mine.tags) == ("Mine", ("c",))
    assert mine.status == THEIR_SAVES[theirs].get("status", PUBLISHED)  # None kept
    assert_listings_true(dynamo, [post.id])
    for tag in "abd":
        assert listed(dynamo, tag=tag) == []
    assert listed(dynamo, tag="c") == ([] if mine.is_draft else [post.id])


@pytest.mark.parametrize("gap", [0, 1], ids=["same millisecond", "a second later"])
@pytest.mark.parametrize("theirs", ["retag", "untag", "unpublish"])
def test_a_delete_racing_another_save_leaves_nothing_behind(dynamo, gap: float,
                                                           theirs: str) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        post = create(dynamo, "T", "b", tags=["a"])
        other = elsewhere(dynamo)

        def meanwhile(n: int) -> None:
            if n == 1:
                clock.shift(gap)
                update(other, post.id, "Theirs", "theirs", A, **THEIR_SAVES[theirs])

        before_each(dynamo, "TransactWriteItems", meanwhile)
        assert dynamo.delete_post(post.id, A) is True
    assert scan(dynamo.table) == []
    assert [listed(dynamo, tag=tag) for tag in "abd"] == [[]] * 3


def test_an_update_losing_every_race_is_unavailable_and_theirs_stands(dynamo) -> None:
    post = create(dynamo, "T", "b", tags=["a"])
    other = elsewhere(dynamo)

    def meanwhile(n: int) -> None:
        update(other, post.id, f"Theirs {n}", "theirs", A, tags=[f"t{n}"])

    calls = before_each(dynamo, "TransactWriteItems", meanwhile)
    with pytest.raises(PostsUnavailable):
        update(dynamo, post.id, "Mine", "mine", A, tags=["c"])
    assert len(calls) == dynamodb.ATTEMPTS
    stored = dynamo.get_post(post.id)
    assert (stored.title, stored.tags) == (f"Theirs {len(calls)}", (f"t{len(calls)}",))
    assert_listings_true(dynamo, [post.id])


def test_an_edit_racing_a_delete_does_not_bring_back_a_tag(dynamo) -> None:
    post = create(dynamo, "T", "b", tags=["a"])
    other = elsewhere(dynamo)
    before_each(dynamo, "TransactWriteItems",
                lambda n: other.delete_post(post.id, None) if n == 1 else None)
    assert update(dynamo, post.id, "Mine", "mine", A, tags=["c"]) is None
    assert scan(dynamo.table) == []


SAVES: dict[str, Callable[[Store, Post, Post], Any]] = {
    "create with tags": lambda store, post, hidden: create(store, "N", "n",
                                                         tags=["a", "n"]),
    "retag": lambda store, post, hidden: update(store, post.id, "T", "b", A,
                                                tags=["b", "c"]),
    "unpublish": lambda store, post, hidden: update(store, post.id, "T", "b", A,
                                                    status=DRAFT),
    "publish": lambda store, post, hidden: update(store, hidden.id, "D", "d", A,
                                                  status=PUBLISHED),
    "delete": lambda store, post, hidden: store.delete_post(post.id, A),
    "moderator delete": lambda store, post, hidden: store.delete_post(post.id, None),
}


@pytest.mark.parametrize("error", [
    ("InternalServerError",),
    ("ThrottlingException",),
    (dynamodb.CANCELLED, "None", "ThrottlingError"),
    (dynamodb.CANCELLED, "TransactionConflict", "None"),
])  # fmt: skip
@pytest.mark.parametrize("save", list(SAVES))
def test_a_failed_transaction_is_unavailable_and_changes_nothing(
        dynamo, save: str, error: tuple[str, ...]) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        post = create(dynamo, "T", "b", tags=["a", "b"])
        clock.shift(1)
        hidden = create(dynamo, "D", "d", status=DRAFT, tags=["a", "d"])
        clock.shift(1)
        before = scan(dynamo.table)
        calls = before_each(dynamo, "TransactWriteItems", failure(*error))
        with pytest.raises(PostsUnavailable) as refused:
            SAVES[save](dynamo, post, hidden)
    assert refused.value.code == 503
    assert calls  # the failure was in the transaction
    assert scan(dynamo.table) == before
    assert listed(dynamo, tag="a") == [post.id] == listed(dynamo, author_id=A.id)
    assert listed(dynamo, tag="d") == [] == listed(dynamo, tag="n")


def test_an_old_post_unpublished_during_its_first_read_stays_unlisted(dynamo) -> None:
    add_old_post(dynamo)
    other = elsewhere(dynamo)
    before_each(dynamo, "UpdateItem", lambda n: update(
        other, UNKNOWN, "Old", "# Old *one*", A, status=DRAFT) if n == 1 else None)
    assert dynamo.get_post(UNKNOWN).id == UNKNOWN  # writes back what it lacked
    assert dynamo.get_post(UNKNOWN).is_draft
    assert listed(dynamo, author_id=A.id) == [] == listed(dynamo)
    assert ids(dynamo.list_drafts(A, None, 10)[0]) == [UNKNOWN]
