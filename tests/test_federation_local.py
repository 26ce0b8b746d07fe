"""Signing in with Google over real HTTP in local mode: the blog, its local Cognito
and the look-alike Google on one server (BLOG_COGNITO_IDENTITY_PROVIDERS=Google
reaches all three), as a browser goes through them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from tests.support.clients import query_of
from tests.support.localsite import BrowsedSite

LINK = re.compile(r'<a class="button[^"]*" href="([^"]+)">([^<]+)</a>')
STAND_IN = "Continue with Google (local stand-in)"


@pytest.fixture
def site(tmp_path) -> Iterator[BrowsedSite]:
    """Google federated; gina@example.com also has an account of the pool ("Gina")."""
    site = BrowsedSite(tmp_path, COGNITO_IDENTITY_PROVIDERS="Google")
    site.add_user("gina@example.com")
    yield site
    site.close()


def links(page: str) -> list[tuple[str, str]]:
    return [(html.unescape(href), text) for href, text in LINK.findall(page)]


def who(page: str) -> str | None:
    match = re.search(r'<span class="who" title="Signed in">([^<]*)', page)
    return match and html.unescape(match.group(1)).strip()


def author_page(site: BrowsedSite, post: str) -> str:
    """The author page the post's byline links to."""
    href = re.search(r'By <a href="(/authors/[a-z2-7]{24})">', post)[1]
    return site.get(href).text


def test_continue_with_google_signs_in_publishes_and_moderates_nothing(site):
    site.login("gina@example.com", "/posts/new")  # the pool's own Gina writes first
    native = site.publish("Written with a password")
    site.logout()

    offered = links(site.get("/").text)
    assert ("/auth/login?provider=Google", STAND_IN) in offered
    page = site.get("/auth/login?provider=Google&next=/posts/new")
    asked = next(r for r in page.history if "/_cognito/oauth2/authorize?" in r.url)
    params = query_of(asked.url)
    assert params["identity_provider"] == "Google"
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    assert params["state"] and params["nonce"]
    assert page.url.startswith(site.url("/_lookalike/Google/authorize?"))

    back = site.sign_in_at_stand_in(page, "gina@example.com", "Gina Google")
    assert back.url == site.url("/posts/new")
    hops = [r.url.split("?")[0] for r in back.history]
    assert site.url("/_cognito/oauth2/idpresponse") in hops
    assert site.url("/auth/authorize") in hops
    assert who(back.text) == "Gina Google" and "Signed in as Gina Google." in back.text

    post = site.publish("Written with Google")
    mine = author_page(site, post.text)
    assert "<h1>Gina Google</h1>" in mine and "Written with Google" in mine
    assert "Written with a password" not in mine  # one email, two members
    theirs = author_page(site, native.text)
    assert "<h1>Gina</h1>" in theirs and "Written with Google" not in theirs

    other = site.get(native.url)  # the other Gina's post: not Google Gina's to delete
    assert "Written with a password" in other.text
    assert "/delete" not in other.text and 'class="badge">admin<' not in other.text
    assert all("Google_" not in seen.text for seen in site.seen)


def test_cancel_at_the_stand_in_ends_on_the_friendly_page(site):
    page = site.get("/auth/login?provider=Google&next=/posts/new")
    back = site.submit(page, action="cancel", email="")
    assert back.status_code == 400 and back.url.startswith(site.url("/auth/authorize?"))
    assert "Sign-in failed" in back.text and "cancelled" in back.text
    assert "Google Error" not in back.text and "Sign-in cancelled" not in back.text
    assert ("/auth/login?provider=Google&next=/posts/new", STAND_IN) in links(back.text)
    assert who(back.text) is None
