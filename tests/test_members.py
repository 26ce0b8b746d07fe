"""Display names (README.md, "Try it locally"; docs/SECURITY.md, "Identity and
authorisation"): the rule, the header, bylines and the API's author, through the real
callback with tokens from the fake Cognito."""

from __future__ import annotations

import html
import re
import time
import uuid

import pytest

from blog.members import display_name
from blog.storage import PostsUnavailable
from blog.storage import get_store
from blog.storage import member_id
from tests.support.clients import csrf_from
from tests.support.members import SUB
from tests.support.members import UUID_USERNAME
from tests.support.members import by
from tests.support.members import login
from tests.support.members import script_bearer as bearer


@pytest.mark.parametrize("claims, shown", [
    ({"name": "Ann Lee", "preferred_username": "ann", "email": "a@x.example",
      "email_verified": True}, "Ann Lee"),
    ({"name": "  Ann \n  Lee "}, "Ann Lee"),
    ({"name": " ", "preferred_username": "ann_l", "email": "a@x.example",
      "email_verified": True}, "ann_l"),
    ({"email": "ann.lee+blog@x.example", "email_verified": True}, "ann.lee+blog"),
    ({"email": "ann@x.example", "email_verified": False}, "Member"),
    ({"email": "ann@x.example", "email_verified": "true"}, "ann"),  # as mapped
    ({"email": "ann@x.example", "email_verified": "false"}, "Member"),
    ({"email": "ann@x.example", "email_verified": "True"}, "Member"),  # exactly
    ({"email": "ann@x.example"}, "Member"),
    ({"name": 42, "preferred_username": ["ann"]}, "Member"),
    ({}, "Member"),
])
def test_the_display_name_rule(claims, shown) -> None:
    assert display_name({"sub": SUB, **claims}) == shown


@pytest.mark.parametrize("verified, shown", [(False, "Member"), (True, "dana")])
def test_a_deployed_pool_token_never_shows_its_username_or_sub(verified, shown) -> None:
    claims = {"sub": SUB, "cognito:username": UUID_USERNAME, "email": "dana@x.example",
              "email_verified": verified, "token_use": "id"}
    assert display_name(claims) == shown
    access = {"sub": SUB, "username": UUID_USERNAME, "token_use": "access"}
    assert display_name(access) == "Member"


def test_a_long_name_is_cut_to_a_hundred_characters() -> None:
    assert display_name({"name": "x" * 300}) == "x" * 100


def who(page: str) -> str:
    """The name the header shows."""
    match = re.search(r'<span class="who" title="Signed in">([^<]*)', page)
    assert match, "no signed-in header"
    return html.unescape(match.group(1)).strip()


def write(client, title: str) -> str:
    """Publish a post through the form; return its page's path."""
    token = csrf_from(client.get("/posts/new").get_data(as_text=True))
    response = client.post("/posts/new", data={
        "csrf_token": token, "title": title, "body": "Some text"})
    assert response.status_code == 302
    return response.headers["Location"]


@pytest.mark.parametrize("email_verified, shown", [(False, "Member"), (True, "dana")])
def test_deployed_shape_token_in_header_and_bylines(auth, client, email_verified,
                                                    shown):
    login(auth, **{"cognito:username": UUID_USERNAME, "email": "dana@x.example",
                   "email_verified": email_verified})
    detail = client.get(write(client, "Hello")).get_data(as_text=True)
    listing = client.get("/posts/").get_data(as_text=True)
    delete = client.get(re.search(r'action="([^"]+/delete)"', detail)[1]).text
    assert who(listing) == shown and by(shown).search(listing)
    assert by(shown).search(detail) and f"by {shown} will be removed" in delete
    for page in (listing, detail, delete):
        assert UUID_USERNAME not in page and SUB not in page
        assert email_verified or "dana" not in page


def test_a_new_name_shows_on_old_posts_after_the_next_login(auth, client, idp):
    login(auth, name="Ann Lee")
    path = write(client, "An old post")
    login(auth, name="Ann Smith")
    listing = client.get("/posts/").get_data(as_text=True)
    detail = client.get(path).get_data(as_text=True)
    assert by("Ann Smith").search(listing) and by("Ann Smith").search(detail)
    assert "Ann Lee" not in listing + detail and who(listing) == "Ann Smith"
    api = client.get("/api/posts", headers=bearer(idp)).get_json()["items"]
    assert [post["author"] for post in api] == [
        {"id": member_id(idp.issuer, SUB), "name": "Ann Smith"}]


def test_the_api_names_a_script_author_by_the_page_login(auth, client, idp):
    created = client.post("/api/posts", headers=bearer(idp),
                          json={"title": "From a script", "body": "b"}).get_json()
    assert created["author"] == {"id": member_id(idp.issuer, SUB), "name": "Member"}
    login(auth, name="Ann Lee")
    again = client.get(f"/api/posts/{created['id']}", headers=bearer(idp)).get_json()
    assert again["author"] == {"id": member_id(idp.issuer, SUB), "name": "Ann Lee"}
    posted = client.post("/api/posts", headers=bearer(idp),
                         json={"title": "Later", "body": "b"}).get_json()
    assert posted["author"]["name"] == "Ann Lee"
    page = client.get(f"/posts/{created['id']}", follow_redirects=True).text
    assert by("Ann Lee").search(page)


def test_login_records_the_member(app, auth, client, idp):
    login(auth, name="Ann Lee")
    with client.session_transaction() as session:
        user = session["user"]
    assert (user["name"], user["member_id"]) == ("Ann Lee", member_id(idp.issuer, SUB))
    assert "username" not in user
    with app.app_context():
        member = get_store().get_member(user["member_id"])
    assert (member.iss, member.sub, member.name) == (idp.issuer, SUB, "Ann Lee")
    assert member.first_seen == member.last_login


def expire_and_refresh(auth, client, idp, **claims) -> None:
    """Let the stored ID token expire; the refresh brings one with `claims`."""
    now = int(time.time())
    with client.session_transaction() as session:
        session["tokens"] = {**session["tokens"], "id_token": idp.id_token(
            sub=SUB, exp=now - 600, iat=now - 4200)}
    idp.token_response = {"id_token": idp.id_token(sub=SUB, **claims),
                          "access_token": "new-access", "token_type": "Bearer",
                          "expires_in": 3600}


def saves(app, monkeypatch) -> list[tuple]:
    """The member records the app writes from now on."""
    seen: list[tuple] = []
    with app.app_context():
        store_class = type(get_store())
    original = store_class.save_member
    monkeypatch.setattr(store_class, "save_member", lambda self, *args: (
        seen.append(args), original(self, *args))[1])
    return seen


def test_a_refresh_renames_the_member_only_if_the_name_changed(
        app, auth, client, idp, monkeypatch):
    login(auth, name="Ann Lee")
    write(client, "Hello")
    recorded = saves(app, monkeypatch)
    for _ in range(3):
        assert client.get("/posts/").status_code == 200
    expire_and_refresh(auth, client, idp, name="Ann Lee")
    assert client.get("/posts/").status_code == 200
    assert recorded == []  # reading pages, and a refresh with the same name
    expire_and_refresh(auth, client, idp, name="Ann Smith")
    page = client.get("/posts/").get_data(as_text=True)
    assert who(page) == "Ann Smith" and by("Ann Smith").search(page)
    assert [(name, login) for _, name, login in recorded] == [("Ann Smith", False)]


def test_a_session_from_before_display_names_is_upgraded(
        app, auth, client, idp, monkeypatch):
    # What sessions held before: `username` (a UUID on the deployed pool), no name.
    auth.login(UUID_USERNAME, sub=SUB, name="Ann Lee")
    with client.session_transaction() as session:
        session["user"] = {**session["user"], "email": None}
    recorded = saves(app, monkeypatch)
    assert who(client.get("/").get_data(as_text=True)) == "Member"
    page = client.get(write(client, "Hello")).get_data(as_text=True)
    assert who(page) == "Ann Lee" and by("Ann Lee").search(page)
    assert who(client.get("/").get_data(as_text=True)) == "Ann Lee"
    assert UUID_USERNAME not in page
    assert recorded == []  # no store write on the way: the next login records it


def test_a_busy_store_does_not_block_the_sign_in(app, auth, client, monkeypatch):
    with app.app_context():
        store_class = type(get_store())

    def busy(*args):
        raise PostsUnavailable()

    monkeypatch.setattr(store_class, "save_member", busy)
    login(auth, name="Ann Lee")
    monkeypatch.undo()
    detail = client.get(write(client, "Hello")).get_data(as_text=True)
    assert by("Ann Lee").search(detail)  # the name the post saved, till it's recorded


def test_posts_by_someone_else_show_their_name_not_mine(auth, client, idp):
    login(auth, sub=str(uuid.uuid4()), name="Bea")
    write(client, "Bea's")
    login(auth, name="Ann Lee")
    page = client.get("/posts/").get_data(as_text=True)
    assert by("Bea").search(page) and who(page) == "Ann Lee"
