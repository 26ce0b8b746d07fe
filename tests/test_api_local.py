"""The API with real tokens: the local Cognito over HTTP and the `api-token` command."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest
import requests
import time_machine

from blog import localcognito
from blog.api.token_command import sign_in
from tests.support.localsite import PASSWORD
from tests.support.localsite import BrowsedSite
from tests.support.localsite import api_token
from tests.support.localsite import started


@pytest.fixture
def site(tmp_path) -> Iterator[BrowsedSite]:
    with started(BrowsedSite, tmp_path, "alice@example.com") as site:
        yield site


def call(site: BrowsedSite, method: str, path: str, token: str,
         **kwargs) -> requests.Response:
    return requests.request(method, site.base + path, timeout=10, **kwargs,
                            headers={"Authorization": f"Bearer {token}"})


def test_api_token_prints_an_access_token_the_api_accepts(site) -> None:
    token = api_token(site, "alice@example.com")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["token_use"] == "access" and "aud" not in claims
    assert claims["client_id"] == site.app.config["COGNITO_CLIENT_ID"]
    assert claims["iss"] == site.base + "/_cognito"
    created = call(site, "POST", "/api/posts", token, json={"title": "Hi", "body": "b"})
    assert created.status_code == 201
    # No page login yet, and the access token names no one: never its username.
    assert created.json()["author"]["name"] == "Member"
    assert claims["username"] not in created.text  # the generated username, never shown
    listed = call(site, "GET", "/api/posts", token)
    assert [post["id"] for post in listed.json()["items"]] == [created.json()["id"]]


def test_api_token_asks_for_the_password(site) -> None:
    site.add_user("bob@example.com")
    result = site.app.test_cli_runner().invoke(args=[
        "api-token", "bob@example.com", "--url", site.base], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert call(site, "GET", "/api/posts", token).status_code == 200


@pytest.mark.parametrize("username,password", [("alice@example.com", "Wrong-passw0rd!"),
                                               ("nobody@example.com", PASSWORD)])
def test_api_token_refuses_bad_credentials(site, username, password) -> None:
    result = site.app.test_cli_runner().invoke(args=[
        "api-token", username, "--password", password, "--url", site.base])
    assert result.exit_code == 1 and "Sign-in failed" in result.output


def test_api_token_needs_a_running_loopback_server(site) -> None:
    runner = site.app.test_cli_runner()
    result = runner.invoke(args=["api-token", "alice@example.com", "--password",
                                 PASSWORD, "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "Cannot reach the blog" in result.output
    result = runner.invoke(args=["api-token", "alice@example.com", "--password",
                                 PASSWORD, "--url", "http://blog.example"])
    assert result.exit_code == 2 and "--url" in result.output


def test_id_token_of_the_same_login_is_refused(site) -> None:
    client = localcognito.ensure_client(site.app, site.base)
    tokens = sign_in(site.base, client, "alice@example.com", PASSWORD)
    assert call(site, "GET", "/api/posts", tokens["access_token"]).status_code == 200
    response = call(site, "GET", "/api/posts", tokens["id_token"])
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["Content-Type"] == "application/problem+json"


def test_expired_access_token_is_refused(site) -> None:
    token = api_token(site, "alice@example.com")
    with time_machine.travel(time.time() + 3700):
        response = call(site, "GET", "/api/posts", token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_permissions_with_real_tokens(site) -> None:
    site.add_user("bob@example.com")
    site.add_user("mod@example.com", "admins")
    alice, bob, mod = (api_token(site, f"{name}@example.com")
                       for name in ("alice", "bob", "mod"))
    post = call(site, "POST", "/api/posts", alice, json={"title": "T", "body": "B"})
    path = post.headers["Location"]
    assert call(site, "PATCH", path, bob, json={"title": "X"}).status_code == 403
    assert call(site, "DELETE", path, bob).status_code == 403
    edited = call(site, "PATCH", path, alice, json={"title": "New"})
    assert edited.status_code == 200 and edited.json()["title"] == "New"
    assert call(site, "DELETE", path, mod).status_code == 204
    assert call(site, "GET", path, alice).status_code == 404


def test_logged_in_browser_gets_401_from_the_api(site) -> None:
    site.login("alice@example.com")
    response = site.browser.get(site.base + "/api/posts", timeout=10)
    assert response.status_code == 401
