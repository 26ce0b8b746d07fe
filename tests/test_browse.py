"""Finding and reading posts on the pages: tags on the form and on posts, tag and
author pages, readable addresses, the Newer/Older pager, dates, "updated" and the
reading time."""

from __future__ import annotations

import html
import re

import pytest
import time_machine
from flask import Flask

from blog.markdown import prepare
from blog.storage import DRAFT
from blog.storage import Author
from blog.storage import Post
from blog.storage import get_store
from tests.support.clients import post_path
from tests.support.members import by

POST_LINK = re.compile(r'<h2 id="title-[^"]+"><a href="/posts/[^"]+">([^<]*)</a>')


def add_post(app: Flask, title: str = "Hello", body: str = "Some *text*",
             username: str = "alice", tags: tuple[str, ...] = (),
             status: str = "published") -> Post:
    with app.app_context():
        author = Author(app.config["COGNITO_ISSUER"], f"sub-{username}")
        return get_store().create_post(title, body, prepare(body), author, username,
                                       status, tags)


def titles(page: str) -> list[str]:
    """The post titles a list page shows, in order."""
    return [html.unescape(title) for title in POST_LINK.findall(page)]


def write(client, auth, path: str = "/posts/new", **fields: str):
    data = {"csrf_token": auth.csrf_token("/posts/new"), "title": "Title",
            "body": "Some words", **fields}
    return client.post(path, data=data)


# --- tags on the form and on the post -------------------------------------------


def test_tags_typed_on_the_form_are_tidied_and_shown_as_links(app, client, auth):
    auth.login()
    response = write(client, auth, tags=" Python, AWS lambda ,#python,, ")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert re.findall(r'<a href="/tags/([^"]+)" rel="tag">', page) == [
        "python", "aws-lambda"]
    listing = client.get("/posts/").text
    assert 'href="/tags/aws-lambda" rel="tag">#aws-lambda</a>' in listing
    edit = client.get(post_path(response.headers["Location"]) + "/edit").text
    assert 'value="python, aws-lambda"' in edit


@pytest.mark.parametrize("typed,message", [
    ("c++, ok", "“c++” cannot be a tag"),
    ("a, b, c, d, e, f", "Use at most 5 tags (there are 6)."),
    ("x" * 31, "cannot be a tag"),
])
def test_bad_tags_are_refused_next_to_the_field_keeping_the_form(
        app, client, auth, typed, message):
    auth.login()
    response = write(client, auth, title="Kept title", body="Kept body", tags=typed)
    assert response.status_code == 400
    page = response.text
    error = re.search(r'<p class="error" id="tags-error">([^<]*)</p>', page)
    assert error and message in html.unescape(error.group(1))
    assert 'aria-invalid="true"' in page.split('id="tags"')[1].split(">")[0]
    assert f'value="{html.escape(typed)}"' in page
    assert 'value="Kept title"' in page and "Kept body</textarea>" in page
    assert titles(client.get("/posts/").text) == []


# --- tag pages ----------------------------------------------------------------


def test_a_tag_page_lists_its_published_posts_newest_first(app, client, auth):
    with time_machine.travel(1_700_000_000, tick=False) as clock:
        for title, tags in [("One", ("py",)), ("Two", ("py", "aws")),
                            ("Three", ("aws",))]:
            add_post(app, title, tags=tags)
            clock.shift(1)
        add_post(app, "Draft", tags=("py",), status=DRAFT)
    auth.login("reader")
    page = client.get("/tags/py")
    assert page.status_code == 200 and titles(page.text) == ["Two", "One"]
    assert "<title>#py · " in page.text and "Posts tagged #py" in page.text
    assert titles(client.get("/tags/aws").text) == ["Three", "Two"]
    assert "No published post has the tag #nothing yet." in client.get(
        "/tags/nothing").text


def test_a_tag_typed_another_way_redirects_and_a_non_tag_is_404(app, client, auth):
    auth.login()
    response = client.get("/tags/Python?cursor=")
    assert response.status_code == 301
    assert response.headers["Location"].startswith("/tags/python")
    assert client.get("/tags/c++").status_code == 404
    assert client.get("/tags/" + "x" * 31).status_code == 404


def test_tag_pages_follow_edits_and_deletes(app, client, auth):
    auth.login()
    location = write(client, auth, title="Moving", tags="old").headers["Location"]
    path = post_path(location)
    assert titles(client.get("/tags/old").text) == ["Moving"]
    token = auth.csrf_token(path + "/edit")
    edited = client.post(path + "/edit", data={
        "csrf_token": token, "title": "Moving", "body": "Some words", "tags": "new"})
    assert edited.status_code == 302
    assert titles(client.get("/tags/old").text) == []
    assert titles(client.get("/tags/new").text) == ["Moving"]
    moved = client.post(path + "/edit", data={
        "csrf_token": token, "title": "Moving", "body": "Some words", "tags": "new",
        "action": "draft"})
    assert moved.status_code == 302 and titles(client.get("/tags/new").text) == []
    client.post(path + "/edit", data={
        "csrf_token": token, "title": "Moving", "body": "Some words", "tags": "new"})
    assert titles(client.get("/tags/new").text) == ["Moving"]
    assert client.post(path + "/delete", data={"csrf_token": token}).status_code == 302
    assert titles(client.get("/tags/new").text) == []


def test_tag_pages_are_guarded(client):
    response = client.get("/tags/py")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/tags/py"


# --- author pages ---------------------------------------------------------------


def test_an_author_page_names_them_and_lists_only_their_published_posts(
        app, client, auth):
    mine = add_post(app, "Mine", username="alice")
    add_post(app, "Hidden draft", username="alice", status=DRAFT)
    add_post(app, "Theirs", username="bob")
    with app.app_context():
        get_store().save_member(mine.author, "Alice Liddell", login=True)
    auth.login("reader")
    page = client.get(f"/authors/{mine.author_id}").text
    assert "<h1>Alice Liddell</h1>" in page and titles(page) == ["Mine"]
    assert "<title>Alice Liddell · " in page
    listing = client.get("/posts/").text
    assert f'href="/authors/{mine.author_id}">Alice Liddell</a>' in listing
    assert by("Alice Liddell").search(listing)


def test_an_unknown_or_malformed_author_is_a_404_page(app, client, auth):
    auth.login()
    for author_id in ["a" * 24, "not-an-id", "A" * 24, "a" * 25]:
        response = client.get(f"/authors/{author_id}")
        assert response.status_code == 404, author_id
        assert "There is no such member." in response.text


def test_a_member_without_posts_has_a_page_saying_so(app, client, auth):
    author = Author(app.config["COGNITO_ISSUER"], "sub-quiet")
    with app.app_context():
        get_store().save_member(author, "Quiet Quinn", login=True)
    auth.login()
    page = client.get(f"/authors/{author.id}")
    assert page.status_code == 200
    assert "Quiet Quinn has not published anything yet." in page.text


# --- readable addresses -----------------------------------------------------------


@pytest.mark.parametrize("title,slug", [
    ("Héllo, Wörld!", "hello-world"),
    ("Привет мир", "privet-mir"),
    ("!!!", "post"),
    ("Edit", "edit-post"),
    ("Delete", "delete-post"),
])
def test_a_new_post_lives_at_its_readable_address(app, client, auth, title, slug):
    auth.login()
    location = write(client, auth, title=title).headers["Location"]
    assert re.fullmatch(r"/posts/[0-9a-f-]{36}/" + slug, location)
    page = client.get(location)
    assert page.status_code == 200 and f"<h1>{html.escape(title)}</h1>" in page.text


def test_a_title_in_another_script_gets_an_ascii_slug(app, client, auth):
    auth.login()
    location = write(client, auth, title="日本語のタイトル").headers["Location"]
    slug = location.rsplit("/", 1)[1]
    assert slug.isascii() and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)


def test_short_and_old_addresses_redirect_to_the_current_one(app, client, auth):
    post = add_post(app, "First title")
    auth.login()
    canonical = f"/posts/{post.id}/first-title"
    for old in (f"/posts/{post.id}", f"/posts/{post.id}/wrong-slug"):
        response = client.get(old)
        assert response.status_code == 301 and response.headers["Location"] == canonical
    token = auth.csrf_token(f"/posts/{post.id}/edit")
    client.post(f"/posts/{post.id}/edit", data={
        "csrf_token": token, "title": "Second title", "body": "Some text"})
    response = client.get(canonical)
    assert response.status_code == 301
    assert response.headers["Location"] == f"/posts/{post.id}/second-title"


def test_someone_elses_draft_is_404_at_every_address(app, client, auth):
    draft = add_post(app, "Secret", username="bob", status=DRAFT)
    auth.login("alice")
    for path in (f"/posts/{draft.id}", f"/posts/{draft.id}/secret"):
        assert client.get(path).status_code == 404


# --- paging -------------------------------------------------------------------


def test_the_pager_says_where_you_are_and_goes_both_ways(app, client, auth):
    with time_machine.travel(1_700_000_000, tick=False) as clock:
        for n in range(25):
            add_post(app, f"Post {n:02}")
            clock.shift(1)
    auth.login()
    first = client.get("/posts/").text
    assert titles(first) == [f"Post {n:02}" for n in range(24, 14, -1)]
    assert "Page 1 · posts 1–10" in first and "Newer posts" not in first
    older = html.unescape(re.search(r'href="([^"]+)" rel="next"', first).group(1))
    second = client.get(older).text
    assert titles(second) == [f"Post {n:02}" for n in range(14, 4, -1)]
    assert "Page 2 · posts 11–20" in second
    assert 'href="/posts/" rel="prev">← Newer posts' in second
    third = client.get(html.unescape(
        re.search(r'href="([^"]+)" rel="next"', second).group(1))).text
    assert titles(third) == [f"Post {n:02}" for n in range(4, -1, -1)]
    assert "Page 3 · posts 21–25" in third and 'rel="next"' not in third
    back = client.get(html.unescape(
        re.search(r'href="([^"]+)" rel="prev"', third).group(1))).text
    assert titles(back) == titles(second) and "Page 2 · posts 11–20" in back


def test_a_short_list_says_how_many_posts_it_holds(app, client, auth):
    add_post(app, "Only")
    auth.login()
    page = client.get("/posts/").text
    assert '<p class="where">1 post</p>' in page and 'class="pager"' not in page


# --- dates, "updated" and reading time ---------------------------------------------


def test_dates_are_relative_with_the_exact_time_in_a_time_element(app, client, auth):
    with time_machine.travel("2026-03-04 11:05:00Z", tick=False):
        post = add_post(app, "Dated")
    with time_machine.travel("2026-03-04 14:06:00Z", tick=False):
        auth.login()
        page = client.get(f"/posts/{post.id}/dated").text
        listing = client.get("/posts/").text
    element = ('<time datetime="2026-03-04T11:05:00.000Z" '
               'title="4 March 2026, 11:05 UTC">3 hours ago</time>')
    assert element in page and element in listing


def test_updated_shows_only_for_a_real_change_well_after_publishing(app, client, auth):
    with time_machine.travel("2026-03-04 10:00:00Z", tick=False):
        post = add_post(app, "Stable", body="First words")

    def save(at: str, body: str) -> str:
        with time_machine.travel(at, tick=False):
            auth.login()
            token = auth.csrf_token(f"/posts/{post.id}/edit")
            client.post(f"/posts/{post.id}/edit", data={
                "csrf_token": token, "title": "Stable", "body": body})
            return client.get(f"/posts/{post.id}/stable").text

    assert "· updated" not in save("2026-03-04 10:05:00Z", "Fixed a typo")
    assert "· updated" not in save("2026-03-04 10:30:00Z", "Fixed a typo")  # same
    page = save("2026-03-04 11:00:00Z", "A new paragraph")
    assert re.search(r'· updated <time datetime="2026-03-04T11:00:00.000Z"', page)


def test_reading_time_is_on_posts_and_excerpts(app, client, auth):
    add_post(app, "Long", body="word " * 1150)
    add_post(app, "Short", body="A few words.")
    auth.login()
    listing = client.get("/posts/").text
    for title, minutes in [("Long", 5), ("Short", 1)]:
        card = re.search(rf"{title}</a></h2>\s*<p class=\"meta\">(.*?)</p>", listing,
                         re.S).group(1)
        assert card.rstrip().endswith(f"· {minutes} min read")
