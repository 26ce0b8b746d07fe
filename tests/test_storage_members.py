"""Member records and authors' member ids, one contract for every Store backend
(SQLite and moto), plus the one batch read per page on DynamoDB."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import time_machine
from moto import mock_aws

from blog import backends
from blog.storage import Author
from blog.storage import Member
from blog.storage import Store
from blog.storage import dynamodb
from blog.storage import member_id
from blog.storage import sqlite
from tests.support.clients import AuthActions
from tests.support.fakeaws import fake_credentials
from tests.support.members import by
from tests.support.members import login
from tests.support.members import script_bearer as bearer
from tests.support.storage import ISSUER
from tests.support.storage import OLD_SCHEMA
from tests.support.storage import UNKNOWN
from tests.support.storage import A
from tests.support.storage import B
from tests.support.storage import add_old_post
from tests.support.storage import create

T0 = 1_700_000_000  # seconds


def test_the_member_id_is_opaque_stable_and_per_issuer() -> None:
    assert re.fullmatch(r"[a-z2-7]{24}", A.id) and A.id == member_id(ISSUER, "sub-a")
    assert A.id != B.id != Author("https://other.example", "sub-a").id
    assert "sub-a" not in A.id


def test_a_login_records_the_member(store: Store) -> None:
    with time_machine.travel(T0, tick=False):
        store.save_member(A, "Ann Lee", login=True)
    assert store.get_member(A.id) == Member(A.id, ISSUER, "sub-a", "Ann Lee",
                                            T0 * 1000, T0 * 1000)
    assert store.get_member(B.id) is None


def test_later_logins_and_renames_keep_the_first_sighting(store: Store) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        store.save_member(A, "Ann Lee", login=True)
        clock.shift(60)
        store.save_member(A, "Ann Smith", login=False)  # a refresh: no login
        assert store.get_member(A.id).last_login == T0 * 1000
        clock.shift(60)
        store.save_member(A, "Ann Smith", login=True)
        store.save_member(B, "Bea", login=False)  # a record made at a refresh
    assert store.get_member(A.id) == Member(A.id, ISSUER, "sub-a", "Ann Smith",
                                            T0 * 1000, (T0 + 120) * 1000)
    assert store.get_member(B.id).last_login is None


def test_names_come_for_the_ids_asked_only(store: Store) -> None:
    store.save_member(A, "Ann", login=True)
    store.save_member(B, "Bea", login=True)
    assert store.member_names([A.id, B.id, A.id, member_id(ISSUER, "x")]) == {
        A.id: "Ann", B.id: "Bea"}
    assert store.member_names([B.id]) == {B.id: "Bea"}
    assert store.member_names([]) == {}


def test_more_names_than_one_batch_holds(store: Store) -> None:
    authors = [Author(ISSUER, f"sub-{n}") for n in range(130)]
    for n, author in enumerate(authors):
        store.save_member(author, f"Name {n}", login=True)
    names = store.member_names(author.id for author in authors)
    assert names == {author.id: f"Name {n}" for n, author in enumerate(authors)}


def test_posts_record_their_authors_member_id(store: Store) -> None:
    post = create(store, author=B, name="Bea")
    assert post.author_id == B.id and post.author_name == "Bea"
    assert store.get_post(post.id) == post
    assert store.list_posts(None, 10) == ([post], None)


def test_members_are_not_posts(store: Store) -> None:
    store.save_member(A, "Ann", login=True)
    post = create(store)
    store.save_member(B, "Bea", login=True)
    assert store.list_posts(None, 10) == ([post], None)


def test_an_old_post_gets_its_authors_id_and_no_stored_name(store: Store) -> None:
    # What it stored as its author's name was the username: maybe a generated one.
    add_old_post(store)
    post = store.get_post(UNKNOWN)
    assert post.author_id == A.id and post.author_name == ""
    assert store.list_posts(None, 10)[0] == [post]


def test_a_sqlite_file_from_before_gets_the_member_table(tmp_path) -> None:
    path = tmp_path / "posts.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(OLD_SCHEMA)
    store = sqlite.SqliteStore(str(path), ISSUER)
    assert store.get_post(UNKNOWN).author_id == A.id
    store.save_member(A, "Ann", login=True)
    assert store.member_names([A.id]) == {A.id: "Ann"}
    assert create(store, "New", "new").author_id == A.id


# --- DynamoDB: members ride in the posts table; one batch read per page ---

def record(client: Any) -> list[tuple[str, dict]]:
    """The DynamoDB operations sent through `client` from now on, with parameters."""
    seen: list[tuple[str, dict]] = []
    client.meta.events.register(
        "provide-client-params.dynamodb",
        lambda params, model, **_: seen.append((model.name, params)))
    return seen


@pytest.fixture
def resource(monkeypatch) -> Iterator[Any]:
    """moto's DynamoDB with the posts table; apps made now use this resource."""
    fake_credentials(monkeypatch)
    with mock_aws():
        resource = boto3.resource("dynamodb")
        dynamodb.DynamoDBStore(resource.Table("posts")).init_db()
        monkeypatch.setattr(backends, "connect", lambda: resource)
        yield resource


def test_a_member_item_is_kept_out_of_the_index(resource) -> None:
    dynamodb.DynamoDBStore(resource.Table("posts"), ISSUER).save_member(
        A, "Ann", login=True)
    item = resource.Table("posts").get_item(Key={"id": "member#" + A.id})["Item"]
    assert item["kind"] == "member" and "created_at" not in item


def test_names_for_a_page_are_one_batch_get(resource) -> None:
    store = dynamodb.DynamoDBStore(resource.Table("posts"), ISSUER)
    store.save_member(A, "Ann", login=True)
    calls = record(resource.meta.client)
    assert store.member_names([A.id, B.id]) == {A.id: "Ann"}
    assert [op for op, _ in calls] == ["BatchGetItem"]
    (keys,) = [request["Keys"] for request in calls[0][1]["RequestItems"].values()]
    assert sorted(key["id"] for key in keys) == sorted(
        "member#" + author.id for author in (A, B))


@pytest.fixture
def site(idp, make_app, resource) -> Any:
    """The app on moto's posts table, with 12 posts by three members."""
    app = make_app(POSTS_TABLE="posts")
    store = dynamodb.DynamoDBStore(resource.Table("posts"), idp.issuer)
    authors = [Author(idp.issuer, f"sub-{n}") for n in range(3)]
    for n, author in enumerate(authors):
        store.save_member(author, f"Writer {n}", login=True)
    for n in range(12):
        create(store, f"Post {n}", author=authors[n % 3], name="old name")
    return app


def test_a_page_of_posts_reads_its_authors_in_one_call(site, resource, idp):
    client = site.test_client()
    login(AuthActions(client, idp), name="Reader")
    calls = record(resource.meta.client)
    page = client.get("/posts/").get_data(as_text=True)
    assert [op for op, _ in calls] == ["Query", "BatchGetItem"]
    assert all(by(f"Writer {n}").search(page) for n in range(3))
    calls.clear()
    items = client.get("/api/posts?limit=100", headers=bearer(idp)).get_json()["items"]
    assert [op for op, _ in calls] == ["Query", "BatchGetItem"]
    assert {post["author"]["name"] for post in items} == {"Writer 0", "Writer 1",
                                                         "Writer 2"}
