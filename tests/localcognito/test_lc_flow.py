import base64
import hashlib
import os
import stat
import uuid
from urllib.parse import urlencode

import jwt
import requests

from blog import localcognito
from blog.localcognito import pool

TTL = pool.token_seconds()  # the deployed app client's token validity


def test_discovery_lists_cognito_endpoints(lc):
    doc = requests.get(lc.url("/.well-known/openid-configuration")).json()
    assert doc["issuer"] == lc.issuer
    assert doc["jwks_uri"] == lc.url("/.well-known/jwks.json")
    assert doc["authorization_endpoint"] == lc.url("/oauth2/authorize")
    assert doc["token_endpoint"] == lc.url("/oauth2/token")
    assert doc["userinfo_endpoint"] == lc.url("/oauth2/userInfo")
    assert doc["revocation_endpoint"] == lc.url("/oauth2/revoke")
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["response_types_supported"] == ["code"]
    assert "openid" in doc["scopes_supported"]


def test_jwks_and_private_key_file(lc, lc_app):
    keys = requests.get(lc.url("/.well-known/jwks.json")).json()["keys"]
    assert len(keys) == 2  # one for ID tokens, one for access tokens
    for key in keys:
        assert {key["alg"], key["use"], key["kty"]} == {"RS256", "sig", "RSA"}
        assert key["kid"] and "d" not in key
    path = os.path.join(lc_app.instance_path, "localcognito-keys.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_ensure_client_is_idempotent(lc, lc_app):
    again = localcognito.ensure_client(lc_app, lc.base + "/")
    assert again == {"client_id": lc.client_id, "client_secret": lc.client_secret}
    assert len(lc.client_id) == 26 and lc.client_id.isalnum()
    assert lc.client_id.lower() == lc.client_id
    assert len(lc.client_secret) >= 50


def test_signup_emails_code_and_confirming_signs_in(lc, browser):
    """As the Hosted UI: the confirmed member goes back to the app with a code."""
    flow = lc.flow()
    login = lc.authorize(browser, flow).headers["Location"]
    signup = login.replace("/login?", "/signup?")
    answer = lc.submit(
        browser, signup, email="bob@example.com", name="Bob B", password="Pa55word-long"
    )
    location = answer.headers["Location"]
    assert location.startswith("/_cognito/confirmUser?username=bob@example.com&")
    mail = lc.outbox()[-1]
    assert mail["to"] == "bob@example.com" and uuid.UUID(mail["username"])
    assert mail["code"] in mail["body"] and len(mail["code"]) == 6
    confirmed = lc.submit(browser, location, code=mail["code"])
    assert confirmed.headers["Location"].startswith("/_cognito/oauth2/authorize?")
    callback = lc.get(browser, confirmed.headers["Location"]).headers["Location"]
    code = lc.callback_params(callback, flow)["code"]
    tokens = lc.exchange(flow, code).json()
    claims = lc.verify(tokens["id_token"])
    assert (claims["email"], claims["name"]) == ("bob@example.com", "Bob B")
    assert claims["cognito:username"] == mail["username"]


def test_confirming_in_another_browser_does_not_sign_in(lc, browser):
    signup = "/_cognito/signup?" + urlencode(lc.flow().params)
    answer = lc.submit(
        browser, signup, email="bob@example.com", name="Bob", password="Pa55word-long"
    )
    other = requests.Session()
    code = lc.outbox()[-1]["code"]
    confirmed = lc.submit(other, answer.headers["Location"], code=code)
    assert confirmed.headers["Location"].startswith("/_cognito/login?notice=confirmed")
    assert "cognito" not in other.cookies


def test_id_token_has_cognito_claims(lc):
    lc.add_user("carol@example.com", "admins", "editors")
    answer = lc.tokens("carol@example.com")
    claims = lc.verify(answer["id_token"])
    assert jwt.get_unverified_header(answer["id_token"])["alg"] == "RS256"
    assert claims["aud"] == lc.client_id and claims["iss"] == lc.issuer
    assert claims["token_use"] == "id"
    assert claims["cognito:username"] == claims["sub"]  # generated, as on AWS
    assert claims["email"] == "carol@example.com" and claims["email_verified"] is True
    assert claims["name"] == "Carol"
    assert claims["cognito:groups"] == ["admins", "editors"]
    assert claims["nonce"] == answer["nonce"]
    assert claims["exp"] - claims["iat"] == TTL == 15 * 60
    assert claims["auth_time"] <= claims["iat"]
    digest = hashlib.sha256(answer["access_token"].encode()).digest()
    at_hash = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert claims["at_hash"] == at_hash
    assert uuid.UUID(claims["sub"]).version == 4
    assert len({claims["jti"], claims["origin_jti"], claims["event_id"]}) == 3


def test_no_groups_claim_without_groups(lc, alice):
    claims = lc.verify(lc.tokens()["id_token"])
    assert "cognito:groups" not in claims


def test_access_token_has_cognito_claims(lc):
    lc.add_user("dave@example.com", "admins")
    answer = lc.tokens("dave@example.com")
    access = jwt.decode(answer["access_token"], options={"verify_signature": False})
    id_claims = lc.verify(answer["id_token"])
    assert "aud" not in access
    assert access["token_use"] == "access" and access["client_id"] == lc.client_id
    assert access["scope"] == "openid email profile"
    assert access["username"] == id_claims["cognito:username"] == access["sub"]
    assert "name" not in access and "email" not in access
    assert access["sub"] == id_claims["sub"] and access["iss"] == lc.issuer
    assert access["cognito:groups"] == ["admins"]
    assert access["origin_jti"] == id_claims["origin_jti"]
    assert access["event_id"] == id_claims["event_id"]
    assert access["exp"] - access["iat"] == TTL and access["jti"] != id_claims["jti"]
    assert jwt.get_unverified_header(answer["access_token"])["kid"]


def test_token_response_shape(lc, alice):
    answer = lc.tokens()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == TTL
    assert answer["refresh_token"] and "." not in answer["refresh_token"]


def test_userinfo(lc, alice):
    access = lc.tokens()["access_token"]
    answer = requests.get(
        lc.url("/oauth2/userInfo"), headers={"Authorization": f"Bearer {access}"}
    )
    info = answer.json()
    assert answer.status_code == 200
    assert (info["email"], info["name"]) == ("alice@example.com", "Alice")
    assert info["username"] == info["sub"]
    assert info["email_verified"] == "true" and uuid.UUID(info["sub"])


def test_userinfo_refuses_id_token_and_garbage(lc, alice):
    id_token = lc.tokens()["id_token"]
    for bad in (id_token, "garbage"):
        headers = {"Authorization": f"Bearer {bad}"}
        assert (
            requests.get(lc.url("/oauth2/userInfo"), headers=headers).status_code
            == 401
        )


def test_refresh_returns_new_tokens_without_nonce(lc, alice):
    first = lc.tokens()
    answer = lc.refresh(first["refresh_token"])
    assert answer.status_code == 200
    assert "refresh_token" not in answer.json()
    claims, before = (
        lc.verify(answer.json()["id_token"]),
        lc.verify(first["id_token"]),
    )
    assert "nonce" not in claims
    assert claims["sub"] == before["sub"] and claims["auth_time"] == before["auth_time"]
    assert (
        claims["origin_jti"] == before["origin_jti"] and claims["jti"] != before["jti"]
    )
    assert lc.refresh(first["refresh_token"]).status_code == 200


def test_revoke_then_refresh_is_refused(lc, alice):
    answer = lc.tokens()
    revoked = lc.post("/oauth2/revoke", token=answer["refresh_token"])
    assert (revoked.status_code, revoked.text) == (200, "")
    refused = lc.refresh(answer["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    assert requests.get(lc.url("/oauth2/userInfo"), headers=headers).status_code == 401


def test_logged_in_browser_gets_code_at_once_until_logout(lc, alice, browser):
    lc.code(browser, lc.flow())
    again = lc.flow()
    lc.callback_params(lc.authorize(browser, again).headers["Location"], again)
    query = f"?client_id={lc.client_id}&logout_uri={lc.base}/"
    out = lc.get(browser, lc.url("/logout" + query))
    assert (out.status_code, out.headers["Location"]) == (302, lc.base + "/")
    assert "cognito" not in browser.cookies
    login = lc.authorize(browser, lc.flow()).headers["Location"]
    assert login.startswith("/_cognito/login?")


def test_read_outbox_matches_served_outbox(lc, lc_app, browser):
    lc.add_user("erin@example.com")
    erin = lc.submit(browser, "/_cognito/forgotPassword", username="erin@example.com")
    assert erin.status_code == 302
    assert localcognito.read_outbox(lc_app) == lc.outbox()
    assert lc.outbox()[0]["to"] == "erin@example.com"
