"""`auth.login_required`: guarded pages, idle and absolute timeouts, silent refresh.

docs/SECURITY.md: Sessions and cookies, Token verification, Signing keys, Refresh.
"""

from __future__ import annotations

import time

import pytest
import time_machine

from blog import jwks
from tests.support.clients import AuthActions
from tests.support.clients import stored
from tests.support.fakeidp import CLIENT_ID
from tests.support.fakeidp import CLIENT_SECRET
from tests.support.fakeidp import new_key
from tests.support.fakeidp import public_jwk

ROTATED = new_key()


def session_gone(app, client) -> bool:
    """True when the client holds no session record in the server-side store."""
    cookie = client.get_cookie("__Host-session", domain="blog.example")
    return (
        cookie is None
        or app.session_interface.cache.get("session:" + cookie.value) is None
    )


def set_tokens(client, **changes) -> None:
    with client.session_transaction() as session:
        session["tokens"] = {**session["tokens"], **changes}


def login_via_callback(auth, **claims):
    auth.callback(auth.start(), **claims)


def expire_id_token(auth, client):
    """Replace the stored ID token by one that expired a while ago."""
    sub = stored(client)["user"]["sub"]
    set_tokens(
        client,
        id_token=auth.idp.id_token(
            sub=sub, exp=int(time.time()) - 600, iat=int(time.time()) - 4200
        ),
    )


def refresh_answer(idp, sub, rotated=None, **claims):
    token = {
        "id_token": idp.id_token(sub=sub, **claims),
        "access_token": "new-access",
        "token_type": "Bearer",
        "expires_in": 3600,
    }
    if rotated:
        token["refresh_token"] = rotated
    return token


def test_guarded_page_with_valid_session(auth, client):
    auth.login()
    response = client.get("/posts/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_anonymous_gets_login_redirect_with_next(app, client):
    response = client.get("/posts/?cursor=abc")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/posts/?cursor%3Dabc"


@pytest.mark.parametrize("where", ["query", "bearer", "cookie"])
def test_tokens_outside_the_session_are_ignored(client, idp, where):
    token = idp.id_token()
    if where == "query":
        response = client.get(f"/posts/?id_token={token}")
    elif where == "bearer":
        response = client.get("/posts/", headers={"Authorization": f"Bearer {token}"})
    else:
        client.set_cookie("id_token", token, domain="blog.example")
        response = client.get("/posts/")
    assert response.status_code == 302


@pytest.mark.parametrize("change", [{"sub": "someone-else"}, {"iss": "https://evil"}])
def test_stored_token_must_match_session_identity(auth, client, change):
    auth.login()
    with client.session_transaction() as session:
        session["user"] = {**session["user"], **change}
    assert client.get("/posts/").status_code == 302
    assert "user" not in stored(client)


@pytest.mark.parametrize(
    "claims",
    [{"aud": "other"}, {"azp": "other"}, {"token_use": "access"}, {"exp": str(2**31)}],
)
def test_stored_token_is_reverified_on_each_request(app, auth, client, claims):
    auth.login(**claims)
    assert client.get("/posts/").status_code == 302
    assert session_gone(app, client)


def test_tampered_stored_token_is_refused(auth, client):
    auth.login()
    header, payload, signature = stored(client)["tokens"]["id_token"].split(".")
    set_tokens(client, id_token=f"{header}.{payload}.{signature[::-1]}")
    assert client.get("/posts/").status_code == 302


def test_idle_timeout_ends_session(app, auth, client):
    auth.login()
    assert client.get("/posts/").status_code == 200
    with time_machine.travel(time.time() + app.config["SESSION_IDLE_TIMEOUT"] + 5):
        response = client.get("/posts/")
    assert response.status_code == 302
    assert session_gone(app, client)


def test_activity_keeps_session_alive(app, auth, client, idp):
    auth.login()
    idle = app.config["SESSION_IDLE_TIMEOUT"]
    with time_machine.travel(time.time() + idle - 100):
        assert client.get("/posts/").status_code == 200
    with time_machine.travel(time.time() + 2 * idle - 200):
        assert client.get("/posts/").status_code == 200


def test_absolute_timeout_ends_session_even_with_refresh(app, auth, client, idp):
    app.config["SESSION_IDLE_TIMEOUT"] = 10**9
    auth.login()
    start, limit = time.time(), app.config["SESSION_ABSOLUTE_TIMEOUT"]
    with time_machine.travel(start + limit - 60):  # still active: refreshed, re-saved
        idp.token_response = refresh_answer(idp, "sub-alice")
        assert client.get("/posts/").status_code == 200
    with time_machine.travel(
        start + limit + 5
    ):  # a valid ID token, but too old a login
        assert client.get("/posts/").status_code == 302
    assert idp.count("/oauth2/token") == 1
    assert session_gone(app, client)


def test_expired_id_token_is_refreshed_silently(auth, client, idp):
    login_via_callback(auth)
    sub = stored(client)["user"]["sub"]
    expire_id_token(auth, client)
    idp.token_response = refresh_answer(idp, sub, **{"cognito:groups": ["admins"]})
    assert client.get("/posts/").status_code == 200
    request = [r for r in idp.requests if r[1].endswith("/token")][-1][2]
    assert request["form"] == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
    }
    assert (request["auth"].username, request["auth"].password) == (
        CLIENT_ID,
        CLIENT_SECRET,
    )
    session = stored(client)
    assert session["tokens"]["access_token"] == "new-access"
    assert session["tokens"]["refresh_token"] == "refresh-1"
    assert session["user"]["groups"] == ["admins"]


def test_rotated_refresh_token_is_stored(auth, client, idp):
    login_via_callback(auth)
    expire_id_token(auth, client)
    idp.token_response = refresh_answer(idp, stored(client)["user"]["sub"], "refresh-2")
    assert client.get("/posts/").status_code == 200
    assert stored(client)["tokens"]["refresh_token"] == "refresh-2"


def test_refresh_keeps_login_time(app, auth, client, idp):
    login_via_callback(auth)
    login_at = stored(client)["login_at"]
    expire_id_token(auth, client)
    idp.token_response = refresh_answer(idp, stored(client)["user"]["sub"])
    client.get("/posts/")
    assert stored(client)["login_at"] == login_at


@pytest.mark.parametrize(
    "bad",
    [
        {"sub": "another-user"},
        {"iss": "https://evil.example"},
        {"aud": "other-client"},
    ],
    ids=["sub", "iss", "aud"],
)
def test_refreshed_token_must_match_the_original(app, auth, client, idp, bad):
    login_via_callback(auth)
    expire_id_token(auth, client)
    idp.token_response = refresh_answer(
        idp, bad.pop("sub", stored(client)["user"]["sub"]), **bad
    )
    assert client.get("/posts/").status_code == 302
    assert session_gone(app, client)


@pytest.mark.parametrize(
    "answer",
    [None, (500, {"error": "x"}), (200, "not json")],
    ids=["invalid_grant", "5xx", "not-json"],
)
def test_refresh_failure_ends_session_without_retry(app, auth, client, idp, answer):
    login_via_callback(auth)
    expire_id_token(auth, client)
    idp.token_response = answer
    before = idp.count("/oauth2/token")
    assert client.get("/posts/").status_code == 302
    assert idp.count("/oauth2/token") == before + 1
    assert session_gone(app, client)


def test_expired_token_without_refresh_token_ends_session(auth, client, idp):
    login_via_callback(auth)
    expire_id_token(auth, client)
    set_tokens(client, refresh_token=None)
    assert client.get("/posts/").status_code == 302
    assert idp.count("/oauth2/token") == 1  # only the login's code exchange


def test_read_only_pages_do_not_write_the_session(app, auth, client, monkeypatch):
    auth.login()
    client.get("/posts/")
    writes = []
    original = app.session_interface._upsert_session
    monkeypatch.setattr(
        app.session_interface,
        "_upsert_session",
        lambda *a: writes.append(a) or original(*a),
    )
    for _ in range(3):
        client.get("/posts/")
    assert writes == []


def test_last_seen_is_refreshed_at_most_once_a_minute(auth, client):
    auth.login()
    first = stored(client)["last_seen"]
    client.get("/posts/")
    assert stored(client)["last_seen"] == first
    with time_machine.travel(time.time() + 61):
        client.get("/posts/")
    assert stored(client)["last_seen"] > first


def test_keys_unreachable_keeps_the_session_and_answers_503(
    app, auth, client, idp, clock
):
    auth.login()
    idp.jwks_status = 500  # a cold container: no keys cached, endpoint down
    response = client.get("/posts/")
    assert response.status_code == 503
    assert b"not answering" in response.data
    assert not session_gone(app, client)
    idp.jwks_status = 200
    clock.advance(jwks.RETRY_WITHOUT_KEYS)  # the retry is due
    assert client.get("/posts/").status_code == 200


def test_pinned_jwks_url_spares_the_discovery_fetch(idp, make_app):
    app = make_app(COGNITO_JWKS_URL=idp.jwks_url)
    client = app.test_client()
    AuthActions(client, idp).login()
    assert client.get("/posts/").status_code == 200
    assert idp.count("/openid-configuration") == 0 and idp.count("/jwks.json") == 1


# --- a key rotated in while unknown kids are held back (SECURITY.md, Signing keys) ---


def probe_with_unknown_kid(app, idp) -> None:
    """An attacker's token under a kid the pool never published: refused, refetched."""
    token = idp.sign(idp.claims(), key=ROTATED, headers={"kid": "attacker-kid"})
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/posts", headers=headers).status_code == 401


def rotate_during_cooldown(app, idp, clock) -> None:
    """Start the cool-down with an attacker's kid, then rotate the pool's key."""
    clock.advance(1)
    probe_with_unknown_kid(app, idp)
    idp.keys.append(public_jwk(ROTATED, "key-2"))
    clock.advance(1)


def rotated_id_token(idp, sub: str) -> str:
    return idp.sign(idp.claims(sub=sub), key=ROTATED, headers={"kid": "key-2"})


def test_rotated_kid_during_cooldown_keeps_the_session_and_answers_503(
    app, auth, client, idp, clock
):
    login_via_callback(auth)
    rotate_during_cooldown(app, idp, clock)
    # The member's token now has the new key (refreshed on another container).
    set_tokens(client, id_token=rotated_id_token(idp, stored(client)["user"]["sub"]))
    response = client.get("/posts/")
    assert response.status_code == 503 and b"not answering" in response.data
    assert not session_gone(app, client)
    clock.advance(jwks.COOLDOWN)
    assert client.get("/posts/").status_code == 200


def test_refresh_signed_with_rotated_kid_during_cooldown_keeps_the_session(
    app, auth, client, idp, clock
):
    login_via_callback(auth)
    expire_id_token(auth, client)
    rotate_during_cooldown(app, idp, clock)
    sub = stored(client)["user"]["sub"]
    idp.token_response = {
        **refresh_answer(idp, sub),
        "id_token": rotated_id_token(idp, sub),
    }
    response = client.get("/posts/")
    assert response.status_code == 503 and b"not answering" in response.data
    assert not session_gone(app, client)
    clock.advance(jwks.COOLDOWN)
    assert client.get("/posts/").status_code == 200
    assert stored(client)["tokens"]["access_token"] == "new-access"
