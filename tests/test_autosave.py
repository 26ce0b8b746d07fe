"""Autosave (blog/autosave.py): drafts only, one draft per new post, refused with 409
when the draft moved since the page loaded it, JSON errors for the script."""

from __future__ import annotations

import pytest
from flask import Flask

from blog.markdown import prepare
from blog.storage import Author
from blog.storage import Post
from blog.storage import get_store


def autosave(client, auth, token: str | None = None, **payload):
    token = auth.csrf_token("/posts/new") if token is None else token
    return client.post("/posts/autosave", json={"title": "T", "body": "b", **payload},
                       headers={"X-CSRFToken": token})


def saved(app: Flask, post_id: str) -> Post | None:
    with app.app_context():
        return get_store().get_post(post_id)


def counts(app: Flask) -> tuple[int, int]:
    """(published posts, alice's drafts)"""
    with app.app_context():
        store = get_store()
        alice = Author(app.config["COGNITO_ISSUER"], "sub-alice")
        return (len(store.list_posts(None, 100)[0]),
                len(store.list_drafts(alice, None, 100)[0]))


def test_the_first_save_makes_one_draft_and_later_ones_update_it(app, client,
                                                                 auth) -> None:
    auth.login()
    first = autosave(client, auth, title="Typing", body="a")
    assert first.status_code == 201
    answer = first.get_json()
    assert answer["edit_url"] == f"/posts/{answer['id']}/edit"
    second = autosave(client, auth, id=answer["id"], version=answer["version"],
                      body="ab")
    assert second.status_code == 200 and second.get_json()["id"] == answer["id"]
    assert second.get_json()["version"] > answer["version"]
    assert counts(app) == (0, 1)
    draft = saved(app, answer["id"])
    assert (draft.status, draft.body, draft.published_at) == ("draft", "ab", None)


def test_a_second_tab_s_save_is_a_conflict_not_an_overwrite(app, client,
                                                            auth) -> None:
    auth.login()
    answer = autosave(client, auth, body="loaded").get_json()
    other = autosave(client, auth, id=answer["id"], version=answer["version"],
                     body="other tab").get_json()
    stale = autosave(client, auth, id=answer["id"], version=answer["version"],
                     body="this tab")
    assert stale.status_code == 409
    assert "changed somewhere else (another tab or window)" in stale.get_json()["error"]
    assert stale.get_json()["version"] == other["version"]
    assert saved(app, answer["id"]).body == "other tab"


def test_autosave_never_touches_a_published_post(app, client, auth) -> None:
    auth.login()
    with app.app_context():
        post = get_store().create_post("Live", "live", prepare("live"), Author(
            app.config["COGNITO_ISSUER"], "sub-alice"), "alice")
    response = autosave(client, auth, id=post.id, version=post.updated_at, body="x")
    assert response.status_code == 409 and "published" in response.get_json()["error"]
    assert saved(app, post.id) == post


def test_someone_else_s_draft_is_404(app, client, auth) -> None:
    auth.login()
    answer = autosave(client, auth, body="mine").get_json()
    auth.login("bob")
    response = autosave(client, auth, id=answer["id"], version=answer["version"])
    assert response.status_code == 404
    assert saved(app, answer["id"]).body == "mine"


@pytest.mark.parametrize("payload", [
    {"title": "", "body": ""}, {"body": 5}, {"id": "x", "version": 1},
    {"id": "00000000-0000-4000-8000-000000000000"}, {"body": "b" * 50_001},
])
def test_bad_saves_are_refused_with_a_message(app, client, auth, payload) -> None:
    auth.login()
    response = autosave(client, auth, **payload)
    assert response.status_code == 400 and response.get_json()["error"]
    assert counts(app) == (0, 0)


def test_without_the_csrf_header_nothing_is_saved(app, client, auth) -> None:
    auth.login()
    response = autosave(client, auth, token="")
    assert response.status_code == 400 and "CSRF" in response.get_json()["error"]
    assert counts(app) == (0, 0)


def test_an_ended_session_is_a_json_401(app, client, auth) -> None:
    auth.login()
    token = auth.csrf_token("/posts/new")
    with client.session_transaction() as session:
        del session["user"]
    response = autosave(client, auth, token=token)
    assert response.status_code == 401
    assert "log in again" in response.get_json()["error"]
    assert counts(app) == (0, 0)


def test_the_write_page_loads_the_script_and_autosaves_drafts_only(client,
                                                                  auth) -> None:
    auth.login()
    page = client.get("/posts/new").text
    assert '<script src="/static/writing.js" defer></script>' in page
    assert 'data-autosave="/posts/autosave"' in page
    assert "<script>" not in page  # CSP: script-src 'self', no inline script
    with client.get("/static/writing.js") as script:
        assert script.status_code == 200 and b"X-CSRFToken" in script.data
