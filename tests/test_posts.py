"""The posts blueprint through the test client: guards, CRUD, permissions, pages."""

from __future__ import annotations

import html
import re
import sqlite3
import time
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import time_machine
from flask import Flask

from blog import markdown
from blog.markdown import prepare
from blog.storage import Author
from blog.storage import Post
from blog.storage import get_store
from blog.storage import sqlite
from tests.support.clients import AuthActions
from tests.support.clients import post_path
from tests.support.fakeidp import FakeIdP
from tests.support.members import by

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def add_post(app: Flask, title: str = "Hello", body: str = "Some *text*",
             username: str = "alice") -> Post:
    with app.app_context():
        author = Author(app.config["COGNITO_ISSUER"], f"sub-{username}")
        return get_store().create_post(title, body, prepare(body), author, username)


def stored(app: Flask, post_id: str) -> Post | None:
    with app.app_context():
        return get_store().get_post(post_id)


def count(app: Flask) -> int:
    with app.app_context():
        return len(get_store().list_posts(None, 100)[0])


@pytest.fixture
def post(app: Flask) -> Post:
    return add_post(app)


GUARDED_POSTS = ["/posts/new", "/posts/{id}/edit", "/posts/{id}/delete"]


@pytest.mark.parametrize("path", ["/posts/", "/posts/?cursor=x", "/posts/{id}",
                                  *GUARDED_POSTS])
def test_anonymous_is_sent_to_login(client, post, path) -> None:
    path = path.format(id=post.id)
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/auth/login"
    assert parse_qs(location.query)["next"] == [path]


@pytest.mark.parametrize("path", GUARDED_POSTS)
def test_post_after_session_ends_changes_nothing(app, client, auth, post, path) -> None:
    auth.login()
    token = auth.csrf_token("/posts/new")
    with client.session_transaction() as session:
        del session["user"]
    response = client.post(path.format(id=post.id),
                           data={"csrf_token": token, "title": "T", "body": "B"})
    assert response.status_code == 401
    assert "/auth/login?next=" in response.get_data(as_text=True)
    assert stored(app, post.id) == post and count(app) == 1


def test_create(app, client, auth) -> None:
    auth.login()
    page = client.get("/posts/new").get_data(as_text=True)
    assert '<label for="title">' in page and '<label for="body">' in page
    response = client.post("/posts/new", data={
        "csrf_token": auth.csrf_token("/posts/new"), "title": "  My   first ",
        "body": "# Hi\r\n\r\nSome *words*.\r\n"})
    assert response.status_code == 302
    post_id = post_path(response.headers["Location"]).removeprefix("/posts/")
    post = stored(app, post_id)
    assert (post.title, post.body, post.author_sub, post.author_name) == (
        "My first", "# Hi\n\nSome *words*.", "sub-alice", "alice")
    page = client.get(f"/posts/{post_id}", follow_redirects=True).get_data(as_text=True)
    assert "Post published." in page and "<h1>Hi</h1>" in page
    assert "<em>words</em>" in page


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_create_needs_csrf_token(app, client, auth, token) -> None:
    auth.login()
    data = {"title": "T", "body": "B"}
    if token is not None:
        data["csrf_token"] = token
    assert client.post("/posts/new", data=data).status_code == 400
    assert count(app) == 0


@pytest.mark.parametrize("title, body, field, message", [
    ("", "Body text", "title", "Give your post a title."),
    ("   ", "Body text", "title", "Give your post a title."),
    ("x" * 201, "Body text", "title", "Keep the title to 200 characters (it has 201)."),
    ("Kept title", "", "body", "Write something in the body."),
    ("Kept title", " \r\n ", "body", "Write something in the body."),
    ("Kept title", "b" * 50_001, "body", "Keep the body to 50,000 characters"),
])
def test_validation(app, client, auth, title, body, field, message) -> None:
    auth.login()
    response = client.post("/posts/new", data={
        "csrf_token": auth.csrf_token("/posts/new"), "title": title, "body": body})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and count(app) == 0
    assert f'<p class="error" id="{field}-error">{message}' in page
    assert re.search(rf'<div class="field has-error">\s*<label for="{field}">', page)
    assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error', page)
    kept = "Kept title" if field == "body" else "Body text"
    assert kept in page


def test_validation_keeps_typed_text_escaped(client, auth) -> None:
    auth.login()
    page = client.post("/posts/new", data={
        "csrf_token": auth.csrf_token("/posts/new"), "title": '"><b>x',
        "body": ""}).get_data(as_text=True)
    assert 'value="&#34;&gt;&lt;b&gt;x"' in page and "<b>x" not in page


def test_boundaries_are_accepted(app, client, auth) -> None:
    auth.login()
    response = client.post("/posts/new", data={
        "csrf_token": auth.csrf_token("/posts/new"), "title": "t" * 200,
        "body": "b" * 50_000})
    assert response.status_code == 302 and count(app) == 1


def test_update_by_author(app, client, auth, post) -> None:
    auth.login()
    page = client.get(f"/posts/{post.id}/edit").get_data(as_text=True)
    assert 'value="Hello"' in page and "Some *text*</textarea>" in page
    response = client.post(f"/posts/{post.id}/edit", data={
        "csrf_token": auth.csrf_token(), "title": "Changed", "body": "New **body**"})
    assert response.headers["Location"] == f"/posts/{post.id}/changed"
    assert (stored(app, post.id).title, stored(app, post.id).body) == (
        "Changed", "New **body**")
    page = client.get(f"/posts/{post.id}", follow_redirects=True).get_data(as_text=True)
    assert "Post updated." in page and "<strong>body</strong>" in page
    assert "updated <time" not in page  # right after publishing: not news


def test_update_validation_keeps_input(app, client, auth, post) -> None:
    auth.login()
    response = client.post(f"/posts/{post.id}/edit", data={
        "csrf_token": auth.csrf_token(), "title": "", "body": "my new draft"})
    assert response.status_code == 400
    assert "my new draft</textarea>" in response.get_data(as_text=True)
    assert stored(app, post.id) == post


def test_other_user_cannot_edit(app, client, auth, post) -> None:
    auth.login("bob")
    response = client.get(f"/posts/{post.id}/edit")
    assert response.status_code == 403 and "Only the author" in response.text
    assert 'class="nav"' in response.text
    response = client.post(f"/posts/{post.id}/edit", data={
        "csrf_token": auth.csrf_token(), "title": "Mine now", "body": "ha"})
    assert response.status_code == 403 and stored(app, post.id) == post


def test_authorship_is_the_sub_not_the_username(app, client, auth, post) -> None:
    auth.login("alice", sub="another-sub")
    assert client.get(f"/posts/{post.id}/edit").status_code == 403
    response = client.post(f"/posts/{post.id}/delete",
                           data={"csrf_token": auth.csrf_token()})
    assert response.status_code == 403 and stored(app, post.id) == post


def test_other_user_cannot_delete(app, client, auth, post) -> None:
    auth.login("bob")
    page = client.get(f"/posts/{post.id}", follow_redirects=True).get_data(as_text=True)
    assert "Edit" not in page and "/delete" not in page
    assert client.get(f"/posts/{post.id}/delete").status_code == 403
    response = client.post(f"/posts/{post.id}/delete",
                           data={"csrf_token": auth.csrf_token()})
    assert response.status_code == 403 and stored(app, post.id) == post


def test_author_deletes_after_confirming(app, client, auth, post) -> None:
    auth.login()
    page = client.get(f"/posts/{post.id}", follow_redirects=True).get_data(as_text=True)
    assert f'action="/posts/{post.id}/delete" method="post"' in page
    page = client.get(f"/posts/{post.id}/delete").get_data(as_text=True)
    assert "Delete this post?" in page and stored(app, post.id) == post
    response = client.post(f"/posts/{post.id}/delete",
                           data={"csrf_token": csrf_of(page)})
    assert response.headers["Location"] == "/posts/"
    assert stored(app, post.id) is None
    assert "Post deleted." in client.get("/posts/").get_data(as_text=True)


def test_moderator_may_delete_but_not_edit(app, client, auth, post) -> None:
    auth.login("mod", groups=["admins"])
    page = client.get(f"/posts/{post.id}", follow_redirects=True).get_data(as_text=True)
    assert f"/posts/{post.id}/delete" in page and f"/posts/{post.id}/edit" not in page
    assert client.get(f"/posts/{post.id}/edit").status_code == 403
    assert client.get(f"/posts/{post.id}/delete").status_code == 200
    assert stored(app, post.id) == post
    response = client.post(f"/posts/{post.id}/delete",
                           data={"csrf_token": auth.csrf_token()})
    assert response.status_code == 302 and stored(app, post.id) is None


def test_delete_without_csrf_changes_nothing(app, client, auth, post) -> None:
    auth.login()
    assert client.post(f"/posts/{post.id}/delete").status_code == 400
    assert stored(app, post.id) == post


@pytest.mark.parametrize("path", [f"/posts/{UNKNOWN}", f"/posts/{UNKNOWN}/edit",
                                  f"/posts/{UNKNOWN}/delete", "/posts/not-an-id",
                                  "/posts/not-an-id/edit", "/posts/{upper}"])
def test_unknown_post_is_404_page(client, auth, post, path) -> None:
    auth.login()
    response = client.get(path.format(upper=post.id.upper()))
    assert response.status_code == 404
    assert "There is no such post" in response.text and 'class="nav"' in response.text


def test_delete_unknown_post_is_404(app, client, auth, post) -> None:
    auth.login("mod", groups=["admins"])
    response = client.post(f"/posts/{UNKNOWN}/delete",
                           data={"csrf_token": auth.csrf_token()})
    assert response.status_code == 404 and count(app) == 1


def test_update_relies_on_the_conditional_write(app, client, auth, monkeypatch) -> None:
    theirs = add_post(app, title="Bob's", username="bob")
    forged = Post(**{**vars(theirs), "author_sub": "sub-alice"})
    # As if the author check had raced with a change: the store must still refuse.
    monkeypatch.setattr(sqlite.SqliteStore, "get_post", lambda self, id: forged)
    auth.login()
    response = client.post(f"/posts/{theirs.id}/edit", data={
        "csrf_token": auth.csrf_token(), "title": "Alice's", "body": "x"})
    monkeypatch.undo()
    assert response.status_code == 404 and stored(app, theirs.id) == theirs


def csrf_of(page: str) -> str:
    return re.findall(r'name="csrf_token" value="([^"]+)"', page)[-1]


def test_empty_list(client, auth) -> None:
    auth.login()
    page = client.get("/posts/").get_data(as_text=True)
    assert "No posts yet." in page
    assert re.search(r'href="/posts/new">Write the first post</a>', page)
    assert "Older posts" not in page


def test_pages_via_older_posts_link(app, client, auth) -> None:
    with time_machine.travel(1_700_000_000, tick=False) as clock:
        for n in range(23):
            add_post(app, title=f"Post number {n:02d}")
            clock.shift(60)
    auth.login()
    titles, url = [], "/posts/"
    while url:
        page = client.get(url).get_data(as_text=True)
        titles.append(re.findall(r">(Post number \d\d)</a>", page))
        older = re.search(r'href="([^"]+)" rel="next">Older posts', page)
        url = html.unescape(older.group(1)) if older else None
    assert [len(batch) for batch in titles] == [10, 10, 3]
    assert sum(titles, []) == [f"Post number {n:02d}" for n in range(22, -1, -1)]


def test_bad_cursor_is_400_page(client, auth) -> None:
    auth.login()
    response = client.get("/posts/?cursor=not-a-cursor")
    assert response.status_code == 400 and "page link is broken" in response.text


def test_detail_shows_author_and_times(app, client, auth) -> None:
    with time_machine.travel("2025-03-04 14:05:06.789Z", tick=False):
        post = add_post(app, username="carol")
    auth.login()
    page = client.get(f"/posts/{post.id}", follow_redirects=True).get_data(as_text=True)
    assert by("carol").search(page) and "<h1>Hello</h1>" in page
    assert ('<time datetime="2025-03-04T14:05:06.789Z" title="4 March 2025, 14:05 UTC">'
            "4 March 2025</time>" in page)
    assert "updated <time" not in page


ATTACKS = ("<script>alert('s')</script>\n\n[click](javascript:alert('j'))\n\n"
           "[x](JAVASCRIPT:alert(1)) <img src=x onerror=alert('i')>\n\n"
           "<a href=\"#\" onmouseover=\"alert('m')\">hover</a>\n\n## Safe heading")


def test_markdown_is_sanitised_end_to_end(app, client, auth) -> None:
    auth.login()
    response = client.post("/posts/new", data={
        "csrf_token": auth.csrf_token(), "title": "<script>alert('t')</script>",
        "body": ATTACKS})
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<h2>Safe heading</h2>" in detail and "&lt;script&gt;alert" in detail
    for page in (detail.lower(), client.get("/posts/").get_data(as_text=True).lower()):
        assert "<script" not in page and "<img" not in page
        assert not re.search(r"<[^>]*\son\w+\s*=", page)
        assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript:""", page)


def test_locked_database_is_503_page(app, client, auth, monkeypatch) -> None:
    monkeypatch.setattr(sqlite, "TIMEOUT", 0.05)
    auth.login()
    token = auth.csrf_token("/posts/new")
    lock = sqlite3.connect(f"{app.instance_path}/posts.sqlite3")
    lock.execute("BEGIN EXCLUSIVE")
    response = client.post("/posts/new",
                           data={"csrf_token": token, "title": "T", "body": "B"})
    lock.rollback()
    assert response.status_code == 503 and "try again" in response.text
    assert count(app) == 0


def test_typed_post_comes_back_when_the_session_ended(app, auth, client):
    auth.login()
    token = auth.csrf_token("/posts/new")
    with time_machine.travel(time.time() + app.config["SESSION_IDLE_TIMEOUT"] + 5):
        page = client.post("/posts/new", data={
            "csrf_token": token, "title": "Long thought",
            "body": "Forty minutes of <b>"})
    assert page.status_code in (400, 401)
    text = page.get_data(as_text=True)
    assert 'value="Long thought"' in text and "Forty minutes of &lt;b&gt;" in text
    assert "Log in again" in text


def test_typed_post_comes_back_when_csrf_token_is_stale(auth, client):
    auth.login()
    page = client.post("/posts/new", data={"csrf_token": "stale", "title": "T",
                                           "body": "Kept body"})
    assert page.status_code == 400 and "Kept body" in page.get_data(as_text=True)


def test_expired_session_on_delete_changes_nothing(app, auth, client):
    auth.login()
    post_id = add_post(app, "Stays", "here").id
    with client.session_transaction() as session:
        session["tokens"] = {**session["tokens"], "id_token": "broken"}
    page = client.post(f"/posts/{post_id}/delete",
                       data={"csrf_token": auth.csrf_token()})
    assert page.status_code == 401
    auth.login()
    assert client.get(f"/posts/{post_id}", follow_redirects=True).status_code == 200


# --- issue 11, items 5 and 8a ---

def test_same_sub_from_another_issuer_cannot_edit_or_delete(app, post,
                                                             make_app) -> None:
    other_pool = FakeIdP()  # the same posts, an app of another user pool
    try:
        client = make_app(pool=other_pool).test_client()
        auth = AuthActions(client, other_pool)
        auth.login("alice")  # the sub of the post's author, from another issuer
        page = client.get(f"/posts/{post.id}", follow_redirects=True).text
        assert "Hello" in page and f"/posts/{post.id}/edit" not in page
        assert "/delete" not in page
        assert client.get(f"/posts/{post.id}/edit").status_code == 403
        token = auth.csrf_token()
        response = client.post(f"/posts/{post.id}/edit", data={
            "csrf_token": token, "title": "Taken", "body": "over"})
        assert response.status_code == 403
        response = client.post(f"/posts/{post.id}/delete", data={"csrf_token": token})
        assert response.status_code == 403 and stored(app, post.id) == post
    finally:
        other_pool.close()


def test_pages_never_parse_markdown(app, client, auth, monkeypatch) -> None:
    auth.login()
    response = client.post("/posts/new", data={
        "csrf_token": auth.csrf_token(), "title": "T", "body": "# Hi\n\n*there*"})
    monkeypatch.setattr(markdown.PARSER, "parse", lambda *args: 1 / 0)
    detail = client.get(response.headers["Location"])
    assert detail.status_code == 200
    assert "<h1>Hi</h1>\n<p><em>there</em></p>" in detail.text
    index = client.get("/posts/")
    assert index.status_code == 200 and "<p>Hi there</p>" in index.text


@pytest.mark.parametrize("body", ["![" * 25_000, "[" * 50_000, "*a" * 25_000])
def test_body_too_slow_to_format_is_refused_next_to_the_field(app, client, auth,
                                                               body) -> None:
    auth.login()
    response = client.post("/posts/new", data={
        "csrf_token": auth.csrf_token(), "title": "Kept title", "body": body})
    assert response.status_code == 400 and count(app) == 0
    assert re.search(r'<p class="error" id="body-error">This body cannot be '
                     r"published\. Its Markdown takes too long", response.text)
    assert 'value="Kept title"' in response.text


def test_body_too_large_once_formatted_is_refused(app, client, auth, post) -> None:
    auth.login()
    response = client.post(f"/posts/{post.id}/edit", data={
        "csrf_token": auth.csrf_token(), "title": "T", "body": "```\n" + "&" * 40_000})
    assert response.status_code == 400 and stored(app, post.id) == post
    assert "It would be over 150,000 bytes once formatted" in response.text
