"""Social sign-in, the blog's side (README, "Sign in with Google"; docs/SECURITY.md,
"Federated members"): "Continue with Google" on the sign-in entry points, members who
come through Google as Cognito's tokens describe them, the automatic group that
grants nothing, and errors sent back from the provider. Against the fake Cognito."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
from flask import Flask

from blog import create_app
from blog.config import ConfigError
from blog.markdown import prepare
from blog.storage import Author
from blog.storage import get_store
from blog.storage import member_id
from tests.support.clients import csrf_from
from tests.support.clients import query_of
from tests.support.clients import stored
from tests.support.federated import GOOGLE_ID
from tests.support.federated import automatic_group
from tests.support.federated import federated_claims
from tests.support.members import by

LINK = re.compile(r'<a class="button[^"]*" href="([^"]+)">([^<]+)</a>')


@pytest.fixture
def app(make_app) -> Flask:
    """The blog of a pool that federates Google."""
    return make_app(COGNITO_IDENTITY_PROVIDERS="Google")


def links(page: str) -> list[tuple[str, str]]:
    """The button-styled links of a page: (href, text)."""
    return [(html.unescape(href), text) for href, text in LINK.findall(page)]


def start(client, query: str) -> dict:
    """GET /auth/login?`query`; return the authorize redirect's parameters."""
    response = client.get("/auth/login?" + query)
    assert response.status_code == 302, response.text[:300]
    return query_of(response.headers["Location"])


def who(page: str) -> str:
    match = re.search(r'<span class="who" title="Signed in">([^<]*)', page)
    assert match, "no signed-in header"
    return html.unescape(match.group(1)).strip()


def write(client, title: str) -> str:
    """Publish a post through the form; return its page's path."""
    token = csrf_from(client.get("/posts/new").text)
    response = client.post("/posts/new", data={
        "csrf_token": token, "title": title, "body": "Some text"})
    assert response.status_code == 302
    return response.headers["Location"]


# --- Offering it -------------------------------------------------------------------


def test_continue_with_google_asks_cognito_for_google_with_pkce_state_and_nonce(
        auth, client, idp):
    response = client.get("/auth/login?provider=Google&next=/posts/new")
    assert response.headers["Location"].startswith(idp.domain + "/oauth2/authorize?")
    params = query_of(response.headers["Location"])
    assert params["identity_provider"] == "Google"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 22 and len(params["nonce"]) >= 43
    assert params["redirect_uri"] == "https://blog.example/auth/authorize"
    assert params["response_type"] == "code"
    assert params["scope"] == "openid email profile"
    assert "provider" not in params and "next" not in params  # `next` stays here
    back = auth.callback(params, **federated_claims(idp, name="Gina Google"))
    assert (back.status_code, back.headers["Location"]) == (302, "/posts/new")
    assert who(client.get("/posts/new").text) == "Gina Google"


def test_the_plain_sign_in_asks_for_no_provider(client):
    assert "identity_provider" not in start(client, "next=/posts/")


@pytest.mark.parametrize("query", [
    "provider=Facebook", "provider=google", "provider=GOOGLE", "provider=COGNITO",
    "provider=cognito", "provider=", "provider=Google%20", "provider=%20Google",
    "provider=Google,Facebook", "provider=Google&provider=Facebook",
    "provider=Facebook&next=/posts/new", "provider=Google%00",
])
def test_a_provider_not_offered_is_a_400_page_and_nothing_is_kept(client, idp, query):
    response = client.get("/auth/login?" + query)
    assert response.status_code == 400
    assert "That sign-in option is not offered here." in response.text
    assert '<header class="site-header">' in response.text  # the site's layout
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers
    assert client.get_cookie("__Host-session", domain="blog.example") is None
    assert idp.requests == []  # not even discovery


def test_the_landing_page_offers_continue_with_google(client):
    found = links(client.get("/").text)
    assert ("/auth/login", "Log in or sign up") in found
    # The real Google through the pool: no "(local stand-in)".
    assert ("/auth/login?provider=Google", "Continue with Google") in found


def test_without_providers_nothing_is_offered_and_provider_is_refused(make_app):
    client = make_app().test_client()
    assert "Continue with" not in client.get("/").text
    assert client.get("/auth/login?provider=Google").status_code == 400
    failed = client.get("/auth/authorize?error=access_denied")
    assert failed.status_code == 400 and "Continue with" not in failed.text
    assert ("/auth/login", "Try again") in links(failed.text)


# --- Errors from the provider, sent back by Cognito ---------------------------------


@pytest.mark.parametrize("error, description, says", [
    ("access_denied", "Google Error - access_denied Sign-in cancelled", "cancelled"),
    ("access_denied", None, "cancelled"),
    ("invalid_request", "Google Error - 400 invalid_grant Bad, used or expired code.",
     "could not complete"),
    ("invalid_request", "Invalid user attributes: email: Attribute is required",
     "could not complete"),
    ("server_error", "Google Error - 503 Service Unavailable", "could not complete"),
    ("temporarily_unavailable", "Google is down", "could not complete"),
    ("invalid_request", '<script>alert("Call +1 555 0100 to unlock")</script>',
     "could not complete"),
])
def test_an_error_sent_back_is_the_friendly_page_with_ways_to_retry(
        auth, client, idp, caplog, error, description, says):
    params = start(client, "provider=Google&next=/posts/new")
    sent = {"error": error, "error_description": description, "state": params["state"]}
    response = client.get("/auth/authorize?" + urlencode(
        {k: v for k, v in sent.items() if v is not None}))
    assert response.status_code == 400
    page = response.text
    assert "Sign-in failed" in page and says in page
    assert "Google Error" not in page and "alert" not in page and "555" not in page
    assert description is None or html.escape(description) not in page
    retry = "/auth/login?provider=Google&next=/posts/new"
    assert ("/auth/login?next=/posts/new", "Try again") in links(page)
    assert (retry, "Continue with Google") in links(page)
    assert f"sign-in failed: {error}" in caplog.text
    assert description is None or description not in caplog.text
    assert idp.count("/oauth2/token") == 0
    assert client.get("/posts/").status_code == 302  # nobody is signed in
    again = start(client, urlsplit(retry).query)  # the way back in works
    assert again["identity_provider"] == "Google"
    back = auth.callback(again, **federated_claims(idp))
    assert back.headers["Location"] == "/posts/new"


@pytest.mark.parametrize("error", ["x\nWARNING forged line", "A" * 65, "<b>"])
def test_only_a_well_formed_error_code_is_logged(client, caplog, error):
    response = client.get("/auth/authorize?" + urlencode({"error": error}))
    assert response.status_code == 400 and "Sign-in failed" in response.text
    assert "sign-in failed: unknown" in caplog.text
    assert "forged" not in caplog.text and "<b>" not in caplog.text


# --- Federated members -------------------------------------------------------------


@pytest.mark.parametrize("verified, shown", [
    (None, "Member"), (True, "gina"), (False, "Member"), ("true", "gina"),
    ("false", "Member"), (1, "Member"), ("yes", "Member"),
])
def test_a_google_member_without_a_name(auth, client, idp, verified, shown):
    claims = federated_claims(idp, email_verified=verified)
    assert "name" not in claims and claims["identities"][0]["userId"] == GOOGLE_ID
    back = auth.callback(auth.start(), sub="sub-gina", **claims)
    assert back.status_code == 302
    user = stored(client)["user"]
    assert user["name"] == shown and user["groups"] == []
    assert user["email"] == ("gina@example.com" if shown == "gina" else None)
    post = client.get(write(client, "Hello")).text
    listing = client.get("/posts/").text
    author = client.get(f"/authors/{member_id(idp.issuer, 'sub-gina')}").text
    assert who(listing) == shown and by(shown).search(post)
    for page in (post, listing, author):
        assert "Google_" not in page and GOOGLE_ID not in page
        assert "sub-gina" not in page
        assert shown == "gina" or "gina" not in page.lower()


def test_a_google_member_is_shown_by_their_name(auth, client, idp):
    auth.callback(auth.start(), **federated_claims(idp, name="Gina Google"))
    page = client.get(write(client, "Hello")).text
    assert who(page) == "Gina Google" and by("Gina Google").search(page)
    assert "Google_" not in page


def test_a_native_and_a_google_member_with_one_email_are_two_members(
        auth, client, idp):
    auth.callback(auth.start(), sub="sub-native", name="Gina",
                  email="gina@example.com", email_verified=True)
    write(client, "Native post")
    auth.callback(auth.start(), sub="sub-google",
                  **federated_claims(idp, name="Gina Google"))
    write(client, "Google post")
    native = client.get(f"/authors/{member_id(idp.issuer, 'sub-native')}").text
    google = client.get(f"/authors/{member_id(idp.issuer, 'sub-google')}").text
    assert "<h1>Gina</h1>" in native and "Native post" in native
    assert "Google post" not in native
    assert "<h1>Gina Google</h1>" in google and "Google post" in google
    assert "Native post" not in google
    native_post = client.get("/posts/").text
    assert by("Gina").search(native_post) and by("Gina Google").search(native_post)


# --- The automatic group never moderates -------------------------------------------


@pytest.fixture
def bobs_post(app: Flask) -> str:
    """A post by someone else: its id."""
    with app.app_context():
        author = Author(app.config["COGNITO_ISSUER"], "sub-bob")
        return get_store().create_post("Bob's", "Text", prepare("Text"), author,
                                       "Bob").id


def moderates(client, post_id: str) -> bool:
    """Whether the member is offered, and allowed, to delete someone else's post."""
    page = client.get(f"/posts/{post_id}", follow_redirects=True).text
    offered = f'action="/posts/{post_id}/delete"' in page
    allowed = client.get(f"/posts/{post_id}/delete").status_code == 200
    assert offered == allowed == ('<span class="badge">admin</span>' in page)
    return allowed


def test_the_automatic_group_alone_is_not_a_moderator(auth, client, idp, bobs_post):
    auth.login("gina", groups=[automatic_group(idp)])
    assert not moderates(client, bobs_post)


def test_a_google_member_in_the_admin_group_is_a_moderator(
        auth, client, idp, bobs_post):
    auth.login("gina", groups=[automatic_group(idp), "admins"])
    assert moderates(client, bobs_post)
    assert stored(client)["user"]["groups"] == ["admins"]


def test_the_automatic_group_grants_nothing_even_if_made_the_admin_group(
        app, auth, client, idp, bobs_post):
    app.config["ADMIN_GROUP"] = automatic_group(idp)  # past the start-up check
    auth.login("gina", groups=[automatic_group(idp)])
    assert not moderates(client, bobs_post)
    auth.callback(auth.start(), **federated_claims(idp))
    assert stored(client)["user"]["groups"] == []


@pytest.mark.parametrize("group", [
    "us-east-1_AbC123xyz_Google", "eu-west-2_x1_SignInWithApple",
    "ap-southeast-1_Q9_My SSO", "us-gov-west-1_AbC123xyz_Facebook",
    "pool_Google", "pool_Anything",  # the fake pool's own prefix
])
def test_an_automatic_group_as_the_admin_group_stops_start_up(make_app, group):
    with pytest.raises(ConfigError, match="BLOG_ADMIN_GROUP") as refused:
        make_app(ADMIN_GROUP=group)
    assert "<user pool id>_<provider>" in str(refused.value)


@pytest.mark.parametrize("group", [
    "admins", "moderators", "us-east-1-admins", "Google", "pool-admins",
    "us-east-1_AbC123xyz", "local-1_LocalPool_Google",  # another pool's shape
])
def test_ordinary_admin_groups_are_accepted(make_app, group):
    assert make_app(ADMIN_GROUP=group).config["ADMIN_GROUP"] == group


def test_local_mode_refuses_the_local_pools_automatic_group(tmp_path):
    settings = {"INSTANCE_PATH": str(tmp_path / "instance")}
    with pytest.raises(ConfigError, match="BLOG_ADMIN_GROUP"):
        create_app({**settings, "ADMIN_GROUP": "local-1_LocalPool_Google"})
    assert create_app({**settings, "ADMIN_GROUP": "admins"})

