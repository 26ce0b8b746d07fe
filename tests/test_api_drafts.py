"""Drafts in the JSON API (blog/api/views.py): `status` on create and edit,
`published_at` set by publishing, `?status=draft` lists the caller's own drafts, and
someone else's draft is 404 everywhere."""

from __future__ import annotations

import pytest

from tests.support.clients import bearer


def new(client, idp, username="alice", **fields):
    response = client.post("/api/posts", headers=bearer(idp, username),
                           json={"title": "T", "body": "b", **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def titles(client, idp, username="alice", query=""):
    answer = client.get(f"/api/posts{query}", headers=bearer(idp, username))
    assert answer.status_code == 200, answer.get_json()
    return [post["title"] for post in answer.get_json()["items"]]


def test_posts_are_published_by_default_with_published_at(client, idp) -> None:
    post = new(client, idp)
    assert post["status"] == "published"
    assert post["published_at"] == post["created_at"]


def test_a_draft_is_listed_for_its_author_only(client, idp) -> None:
    draft = new(client, idp, title="Draft", status="draft")
    assert (draft["status"], draft["published_at"]) == ("draft", None)
    new(client, idp, title="Out")
    assert titles(client, idp) == ["Out"]
    assert titles(client, idp, query="?status=draft") == ["Draft"]
    assert titles(client, idp, query="?status=published") == ["Out"]
    assert titles(client, idp, "bob", "?status=draft") == []
    assert titles(client, idp, "bob") == ["Out"]


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_someone_else_s_draft_is_404(client, idp, method) -> None:
    draft = new(client, idp, status="draft")
    headers = bearer(idp, "bob", **{"cognito:groups": ["admins"]})
    answer = getattr(client, method)(f"/api/posts/{draft['id']}", headers=headers,
                                     json={"title": "x"})
    assert answer.status_code == 404
    own = client.get(f"/api/posts/{draft['id']}", headers=bearer(idp))
    assert own.status_code == 200 and own.get_json()["title"] == "T"


def test_publish_then_back_to_draft(client, idp) -> None:
    draft = new(client, idp, title="Later", status="draft")
    path = f"/api/posts/{draft['id']}"
    published = client.patch(path, headers=bearer(idp), json={"status": "published"})
    body = published.get_json()
    assert published.status_code == 200 and body["status"] == "published"
    assert body["published_at"] is not None and body["published_at"] >= draft[
        "created_at"]
    assert titles(client, idp, "bob") == ["Later"]
    back = client.patch(path, headers=bearer(idp), json={"status": "draft"}).get_json()
    assert (back["status"], back["published_at"]) == ("draft", None)
    assert titles(client, idp, "bob") == []


@pytest.mark.parametrize("status", ["all", "", "DRAFT"])
def test_a_bad_status_query_is_400(client, idp, status) -> None:
    answer = client.get(f"/api/posts?status={status}", headers=bearer(idp))
    assert answer.status_code == 400
    assert answer.get_json()["errors"] == [
        {"field": "status", "message": "Must be 'draft' or 'published'."}]
