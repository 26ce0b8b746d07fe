"""Login and logout (blog/auth.py) against a scriptable Cognito: cookies, fixation.

docs/SECURITY.md: Login, Logout, Sessions and cookies, Identity and authorisation.
"""

from __future__ import annotations

import base64

import pytest

from blog import cognito
from tests.support.clients import query_of
from tests.support.clients import stored
from tests.support.fakeidp import CLIENT_ID
from tests.support.fakeidp import CLIENT_SECRET
from tests.support.fakeidp import new_key
from tests.support.fakeidp import public_jwk

ROTATED = new_key()


def session_record(app, client):
    """The server-side record behind the client's session cookie, or None."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"], domain="blog.example")
    if cookie is None:
        return None
    return app.session_interface.cache.get("session:" + cookie.value)


def test_authorization_request_shape(auth, idp):
    params = auth.start()
    assert params["response_type"] == "code"
    assert params["scope"] == "openid email profile"  # least privilege (item 14)
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == "https://blog.example/auth/authorize"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 22 and len(params["nonce"]) >= 43


def test_fresh_values_per_login(auth, client):
    first = auth.start()
    client.delete_cookie("__Host-session", domain="blog.example")
    second = auth.start()
    for name in ("state", "nonce", "code_challenge"):
        assert first[name] != second[name]


def test_redirect_uri_ignores_request_headers(client):
    response = client.get(
        "/auth/login",
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert query_of(response.headers["Location"])["redirect_uri"] == (
        "https://blog.example/auth/authorize"
    )


def test_successful_login_lands_on_next(auth, client, idp):
    params = auth.start("/posts/?page=2")
    response = auth.callback(params)
    assert response.status_code == 302
    assert response.headers["Location"] == "/posts/?page=2"
    assert client.get("/posts/").status_code == 200


def test_code_exchange_is_back_channel_with_basic_auth(auth, idp):
    params = auth.start()
    auth.callback(params)
    method, path, request = [r for r in idp.requests if r[1].endswith("/token")][0]
    assert method == "POST"
    assert request["auth"].type == "basic"
    assert (request["auth"].username, request["auth"].password) == (
        CLIENT_ID,
        CLIENT_SECRET,
    )
    form = request["form"]
    assert form["grant_type"] == "authorization_code" and form["code"] == "the-code"
    assert form["redirect_uri"] == "https://blog.example/auth/authorize"
    assert 43 <= len(form["code_verifier"]) <= 128
    assert "client_secret" not in form


@pytest.mark.parametrize("query", ["code=x", "code=x&state=made-up", "state="])
def test_missing_or_unknown_state_is_refused(auth, client, idp, query):
    auth.start()
    response = client.get("/auth/authorize?" + query)
    assert response.status_code == 400
    assert b"Sign-in failed" in response.data
    assert idp.count("/oauth2/token") == 0
    assert client.get("/posts/").status_code == 302


def test_login_csrf_with_attackers_state(app, auth, client, idp):
    attacker = app.test_client()
    attacker_params = query_of(attacker.get("/auth/login").headers["Location"])
    auth.start()  # the victim has a login flow of their own
    response = auth.callback(attacker_params, sub="attacker")
    assert response.status_code == 400
    assert idp.count("/oauth2/token") == 0
    assert client.get("/posts/").status_code == 302


def test_replayed_callback_is_refused(auth, client, idp):
    params = auth.start()
    assert auth.callback(params).status_code == 302
    assert auth.callback(params).status_code == 400
    assert idp.count("/oauth2/token") == 1


def test_replay_after_logout_is_refused(auth, client, idp):
    params = auth.start()
    auth.callback(params)
    auth.logout()
    assert auth.callback(params).status_code == 400
    assert client.get("/posts/").status_code == 302


@pytest.mark.parametrize(
    "answer",
    [
        (400, {"error": "invalid_grant"}),
        (500, {"error": "server_error"}),
        (200, "<html>not json</html>"),
        (200, {"access_token": "a", "token_type": "Bearer"}),
    ],
    ids=["invalid_grant", "5xx", "not-json", "no-id-token"],
)
def test_token_endpoint_failure_gives_a_page(auth, client, answer):
    response = auth.callback(auth.start(), token=answer)
    assert response.status_code in (400, 502, 503)
    assert (
        b"Traceback" not in response.data
        and CLIENT_SECRET.encode() not in response.data
    )
    assert client.get("/posts/").status_code == 302


def test_slow_token_endpoint_is_bounded(idp, make_app, monkeypatch):
    monkeypatch.setattr(cognito, "TIMEOUT", 0.5)
    client = make_app().test_client()
    params = query_of(client.get("/auth/login").headers["Location"])
    idp.delay = 2
    response = client.get(f"/auth/authorize?code=c&state={params['state']}")
    assert response.status_code == 503
    assert b"not answering" in response.data


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "other-client"},
        {"aud": ["testclient123", "evil"]},
        {"azp": "other-client"},
        {"iss": "https://evil.example"},
        {"token_use": "access"},
        {"exp": 1_000_000},
        {"exp": str(2**31)},
        {"sub": None},
        {"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"},
    ],
    ids=["aud", "aud-list", "azp", "iss", "token_use", "expired", "exp-string",
         "no-sub", "at_hash"],
)
def test_bad_id_token_at_callback_is_refused(auth, client, claims):
    response = auth.callback(auth.start(), **claims)
    assert response.status_code == 400
    assert client.get("/posts/").status_code == 302
    with client.session_transaction() as session:
        assert "tokens" not in session and "user" not in session


def test_wrong_nonce_at_callback_is_refused(auth, client):
    params = {**auth.start(), "nonce": "not-the-session-nonce"}
    assert auth.callback(params).status_code == 400
    assert client.get("/posts/").status_code == 302


def test_missing_nonce_in_id_token_is_refused(auth, client, idp):
    params = auth.start()
    token = {"id_token": idp.id_token(), "access_token": "a", "token_type": "Bearer"}
    assert auth.callback(params, token=token).status_code == 400


def test_error_from_hosted_ui_is_escaped(auth, client):
    params = auth.start()
    response = client.get(
        "/auth/authorize?error=invalid_request&error_description="
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=" + params["state"]
    )
    assert response.status_code == 400
    assert b"<script>" not in response.data
    assert client.get("/posts/").status_code == 302


def test_access_denied_is_a_friendly_page(client):
    response = client.get("/auth/authorize?error=access_denied")
    assert response.status_code == 400 and b"Try again" in response.data


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "javascript:alert(1)",
        "%2F%2Fevil.example",
        "/\r\nSet-Cookie:x=1",
        "evil",
    ],
)
def test_no_open_redirect_after_login(auth, target):
    response = auth.callback(auth.start(target))
    assert response.status_code == 302
    assert response.headers["Location"] == "/posts/"


def test_callback_response_hygiene(auth):
    response = auth.callback(auth.start())
    assert response.headers["Location"] == "/posts/"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_new_session_id_at_login(app, auth, client):
    auth.start()
    before = client.get_cookie("__Host-session", domain="blog.example").value
    auth.callback(auth.start())
    after = client.get_cookie("__Host-session", domain="blog.example").value
    assert before != after
    assert app.session_interface.cache.get("session:" + before) is None
    assert session_record(app, client)["user"]["name"] == "alice"


def test_new_session_id_at_login_with_one_flow_and_no_next(app, client, auth):
    params = auth.start()
    before = client.get_cookie("__Host-session", domain="blog.example").value
    auth.callback(params)
    after = client.get_cookie("__Host-session", domain="blog.example").value
    assert before != after
    assert app.session_interface.cache.get("session:" + before) is None


def test_session_cookie_attributes(auth):
    response = auth.callback(auth.start())
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1
    cookie = cookies[0]
    assert cookie.startswith("__Host-session=")
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    assert "Domain" not in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert len(value) >= 43 and "eyJ" not in value


def test_plain_http_loopback_drops_secure_only(make_app):
    app = make_app(https=False, BASE_URL="http://127.0.0.1:5000")
    response = app.test_client().get("/auth/login")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "Secure" not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    "value", ["tampered", "A" * 43, "../../etc/passwd", "x" * 3000]
)
def test_unknown_session_id_is_anonymous(client, value):
    client.set_cookie("__Host-session", value, domain="blog.example")
    assert client.get("/posts/").status_code == 302
    assert client.get("/").status_code == 200


def test_tokens_never_reach_the_browser(auth, client, idp):
    responses = [auth.callback(auth.start("/posts/"))]
    responses += [client.get(path) for path in ("/", "/posts/", "/posts/new", "/nope")]
    responses.append(auth.logout())
    for response in responses:
        blob = response.get_data() + str(response.headers).encode()
        assert b"eyJ" not in blob and b"refresh-1" not in blob
        assert b"the-code" not in blob and CLIENT_SECRET.encode() not in blob


def test_logs_hold_no_tokens(auth, client, idp, caplog):
    caplog.set_level("DEBUG")
    auth.callback(auth.start())
    client.get("/posts/?code=the-code")
    auth.callback({"state": "forged"}, sub="x")
    auth.logout()
    text = caplog.text
    assert "eyJ" not in text and "refresh-1" not in text and "the-code" not in text
    assert CLIENT_SECRET not in text
    assert "GET /posts/ 200" in text


def test_discovery_with_foreign_issuer_stops_login(client, idp, monkeypatch):
    monkeypatch.setattr(idp, "issuer", idp.url + "/other-pool", raising=False)
    monkeypatch.setattr(
        type(idp),
        "discovery",
        lambda self: {
            "issuer": self.url + "/other-pool",
            "jwks_uri": self.jwks_url,
            "authorization_endpoint": self.domain + "/oauth2/authorize",
            "token_endpoint": self.domain + "/oauth2/token",
        },
    )
    response = client.get("/auth/login")
    assert response.status_code == 502
    assert "Location" not in response.headers


def test_discovery_with_foreign_endpoint_stops_login(client, idp, monkeypatch):
    original = type(idp).discovery
    monkeypatch.setattr(
        type(idp),
        "discovery",
        lambda self: {
            **original(self),
            "token_endpoint": "https://evil.example/oauth2/token",
        },
    )
    assert client.get("/auth/login").status_code == 502


def test_unreachable_provider_gives_503(make_app):
    app = make_app(
        https=False,
        COGNITO_METADATA_URL="http://127.0.0.1:9/.well-known/openid-configuration",
    )
    response = app.test_client().get("/auth/login", base_url="https://blog.example")
    assert response.status_code == 503


def test_basic_client_secret_never_in_login_redirect(client):
    location = client.get("/auth/login").headers["Location"]
    assert CLIENT_SECRET not in location
    assert (
        base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        not in location
    )


def test_callback_while_keys_unreachable_says_so(auth, client, idp):
    params = auth.start()
    idp.jwks_status = 500
    response = auth.callback(params)
    assert response.status_code == 503
    assert b"not answering" in response.data and b"Try again" in response.data
    assert client.get("/posts/").status_code == 302


# --- a key rotated in just after this container loaded the keys (Signing keys) ---


def signed_with_rotated_key(idp, params: dict, kid: str = "key-2") -> dict:
    """The code exchange's answer, its ID token signed with a key new to the pool."""
    claims = idp.claims(nonce=params["nonce"])
    id_token = idp.sign(claims, key=ROTATED, headers={"kid": kid})
    return {"id_token": id_token, "access_token": "a", "token_type": "Bearer"}


def test_login_with_a_key_rotated_a_second_after_the_first_login(auth, idp, clock):
    assert auth.callback(auth.start()).status_code == 302  # this container loads keys
    idp.keys.append(public_jwk(ROTATED, "key-2"))
    clock.advance(1)
    params = auth.start("/posts/new")
    response = auth.callback(params, token=signed_with_rotated_key(idp, params))
    assert response.status_code == 302 and response.headers["Location"] == "/posts/new"
    assert auth.client.get("/posts/new").status_code == 200


def test_login_with_a_kid_unknown_after_the_refetch_is_refused(auth, idp, clock):
    assert auth.callback(auth.start()).status_code == 302
    auth.logout()
    clock.advance(1)
    params = auth.start()
    response = auth.callback(params, token=signed_with_rotated_key(idp, params))
    assert response.status_code == 400 and b"Sign-in failed" in response.data
    assert auth.client.get("/posts/").status_code == 302
    assert idp.count("/jwks.json") == 2  # it was looked for once more


# --- logout and the identity kept at login ---


def test_logout_revokes_deletes_and_ends_cognito_session(app, auth, client, idp):
    auth.callback(auth.start())
    sid = client.get_cookie("__Host-session", domain="blog.example").value
    response = auth.logout()
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(idp.domain + "/logout?")
    assert query_of(location) == {
        "client_id": CLIENT_ID,
        "logout_uri": "https://blog.example/",
    }
    method, _, request = [r for r in idp.requests if r[1].endswith("/revoke")][0]
    assert request["form"] == {"token": "refresh-1"}
    assert request["auth"].username == CLIENT_ID
    assert app.session_interface.cache.get("session:" + sid) is None


def test_old_cookie_replayed_after_logout_is_refused(app, auth, client):
    auth.callback(auth.start())
    sid = client.get_cookie("__Host-session", domain="blog.example").value
    auth.logout()
    replay = app.test_client()
    replay.set_cookie("__Host-session", sid, domain="blog.example")
    response = replay.get("/posts/", base_url="https://blog.example")
    assert response.status_code == 302


def test_failed_revocation_does_not_block_logout(auth, client, idp, monkeypatch):
    monkeypatch.setattr(
        type(idp),
        "route",
        lambda self, request: __import__("werkzeug").wrappers.Response("boom", 500),
    )
    auth.login()
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/posts/").status_code == 302


def test_logout_needs_post_and_csrf(auth, client):
    auth.login()
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 400
    assert client.post("/auth/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/posts/").status_code == 200


def test_email_shown_only_when_verified(auth, client, idp):
    auth.callback(auth.start(), email="eve@example.com", email_verified=False)
    assert stored(client)["user"]["email"] is None
