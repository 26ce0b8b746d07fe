"""What the DynamoDB posts store does beyond the shared contract (test_storage.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from blog.storage import dynamodb
from tests.support.storage import A
from tests.support.storage import PostsUnavailable
from tests.support.storage import create
from tests.support.storage import posts_table
from tests.support.storage import update


@pytest.fixture
def table(monkeypatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        table = posts_table("posts")
        dynamodb.DynamoDBStore(table).init_db()
        yield table


def record(table: Any) -> list[tuple[str, dict]]:
    """The operations (and their parameters) the store sends through `table`."""
    seen: list[tuple[str, dict]] = []
    table.meta.client.meta.events.register(
        "provide-client-params.dynamodb",
        lambda params, model, **_: seen.append((model.name, params)),
    )
    return seen


def test_pages_come_from_the_index_never_a_scan(table):
    store = dynamodb.DynamoDBStore(table)
    for n in range(3):
        create(store, f"P{n}", "b")
    calls = record(table)
    posts, cursor = store.list_posts(None, 2)
    second, _ = store.list_posts(cursor, 2)
    assert [op for op, _ in calls] == ["Query", "Query"]
    assert all(p["IndexName"] == "by_created" for _, p in calls)
    assert all(p["ScanIndexForward"] is False for _, p in calls)
    assert len(posts) == 2 and len(second) == 1


def test_items_keep_numbers_as_epoch_milliseconds(table):
    post = create(dynamodb.DynamoDBStore(table), "T", "B")
    item = table.get_item(Key={"id": post.id})["Item"]
    assert item["kind"] == "post" and item["created_at"] == post.created_at
    assert post.created_at > 1_600_000_000_000  # milliseconds, not seconds


def test_an_edit_after_a_delete_does_not_bring_the_post_back(table):
    store = dynamodb.DynamoDBStore(table)
    post = create(store, "T", "B")
    # A moderator deletes it between the author's check and write:
    assert store.delete_post(post.id, None) is True
    assert update(store, post.id, "New", "new", A) is None
    assert table.get_item(Key={"id": post.id}).get("Item") is None


def test_a_missing_table_is_unavailable_not_a_crash(table):
    store = dynamodb.DynamoDBStore(posts_table("no-such-table"))
    with pytest.raises(PostsUnavailable) as error:
        store.list_posts(None, 10)
    assert error.value.code == 503
    with pytest.raises(PostsUnavailable):
        create(store, "T", "B")
