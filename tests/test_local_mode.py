"""The whole login flow in local mode: blog and local Cognito on one real server."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import click
import jwt
import pytest
import requests
import time_machine

from blog import create_app
from blog.api.token_command import challenge
from tests.support.clients import query_of
from tests.support.forms import submit
from tests.support.localsite import BrowsedSite
from tests.support.localsite import started


@pytest.fixture
def site(tmp_path) -> Iterator[BrowsedSite]:
    with started(BrowsedSite, tmp_path, "alice@example.com") as site:
        yield site


def test_login_through_local_cognito_lands_on_next(site):
    response = site.login("alice@example.com", "/posts/new")
    assert response.status_code == 200
    assert response.url == site.base + "/posts/new"
    assert "Log out" in response.text
    assert '<span class="who" title="Signed in">Alice' in response.text  # `name`
    assert [r.status_code for r in response.history][-2:] == [302, 302]


def test_authorize_request_carries_pkce_state_and_nonce(site):
    response = site.get("/auth/login")
    authorize = next(r for r in response.history if "/oauth2/authorize" in r.url)
    params = query_of(authorize.url)
    assert params["code_challenge_method"] == "S256"
    assert params["redirect_uri"] == site.base + "/auth/authorize"
    assert params["state"] and params["nonce"]


def test_session_cookie_is_the_only_blog_cookie(site):
    site.login("alice@example.com")
    blog_cookies = [c for c in site.browser.cookies if c.path == "/"]
    assert [c.name for c in blog_cookies] == ["session"]
    assert "eyJ" not in blog_cookies[0].value
    assert all(
        len(r.headers.get("Set-Cookie", "").split(", session=")) <= 1 for r in site.seen
    )


def test_wrong_password_stays_on_provider_page(site):
    page = site.get("/posts/")
    response = site.submit(
        page, username="alice@example.com", password="Wrong-passw0rd!"
    )
    assert "/_cognito/login" in response.url
    assert site.get("/posts/").url.startswith(site.base + "/_cognito/login")


def test_logout_ends_blog_and_provider_sessions(site):
    site.login("alice@example.com")
    response = site.logout()
    assert response.url == site.base + "/"
    hops = [r.url for r in response.history]
    assert any("/_cognito/logout?client_id=" in url for url in hops)
    again = site.get("/posts/")
    assert "/_cognito/login" in again.url and 'name="password"' in again.text


def test_old_cookie_is_useless_after_logout(site):
    site.login("alice@example.com")
    old = site.browser.cookies.get("session", path="/")
    site.logout()
    replay = requests.get(
        site.base + "/posts/",
        cookies={"session": old},
        allow_redirects=False,
        timeout=10,
    )
    assert replay.status_code == 302
    assert replay.headers["Location"].startswith("/auth/login")


def test_refresh_token_is_revoked_at_logout(site):
    site.login("alice@example.com")
    with site.app.test_request_context():
        pass
    sid = site.browser.cookies.get("session", path="/")
    record = site.app.session_interface.cache.get("session:" + sid)
    refresh_token = record["tokens"]["refresh_token"]
    site.logout()
    config = site.app.config
    answer = requests.post(
        config["COGNITO_DOMAIN"] + "/oauth2/token",
        timeout=10,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(config["COGNITO_CLIENT_ID"], config["COGNITO_CLIENT_SECRET"]),
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_expired_id_token_is_refreshed_through_local_cognito(site):
    site.app.config["SESSION_IDLE_TIMEOUT"] = 10**6
    site.login("alice@example.com")
    sid = site.browser.cookies.get("session", path="/")
    before = site.app.session_interface.cache.get("session:" + sid)["tokens"][
        "id_token"
    ]
    with time_machine.travel(time.time() + 3700):
        response = site.get("/posts/")
        assert response.status_code == 200 and response.url == site.base + "/posts/"
    after = site.app.session_interface.cache.get("session:" + sid)["tokens"]["id_token"]
    assert after != before


def test_other_loopback_spelling_is_sent_to_the_bound_one(site):
    site.get("/")
    port = site.port
    response = requests.get(
        f"http://localhost:{port}/posts/?x=1", allow_redirects=False, timeout=10
    )
    assert response.status_code == 302
    assert response.headers["Location"] == site.base + "/posts/?x=1"


def test_non_loopback_host_is_refused(site):
    response = requests.get(
        site.base + "/", headers={"Host": "evil.example"}, timeout=10
    )
    assert response.status_code == 400


def test_no_token_or_code_reaches_a_page(site):
    site.login("alice@example.com")
    site.get("/")
    site.logout()
    for response in site.seen:
        if "/_cognito/" in response.url:
            continue  # the provider's own redirects carry the code, as Cognito's do
        blob = response.text + str(response.headers)
        assert "eyJ" not in blob and "code=" not in blob


def test_server_log_shows_no_codes_or_states(site, caplog):
    caplog.set_level("INFO", logger="werkzeug")
    site.login("alice@example.com")
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/auth/authorize" in line for line in lines)
    assert not any("code=" in line or "state=" in line for line in lines)


def test_flask_run_says_in_one_line_where_to_go(tmp_path, capsys):
    run = click.Context(click.Command("run"), info_name="run")
    run.params = {"host": "127.0.0.1", "port": 5000}
    with run:
        create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    (line,) = capsys.readouterr().out.splitlines()
    assert "open http://127.0.0.1:5000" in line
    assert "http://127.0.0.1:5000/_cognito/outbox" in line


def test_other_commands_and_tests_stay_quiet(tmp_path, capsys):
    create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    with click.Context(click.Command("routes"), info_name="routes"):
        create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert capsys.readouterr().out == ""


def test_federated_sign_in_runs_inside_the_blogs_server(tmp_path):
    """BLOG_COGNITO_IDENTITY_PROVIDERS=Google: the look-alike Google is served with the
    blog (its form passes the blog's CSRF and Origin rules), and the local Cognito
    answers the blog's request with a code and the blog's state."""
    site = BrowsedSite(tmp_path, COGNITO_IDENTITY_PROVIDERS="Google")
    try:
        site.get("/")  # binds the blog to its URL and app client
        config, verifier = site.app.config, secrets.token_urlsafe(36)
        params = {
            "response_type": "code",
            "client_id": config["COGNITO_CLIENT_ID"],
            "redirect_uri": site.url("/auth/authorize"),
            "scope": "openid email profile",
            "state": "blog-state",
            "nonce": "blog-nonce",
            "code_challenge": challenge(verifier),
            "code_challenge_method": "S256",
            "identity_provider": "Google",
        }
        authorize = site.url("/_cognito/oauth2/authorize?" + urlencode(params))
        to_google = site.browser.get(authorize, allow_redirects=False)
        page = site.browser.get(to_google.headers["Location"])
        assert "Local stand-in for Google — not Google" in page.text
        assert "Content-Security-Policy" in page.headers
        fields = {"email": "gina@example.com", "name": "Gina"}
        back = submit(site.browser, page, fields, allow_redirects=False,
                      headers={"Origin": site.base})
        answer = site.browser.get(back.headers["Location"], allow_redirects=False)
        assert answer.headers["Location"].startswith(site.url("/auth/authorize?"))
        sent = query_of(answer.headers["Location"])
        assert sent["state"] == "blog-state"
        token = requests.post(
            site.url("/_cognito/oauth2/token"),
            data={"grant_type": "authorization_code", "code": sent["code"],
                  "redirect_uri": params["redirect_uri"], "code_verifier": verifier},
            auth=(config["COGNITO_CLIENT_ID"], config["COGNITO_CLIENT_SECRET"]),
            timeout=10,
        ).json()
        claims = jwt.decode(token["id_token"], options={"verify_signature": False})
        assert claims["cognito:username"].startswith("Google_")
        assert claims["nonce"] == "blog-nonce" and claims["name"] == "Gina"
        added = site.app.test_cli_runner().invoke(args=[
            "local-cognito", "add-federated-user", "--provider", "Google",
            "hal@example.com", "--name", "Hal"])
        assert added.exit_code == 0, added.output
    finally:
        site.close()
