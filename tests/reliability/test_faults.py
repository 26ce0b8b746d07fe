"""What users see when Cognito, its keys endpoint or the posts database misbehave."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from blog import cognito
from blog import jwks
from blog.storage import sqlite as sqlite_store
from tests.support.clients import csrf_from

NOT_ANSWERING = "The sign-in service is not answering"


def logged_in_as(client, name: str) -> bool:
    page = client.get("/posts/")
    return page.status_code == 200 and f'title="Signed in">{name}' in page.text


def session_user(client) -> object:
    with client.session_transaction() as session:
        return session.get("user")


# --- the identity provider down during login ------------------------------------------


def test_provider_down_before_login_then_back(auth, idp):
    idp.down()
    page = auth.client.get("/auth/login")
    assert page.status_code == 503
    assert NOT_ANSWERING in page.text and 'href="/auth/login">Try again' in page.text
    idp.up()
    auth.callback(auth.start(), sub="sub-alice")
    assert logged_in_as(auth.client, "alice")


def test_token_endpoint_down_at_callback_then_retry(auth, idp):
    params = auth.start()  # the user is at the Hosted UI when Cognito goes down
    idp.down()
    page = auth.callback(params)
    assert page.status_code == 503 and NOT_ANSWERING in page.text
    assert "Traceback" not in page.text and session_user(auth.client) is None
    idp.up()
    retry = auth.callback(auth.start("/posts/new"))
    assert retry.status_code == 302 and retry.headers["Location"] == "/posts/new"
    assert logged_in_as(auth.client, "alice")


def test_keys_endpoint_down_at_first_login_then_back(
    auth, idp, monkeypatch
):
    """No cached keys: the login is refused with a page; it works once keys are back."""
    params = auth.start()
    idp.jwks_status = 500
    page = auth.callback(params)
    assert page.status_code in (400, 503) and "Try again" in page.text
    assert session_user(auth.client) is None
    idp.jwks_status = 200
    now = time.monotonic()
    monkeypatch.setattr(jwks, "clock", lambda: now + jwks.COOLDOWN)  # the retry window
    auth.callback(auth.start())
    assert logged_in_as(auth.client, "alice")


# --- the JWKS endpoint down while users are logged in ---------------------------------


@pytest.mark.parametrize("outage", ["refused", "500", "not-json", "no-keys"])
def test_logged_in_users_stay_in_while_keys_endpoint_is_down(
    outage, auth, idp, monkeypatch
):
    auth.login("alice")
    assert logged_in_as(auth.client, "alice")  # keys fetched and cached
    if outage == "refused":
        idp.down()
    else:
        idp.jwks_status = 500 if outage == "500" else 200
        idp.jwks_body = {"not-json": "<html>", "no-keys": {"keys": []}}.get(
            outage, "oops"
        )
    cache = jwks.get_cache(idp.jwks_url)
    fetches = cache.fetches
    later = time.monotonic() + jwks.TTL + 1  # the cached set is stale: a refetch is due
    monkeypatch.setattr(jwks, "clock", lambda: later)
    for _ in range(5):
        assert logged_in_as(auth.client, "alice")
    assert cache.fetches == fetches + 1  # one bounded retry, not one per request


# --- a slow token endpoint: bounded waits, never a hung request -----------------------


def slow(seconds: float, answer: object):
    def respond(request):
        time.sleep(seconds)
        return answer

    return respond


def test_slow_token_endpoint_at_callback_is_cut_off(auth, idp):
    assert cognito.TIMEOUT <= 10
    params = auth.start()
    idp.token_response = slow(cognito.TIMEOUT + 3, (400, {"error": "late"}))
    started = time.monotonic()
    page = auth.client.get(f"/auth/authorize?code=c&state={params['state']}")
    elapsed = time.monotonic() - started
    assert page.status_code == 503 and NOT_ANSWERING in page.text
    assert cognito.TIMEOUT - 0.5 <= elapsed <= cognito.TIMEOUT + 1
    assert session_user(auth.client) is None


def test_slow_refresh_ends_the_session_within_the_timeout(auth, idp):
    auth.login("alice", exp=int(time.time()) - 120)  # expired: a refresh is due
    idp.token_response = slow(cognito.TIMEOUT + 3, (400, {"error": "late"}))
    started = time.monotonic()
    page = auth.client.get("/posts/")
    assert time.monotonic() - started <= cognito.TIMEOUT + 1
    assert page.status_code == 302 and page.headers["Location"].startswith(
        "/auth/login"
    )


# --- refresh refused: a clean re-login ------------------------------------------------


def test_refused_refresh_ends_the_session_then_login_works(auth, idp):
    auth.login("alice", exp=int(time.time()) - 120)
    idp.token_response = (400, {"error": "invalid_grant"})
    page = auth.client.get("/posts/new")
    assert page.status_code == 302
    assert page.headers["Location"] == "/auth/login?next=/posts/new"
    assert session_user(auth.client) is None
    assert idp.count("/oauth2/token") == 1
    assert auth.client.get("/posts/").status_code == 302  # no retry loop
    assert idp.count("/oauth2/token") == 1
    landed = auth.callback(auth.start("/posts/new"), sub="sub-alice")
    assert landed.headers["Location"] == "/posts/new"
    assert logged_in_as(auth.client, "alice")


# --- the SQLite file locked by another writer -----------------------------------------


@pytest.fixture
def locked_db(app, auth, monkeypatch):
    """A logged-in client and a function that holds the posts database's write lock."""
    monkeypatch.setattr(sqlite_store, "TIMEOUT", 1.0)
    auth.login("alice")
    assert auth.client.get("/posts/").status_code == 200  # the file and schema exist
    path = f"{app.instance_path}/posts.sqlite3"

    def hold(seconds: float | None = None) -> sqlite3.Connection:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        if seconds is not None:
            threading.Timer(seconds, other.rollback).start()
        return other

    return hold


def post_new(client, title: str, body: str):
    token = csrf_from(client.get("/posts/new").text)
    return client.post(
        "/posts/new", data={"csrf_token": token, "title": title, "body": body}
    )


def test_locked_database_waits_then_says_busy(locked_db, client):
    writer = locked_db()
    started = time.monotonic()
    page = post_new(client, "Locked out", "Typed while locked")
    elapsed = time.monotonic() - started
    writer.rollback()
    assert page.status_code == 503 and "busy right now" in page.text
    assert 0.9 <= elapsed <= sqlite_store.TIMEOUT + 1.5
    assert "Locked out" not in client.get("/posts/").text  # nothing half-written


def test_reads_go_on_while_a_writer_holds_the_lock(locked_db, client):
    writer = locked_db()
    try:
        assert client.get("/posts/").status_code == 200
    finally:
        writer.rollback()


def test_short_lock_is_waited_out(locked_db, client):
    locked_db(0.3)
    page = post_new(client, "Patient post", "Waited for the lock")
    assert page.status_code == 302
    assert "Patient post" in client.get(page.headers["Location"]).text


def test_busy_page_gives_back_what_was_typed(locked_db, client):
    writer = locked_db()
    page = post_new(client, "Keep this title", "Keep this body")
    writer.rollback()
    assert page.status_code == 503
    assert 'value="Keep this title"' in page.text and "Keep this body" in page.text
