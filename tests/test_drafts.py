"""Drafts, publishing and preview on the pages (blog/posts.py): a draft is its
author's alone (404 to everyone else), never listed; preview saves nothing."""

from __future__ import annotations

import re
import sqlite3

import pytest
from flask import Flask

from blog.markdown import prepare
from blog.storage import Author
from blog.storage import Post
from blog.storage import get_store
from blog.storage import sqlite
from tests.support.clients import post_path


def saved(app: Flask, post_id: str) -> Post | None:
    with app.app_context():
        return get_store().get_post(post_id)


def listed(app: Flask) -> list[str]:
    with app.app_context():
        return [post.title for post in get_store().list_posts(None, 100)[0]]


def send(client, auth, path: str, action: str | None, **fields: str):
    data = {"csrf_token": auth.csrf_token("/posts/new"),
            "title": "Title", "body": "Some *words*", **fields}
    if action is not None:
        data["action"] = action
    return client.post(path, data=data)


def new_id(response) -> str:
    assert response.status_code == 302, response.status
    return post_path(response.headers["Location"]).removeprefix("/posts/")


def test_the_form_offers_publish_draft_and_preview(client, auth) -> None:
    auth.login()
    page = client.get("/posts/new").text
    for value, label in [("publish", "Publish"), ("draft", "Save draft"),
                         ("preview", "Preview")]:
        assert re.search(rf'name="action" value="{value}"[^>]*>{label}</button>', page)


def test_a_draft_is_seen_by_its_author_only(app, client, auth) -> None:
    auth.login()
    post_id = new_id(send(client, auth, "/posts/new", "draft", title="Secret"))
    page = client.get(f"/posts/{post_id}", follow_redirects=True).text
    assert "Draft saved. Only you can see it." in page and "Secret" in page
    assert "Only you can see this." in page
    assert "Secret" in client.get("/posts/drafts").text
    assert "Secret" not in client.get("/posts/").text and listed(app) == []
    auth.login("bob")
    for path in (f"/posts/{post_id}", f"/posts/{post_id}/edit",
                 f"/posts/{post_id}/delete"):
        assert client.get(path).status_code == 404, path
    assert "Secret" not in client.get("/posts/drafts").text
    auth.login("mod", groups=["admins"])
    token = auth.csrf_token()
    assert client.post(f"/posts/{post_id}/delete",
                       data={"csrf_token": token}).status_code == 404
    assert saved(app, post_id) is not None


def test_publishing_a_draft_lists_it_and_sets_published_at(app, client, auth) -> None:
    auth.login()
    post_id = new_id(send(client, auth, "/posts/new", "draft", title="Later"))
    draft = saved(app, post_id)
    response = send(client, auth, f"/posts/{post_id}/edit", "publish", title="Later",
                    version=str(draft.updated_at))
    assert new_id(response) == post_id
    page = client.get(f"/posts/{post_id}", follow_redirects=True).text
    assert "Post published." in page
    post = saved(app, post_id)
    assert post.status == "published" and post.published_at >= draft.updated_at
    assert listed(app) == ["Later"] and "Later" not in client.get("/posts/drafts").text


def test_a_published_post_can_go_back_to_draft(app, client, auth) -> None:
    auth.login()
    post_id = new_id(send(client, auth, "/posts/new", None, title="Oops"))
    assert listed(app) == ["Oops"]
    edit = client.get(f"/posts/{post_id}/edit").text
    assert "Move to drafts" in edit and "data-autosave" not in edit
    new_id(send(client, auth, f"/posts/{post_id}/edit", "draft", title="Oops"))
    assert listed(app) == [] and saved(app, post_id).published_at is None
    assert "Oops" in client.get("/posts/drafts").text


def test_a_draft_may_lack_a_title_but_publishing_needs_one(app, client, auth) -> None:
    auth.login()
    post_id = new_id(send(client, auth, "/posts/new", "draft", title=""))
    assert "Untitled draft" in client.get("/posts/drafts").text
    response = send(client, auth, f"/posts/{post_id}/edit", "publish", title="")
    assert response.status_code == 400 and "Give your post a title." in response.text
    assert saved(app, post_id).status == "draft"


def test_preview_renders_as_saved_and_saves_nothing(app, client, auth) -> None:
    auth.login()
    body = "# Heading\n\n*soft* <script>alert(1)</script>"
    response = send(client, auth, "/posts/new", "preview", title="Look", body=body)
    assert response.status_code == 200 and listed(app) == []
    with app.app_context():
        assert get_store().list_drafts(Author(app.config["COGNITO_ISSUER"],
                                              "sub-alice"), None, 10)[0] == []
    page = response.text
    assert "Preview (not saved)" in page
    assert f'<div class="post-body">{prepare(body).html}</div>' in page
    assert "<script>alert" not in page  # sanitised as a saved post is
    assert 'value="Look"' in page and "*soft* &lt;script&gt;" in page  # still typed


def test_an_unknown_action_saves_nothing(app, client, auth) -> None:
    auth.login()
    assert send(client, auth, "/posts/new", "burn").status_code == 400
    assert listed(app) == []


def test_an_edit_over_a_version_that_moved_is_refused_and_kept(app, client,
                                                              auth) -> None:
    auth.login()
    post_id = new_id(send(client, auth, "/posts/new", "draft", body="first"))
    loaded = saved(app, post_id).updated_at
    new_id(send(client, auth, f"/posts/{post_id}/edit", "draft", body="other tab",
                version=str(loaded)))
    response = send(client, auth, f"/posts/{post_id}/edit", "publish",
                    body="this tab", version=str(loaded))
    assert response.status_code == 409
    assert "changed somewhere else (another tab or window)" in response.text
    assert "this tab</textarea>" in response.text
    assert "data-unsaved" in response.text  # writing.js warns before leaving
    assert "data-autosave" not in response.text  # and never saves over it unasked
    assert saved(app, post_id).body == "other tab"
    current = re.search(r'name="version" value="(\d+)"', response.text).group(1)
    new_id(send(client, auth, f"/posts/{post_id}/edit", "publish", body="this tab",
                version=current))  # sending again, knowingly, replaces it
    assert saved(app, post_id).body == "this tab"


@pytest.mark.parametrize("path", ["/posts/drafts", "/posts/drafts?cursor=x"])
def test_drafts_page_is_guarded(client, path) -> None:
    assert client.get(path).headers["Location"].startswith("/auth/login?next=")


def test_drafts_page_pages(app, client, auth) -> None:
    auth.login()
    author = Author(app.config["COGNITO_ISSUER"], "sub-alice")
    with app.app_context():
        for n in range(12):
            get_store().create_post(f"D{n:02}", "b", prepare("b"), author, "a",
                                    "draft")
    page = client.get("/posts/drafts").text
    assert page.count('class="post-card"') == 10 and "Older drafts" in page
    older = re.search(r'href="(/posts/drafts\?cursor=[^"]+)"', page).group(1)
    assert client.get(older).text.count('class="post-card"') == 2


def test_a_long_body_is_refused_next_to_the_field_never_cut(app, client, auth) -> None:
    auth.login()
    form = client.get("/posts/new").text
    textarea = re.search(r"<textarea[^>]*>", form).group(0)
    assert "maxlength" not in textarea  # a browser would cut a paste silently
    assert re.search(r'id="body-count"[^>]*>\s*0 / 50,000 characters', form)
    body = "word " * 12_000  # 60,000 characters pasted
    response = send(client, auth, "/posts/new", "publish", body=body)
    assert response.status_code == 400 and listed(app) == []
    assert ('<p class="error" id="body-error">Keep the body to 50,000 characters '
            "(it has 59,999).</p>") in response.text
    assert body.rstrip() in response.text  # every character kept in the form
    assert re.search(r'class="counter over" id="body-count"[^>]*>\s*59,999 / 50,000',
                     response.text)


def test_a_draft_refused_by_a_busy_store_is_retried_as_a_draft(app, client, auth,
                                                               monkeypatch) -> None:
    monkeypatch.setattr(sqlite, "TIMEOUT", 0.05)
    auth.login()
    writer = re.search(r'name="writer" value="([^"]+)"',
                       client.get("/posts/new").text).group(1)
    lock = sqlite3.connect(f"{app.instance_path}/posts.sqlite3")
    lock.execute("BEGIN EXCLUSIVE")
    response = send(client, auth, "/posts/new", "draft", title="Busy", writer=writer)
    lock.rollback()
    assert response.status_code == 503
    assert re.search(r'<button type="submit" name="action" value="draft">Try again',
                     response.text)
    assert f'name="writer" value="{writer}"' in response.text
