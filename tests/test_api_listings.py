"""The API's tags and its `?author=` and `?tag=` lists: through the test client, on
moto's DynamoDB (index queries, never a Scan), and over real HTTP in local mode."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from blog import backends
from blog.storage import dynamodb
from blog.storage import member_id
from tests.support.clients import bearer
from tests.support.fakeaws import fake_credentials
from tests.support.localsite import BrowsedSite as Site
from tests.support.localsite import api_token
from tests.support.localsite import started


def create(client, idp, username="alice", title="Hello", **fields) -> dict:
    """Publish through the API, a millisecond after the last one (lists are newest
    first, and two posts of the same millisecond are in id order)."""
    time.sleep(0.002)
    response = client.post("/api/posts", json={"title": title, "body": "Words",
                                               **fields},
                           headers=bearer(idp, username))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def titles(client, idp, query: str) -> list[str]:
    response = client.get(f"/api/posts?{query}", headers=bearer(idp))
    assert response.status_code == 200, response.get_data(as_text=True)
    return [post["title"] for post in response.get_json()["items"]]


def test_tags_are_kept_shown_replaced_and_kept_by_other_edits(client, idp):
    post = create(client, idp, tags=["python", "aws"])
    assert post["tags"] == ["python", "aws"]
    path, headers = f"/api/posts/{post['id']}", bearer(idp)
    renamed = client.patch(path, json={"title": "Renamed"}, headers=headers)
    assert renamed.get_json()["tags"] == ["python", "aws"]
    retagged = client.patch(path, json={"tags": ["flask"]}, headers=headers)
    assert retagged.status_code == 200 and retagged.get_json()["tags"] == ["flask"]
    assert client.get(path, headers=headers).get_json()["tags"] == ["flask"]
    assert create(client, idp, title="Bare")["tags"] == []


@pytest.mark.parametrize("tags,message", [
    (["Python"], "is not a tag"), (["a", "a"], "Must not repeat a tag."),
    (list("abcdef"), "at most 5"), ("python", "Must be an array of strings"),
    ([1], "Must be an array of strings"), (None, "Must be an array of strings"),
])
def test_bad_tags_get_422_naming_the_field(client, idp, tags, message):
    response = client.post("/api/posts", json={"title": "t", "body": "b",
                                               "tags": tags}, headers=bearer(idp))
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert error["field"] == "tags" and message in error["message"]
    assert titles(client, idp, "") == []


def test_lists_by_author_by_tag_and_both(client, idp):
    create(client, idp, "alice", "A1", tags=["py"])
    create(client, idp, "alice", "A2", tags=["js"])
    create(client, idp, "bob", "B1", tags=["py"])
    create(client, idp, "alice", "A draft", tags=["py"], status="draft")
    alice = member_id(idp.issuer, "sub-alice")
    assert titles(client, idp, f"author={alice}") == ["A2", "A1"]
    assert titles(client, idp, "tag=py") == ["B1", "A1"]
    assert titles(client, idp, f"tag=py&author={alice}") == ["A1"]
    assert titles(client, idp, "tag=&author=") == ["B1", "A2", "A1"]  # empty: all
    assert titles(client, idp, "status=draft&tag=py") == ["A draft"]
    bob = member_id(idp.issuer, "sub-bob")
    assert titles(client, idp, f"status=draft&author={bob}") == []  # not theirs


@pytest.mark.parametrize("query,field", [
    ("tag=Python", "tag"), ("tag=c%2B%2B", "tag"), ("author=nobody", "author")])
def test_a_bad_filter_is_400_naming_it(client, idp, query, field):
    response = client.get(f"/api/posts?{query}", headers=bearer(idp))
    assert response.status_code == 400
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


# --- on DynamoDB: index queries only ------------------------------------------------


@pytest.fixture
def on_dynamodb(idp, make_app, monkeypatch) -> Iterator[Any]:
    """The app on moto's posts table, and the DynamoDB calls it makes."""
    fake_credentials(monkeypatch)
    with mock_aws():
        resource = boto3.resource("dynamodb")
        dynamodb.DynamoDBStore(resource.Table("posts")).init_db()
        monkeypatch.setattr(backends, "connect", lambda: resource)
        app = make_app(POSTS_TABLE="posts")
        calls: list[str] = []
        resource.meta.client.meta.events.register(
            "provide-client-params.dynamodb",
            lambda model, **_: calls.append(model.name))
        yield app.test_client(), calls


def test_author_and_tag_lists_on_dynamodb_are_queries(on_dynamodb, idp):
    client, calls = on_dynamodb
    for n in range(5):
        create(client, idp, "alice" if n % 2 else "bob", f"P{n}", tags=["py"])
    alice = member_id(idp.issuer, "sub-alice")
    calls.clear()
    assert titles(client, idp, "tag=py&limit=2") == ["P4", "P3"]
    assert titles(client, idp, f"author={alice}") == ["P3", "P1"]
    assert titles(client, idp, f"author={alice}&tag=py") == ["P3", "P1"]
    assert "Scan" not in calls and calls.count("Query") >= 3


# --- over real HTTP, in local mode ----------------------------------------------------


@pytest.fixture
def site(tmp_path) -> Iterator[Site]:
    with started(Site, tmp_path, "alice@example.com") as site:
        yield site


def test_a_script_tags_a_post_and_finds_it_on_the_pages(site):
    headers = {"Authorization": f"Bearer {api_token(site, 'alice@example.com')}"}
    created = requests.post(site.url("/api/posts"), headers=headers, timeout=10, json={
        "title": "Tagged from a script", "body": "b", "tags": ["scripts"]}).json()
    listed = requests.get(site.url("/api/posts?tag=scripts"), headers=headers,
                          timeout=10).json()
    assert [post["id"] for post in listed["items"]] == [created["id"]]
    page = site.login("alice@example.com", "/tags/scripts")
    assert "Tagged from a script" in page.text
    author = site.get(f"/authors/{created['author']['id']}")
    assert "<h1>Alice</h1>" in author.text and "Tagged from a script" in author.text
