"""The messages at login and logout (blog/auth.py): "Signed in as <name>." on the page
the login lands on, "You have signed out." on the landing page that Cognito's /logout
sends the browser back to, each shown once.

docs/SECURITY.md: Logout, Sessions and cookies.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator

import pytest
import time_machine

from blog.auth import SIGNED_OUT_FOR
from blog.auth import signed_out_signer
from tests.support.localsite import BrowsedSite
from tests.support.localsite import started

SIGNED_OUT = "You have signed out."


def statuses(response) -> list[str]:
    """The status messages a page (Flask's or requests' response) shows, as text."""
    found = re.findall(r'<p class="flash[^"]*" role="status">(.*?)</p>', response.text,
                       re.S)  # fmt: skip
    return [html.unescape(text) for text in found]


def test_the_page_after_login_says_who_signed_in_once(auth, client):
    response = auth.callback(auth.start("/posts/new"), name="Ada <Lovelace>")
    assert response.headers["Location"] == "/posts/new"
    page = client.get("/posts/new")
    assert statuses(page) == ["Signed in as Ada <Lovelace>."]
    assert "Ada &lt;Lovelace&gt;" in page.get_data(as_text=True)
    assert statuses(client.get("/posts/new")) == []


def test_the_landing_page_after_logout_says_so_once(auth, client):
    auth.callback(auth.start())
    client.get("/posts/")
    response = auth.logout()
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie")
                 if c.startswith("__Host-signed-out=")]  # fmt: skip
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "path", "samesite", "max-age"} <= attributes
    assert f"Max-Age={SIGNED_OUT_FOR}" in cookie and "Domain" not in cookie

    landing = client.get("/")
    assert statuses(landing) == [SIGNED_OUT]
    assert "Log in or sign up" in landing.get_data(as_text=True)
    assert landing.headers["Cache-Control"] == "no-store"
    (deletion,) = landing.headers.getlist("Set-Cookie")
    assert deletion.startswith("__Host-signed-out=;") and "Max-Age=0" in deletion
    again = client.get("/")
    assert statuses(again) == [] and again.headers.getlist("Set-Cookie") == []


def test_a_visitor_who_did_not_log_out_gets_no_message_and_no_cookie(client):
    response = client.get("/")
    assert statuses(response) == []
    assert response.headers.getlist("Set-Cookie") == []


def signed_out_value(app, at: float) -> str:
    with time_machine.travel(at, tick=False), app.test_request_context():
        return signed_out_signer().dumps(True)


@pytest.mark.parametrize("age", [0, SIGNED_OUT_FOR - 1])
def test_a_fresh_signed_cookie_shows_the_message(app, client, age):
    client.set_cookie("__Host-signed-out", signed_out_value(app, time.time() - age),
                      domain="blog.example")  # fmt: skip
    assert statuses(client.get("/")) == [SIGNED_OUT]


@pytest.mark.parametrize("value", ["True", "dHJ1ZQ.forged.signature", "old"])
def test_a_forged_or_stale_cookie_shows_nothing_and_is_removed(app, client, value):
    if value == "old":
        value = signed_out_value(app, time.time() - SIGNED_OUT_FOR - 5)
    client.set_cookie("__Host-signed-out", value, domain="blog.example")
    response = client.get("/")
    assert statuses(response) == []
    assert client.get_cookie("__Host-signed-out", domain="blog.example") is None


@pytest.fixture
def site(tmp_path) -> Iterator[BrowsedSite]:
    with started(BrowsedSite, tmp_path, "alice@example.com") as site:
        yield site


def test_both_messages_through_the_local_cognito(site):
    """Over HTTP: the session ends before Cognito's /logout, whose redirect back to
    `<base>/` still brings the message."""
    assert statuses(site.login("alice@example.com")) == ["Signed in as Alice."]
    landing = site.logout()
    assert landing.url == site.base + "/"
    assert any("/_cognito/logout?" in hop.url for hop in landing.history)
    assert statuses(landing) == [SIGNED_OUT]
    assert statuses(site.get("/")) == []
    assert [cookie.name for cookie in site.browser.cookies if cookie.path == "/"] == []
