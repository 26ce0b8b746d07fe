"""CSRF (blog/csrf.py): forged writes change nothing; exemptions are on purpose.

The rule is in blog/csrf.py: routes acting on the session cookie need the session's
token and, when an Origin is sent, our own; the JSON API (bearer tokens, no cookie) and
the local Cognito (its own token and cookie) are exempt from both checks.
"""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
import requests

from tests.support.clients import bearer
from tests.support.clients import csrf_from
from tests.support.clients import post_path
from tests.support.forms import find_form
from tests.support.localsite import PASSWORD
from tests.support.localsite import LocalSite
from tests.support.localsite import started

FOREIGN = "https://evil.example"


@pytest.fixture
def alices_post(app, client, auth) -> str:
    """alice, logged in, with one post; returns the post's path."""
    auth.login("alice")
    token = csrf_from(client.get("/posts/new").text)
    response = client.post(
        "/posts/new", data={"csrf_token": token, "title": "Mine", "body": "Original"}
    )
    assert response.status_code == 302
    return post_path(response.headers["Location"])


def forged_requests(client, auth, app, idp, post: str) -> dict[str, dict]:
    """Per attack, the form data and headers it sends (besides the target route)."""
    own = csrf_from(client.get(post + "/edit").text)
    other = app.test_client()
    type(auth)(other, idp).login("mallory")
    stolen = csrf_from(other.get("/posts/new").text)
    return {
        "no token": {"data": {}, "headers": {}},
        "another session's token": {"data": {"csrf_token": stolen}, "headers": {}},
        "foreign Origin": {"data": {"csrf_token": own}, "headers": {"Origin": FOREIGN}},
        "opaque Origin": {"data": {"csrf_token": own}, "headers": {"Origin": "null"}},
    }


@pytest.mark.parametrize(
    "attack", ["no token", "another session's token", "foreign Origin", "opaque Origin"]
)
@pytest.mark.parametrize("route", ["new", "edit", "delete"])
def test_forged_write_is_refused_and_changes_nothing(
    app, client, auth, idp, alices_post, attack, route
):
    forged = forged_requests(client, auth, app, idp, alices_post)[attack]
    path = "/posts/new" if route == "new" else f"{alices_post}/{route}"
    data = {"title": "Forged", "body": "Forged body", **forged["data"]}
    response = client.post(path, data=data, headers=forged["headers"])
    assert response.status_code in (400, 403)
    listing = client.get("/posts/").text
    assert "Forged" not in listing and "Mine" in listing
    assert "Original" in client.get(alices_post, follow_redirects=True).text


def test_the_same_write_with_its_token_and_origin_goes_through(client, alices_post):
    """The attacks above are refused for what they lack, not for being writes."""
    token = csrf_from(client.get(alices_post + "/edit").text)
    response = client.post(
        alices_post + "/edit",
        data={"csrf_token": token, "title": "Mine", "body": "Edited"},
        headers={"Origin": "https://blog.example"},
    )
    assert response.status_code == 302
    assert "Edited" in client.get(alices_post, follow_redirects=True).text


@pytest.mark.parametrize("sent", [FOREIGN, "null"])
def test_api_call_is_served_whatever_its_origin(client, idp, sent):
    response = client.post(
        "/api/posts",
        json={"title": "From a script", "body": "Hello"},
        headers={**bearer(idp), "Origin": sent},
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def hosted_login_form(site: LocalSite, browser: requests.Session) -> tuple[str, dict]:
    """Start a login at the blog; return the local Cognito's form action and fields."""
    answer = browser.get(site.url("/auth/login"), allow_redirects=False)
    while answer.status_code == 302 and "/login?" not in answer.headers["Location"]:
        answer = browser.get(
            urljoin(site.base, answer.headers["Location"]), allow_redirects=False
        )
    form = find_form(browser.get(urljoin(site.base, answer.headers["Location"])))
    return form.action, form.fields


@pytest.fixture
def site(tmp_path):
    with started(LocalSite, tmp_path, "alice@example.com") as site:
        yield site


def test_local_cognito_form_is_guarded_by_its_own_token(site):
    browser = requests.Session()
    action, fields = hosted_login_form(site, browser)
    without = {
        **fields, "_csrf": "", "username": "alice@example.com", "password": PASSWORD
    }
    refused = browser.post(
        action, data=without, headers={"Origin": site.base}, allow_redirects=False
    )
    assert refused.status_code == 400 and "expired" in refused.text
    # With its token, the form is served even from another origin (as on Cognito's
    # own domain): the blog's Origin rule is not what protects it.
    action, fields = hosted_login_form(site, browser)
    signed_in = browser.post(
        action,
        data={**fields, "username": "alice@example.com", "password": PASSWORD},
        headers={"Origin": FOREIGN},
        allow_redirects=False,
    )
    assert signed_in.status_code in (302, 303)


# --- logout: the token and the Origin check of blog/csrf.py ---


def test_foreign_origin_is_refused_even_with_token(auth, client):
    auth.login()
    token = auth.csrf_token()
    response = client.post(
        "/auth/logout",
        data={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert client.get("/posts/").status_code == 200


def test_csrf_token_of_another_session_is_refused(app, auth, client, idp):
    other = app.test_client()
    other_auth = type(auth)(other, idp)
    other_auth.login(username="bob")
    token = other_auth.csrf_token()
    auth.login()
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 400
