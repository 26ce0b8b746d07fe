import base64
import hashlib
import os
import stat
import uuid

import jwt
import requests

from blog import localcognito


def test_discovery_lists_cognito_endpoints(idp):
    doc = requests.get(idp.url("/.well-known/openid-configuration")).json()
    assert doc["issuer"] == idp.issuer
    assert doc["jwks_uri"] == idp.url("/.well-known/jwks.json")
    assert doc["authorization_endpoint"] == idp.url("/oauth2/authorize")
    assert doc["token_endpoint"] == idp.url("/oauth2/token")
    assert doc["userinfo_endpoint"] == idp.url("/oauth2/userInfo")
    assert doc["revocation_endpoint"] == idp.url("/oauth2/revoke")
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["response_types_supported"] == ["code"]
    assert "openid" in doc["scopes_supported"]


def test_jwks_and_private_key_file(idp, app):
    keys = requests.get(idp.url("/.well-known/jwks.json")).json()["keys"]
    assert len(keys) == 1
    assert {keys[0]["alg"], keys[0]["use"], keys[0]["kty"]} == {"RS256", "sig", "RSA"}
    assert keys[0]["kid"] and "d" not in keys[0]
    path = os.path.join(app.instance_path, "localcognito-keys.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_ensure_client_is_idempotent(idp, app):
    again = localcognito.ensure_client(app, idp.base + "/")
    assert again == {"client_id": idp.client_id, "client_secret": idp.client_secret}
    assert len(idp.client_id) == 26 and idp.client_id.isalnum()
    assert idp.client_id.lower() == idp.client_id
    assert len(idp.client_secret) >= 50


def test_signup_emails_code_and_confirm_resumes_login(idp, browser):
    flow = idp.flow()
    login = idp.authorize(browser, flow).headers["Location"]
    signup = login.replace("/login?", "/signup?")
    answer = idp.submit(
        browser, signup, username="bob", email="bob@example.com", password="Pa55word!"
    )
    assert answer.headers["Location"].startswith("/_cognito/confirmUser?username=bob")
    mail = idp.outbox()[-1]
    assert (mail["to"], mail["username"]) == ("bob@example.com", "bob")
    assert mail["code"] in mail["body"] and len(mail["code"]) == 6
    confirmed = idp.submit(browser, answer.headers["Location"], code=mail["code"])
    assert confirmed.headers["Location"].startswith("/_cognito/login?notice=confirmed")
    back = idp.submit(
        browser, confirmed.headers["Location"], username="bob", password="Pa55word!"
    )
    callback = idp.get(browser, back.headers["Location"]).headers["Location"]
    code = idp.callback_params(callback, flow)["code"]
    assert idp.exchange(flow, code).status_code == 200


def test_id_token_has_cognito_claims(idp):
    idp.add_user("carol", "admins", "editors")
    answer = idp.tokens("carol")
    claims = idp.verify(answer["id_token"])
    assert jwt.get_unverified_header(answer["id_token"])["alg"] == "RS256"
    assert claims["aud"] == idp.client_id and claims["iss"] == idp.issuer
    assert claims["token_use"] == "id" and claims["cognito:username"] == "carol"
    assert claims["email"] == "carol@example.com" and claims["email_verified"] is True
    assert claims["cognito:groups"] == ["admins", "editors"]
    assert claims["nonce"] == answer["nonce"]
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["auth_time"] <= claims["iat"]
    digest = hashlib.sha256(answer["access_token"].encode()).digest()
    at_hash = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert claims["at_hash"] == at_hash
    assert uuid.UUID(claims["sub"]).version == 4
    assert len({claims["jti"], claims["origin_jti"], claims["event_id"]}) == 3


def test_no_groups_claim_without_groups(idp, alice):
    claims = idp.verify(idp.tokens()["id_token"])
    assert "cognito:groups" not in claims


def test_access_token_has_cognito_claims(idp):
    idp.add_user("dave", "admins")
    answer = idp.tokens("dave")
    access = jwt.decode(answer["access_token"], options={"verify_signature": False})
    id_claims = idp.verify(answer["id_token"])
    assert "aud" not in access
    assert access["token_use"] == "access" and access["client_id"] == idp.client_id
    assert access["scope"] == "openid email profile" and access["username"] == "dave"
    assert access["sub"] == id_claims["sub"] and access["iss"] == idp.issuer
    assert access["cognito:groups"] == ["admins"]
    assert access["origin_jti"] == id_claims["origin_jti"]
    assert access["event_id"] == id_claims["event_id"]
    assert access["exp"] - access["iat"] == 3600 and access["jti"] != id_claims["jti"]
    assert jwt.get_unverified_header(answer["access_token"])["kid"]


def test_token_response_shape(idp, alice):
    answer = idp.tokens()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
    assert answer["refresh_token"] and "." not in answer["refresh_token"]


def test_userinfo(idp, alice):
    access = idp.tokens()["access_token"]
    answer = requests.get(
        idp.url("/oauth2/userInfo"), headers={"Authorization": f"Bearer {access}"}
    )
    info = answer.json()
    assert answer.status_code == 200
    assert (info["username"], info["email"]) == ("alice", "alice@example.com")
    assert info["email_verified"] == "true" and uuid.UUID(info["sub"])


def test_userinfo_refuses_id_token_and_garbage(idp, alice):
    id_token = idp.tokens()["id_token"]
    for bad in (id_token, "garbage"):
        headers = {"Authorization": f"Bearer {bad}"}
        assert (
            requests.get(idp.url("/oauth2/userInfo"), headers=headers).status_code
            == 401
        )


def test_refresh_returns_new_tokens_without_nonce(idp, alice):
    first = idp.tokens()
    answer = idp.refresh(first["refresh_token"])
    assert answer.status_code == 200
    assert "refresh_token" not in answer.json()
    claims, before = (
        idp.verify(answer.json()["id_token"]),
        idp.verify(first["id_token"]),
    )
    assert "nonce" not in claims
    assert claims["sub"] == before["sub"] and claims["auth_time"] == before["auth_time"]
    assert (
        claims["origin_jti"] == before["origin_jti"] and claims["jti"] != before["jti"]
    )
    assert idp.refresh(first["refresh_token"]).status_code == 200


def test_revoke_then_refresh_is_refused(idp, alice):
    answer = idp.tokens()
    revoked = idp.post("/oauth2/revoke", token=answer["refresh_token"])
    assert (revoked.status_code, revoked.text) == (200, "")
    refused = idp.refresh(answer["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    assert requests.get(idp.url("/oauth2/userInfo"), headers=headers).status_code == 401


def test_logged_in_browser_gets_code_at_once_until_logout(idp, alice, browser):
    idp.code(browser, idp.flow())
    again = idp.flow()
    idp.callback_params(idp.authorize(browser, again).headers["Location"], again)
    query = f"?client_id={idp.client_id}&logout_uri={idp.base}/"
    out = idp.get(browser, idp.url("/logout" + query))
    assert (out.status_code, out.headers["Location"]) == (302, idp.base + "/")
    assert "cognito" not in browser.cookies
    login = idp.authorize(browser, idp.flow()).headers["Location"]
    assert login.startswith("/_cognito/login?")


def test_read_outbox_matches_served_outbox(idp, app, browser):
    idp.add_user("erin")
    erin = idp.submit(browser, "/_cognito/forgotPassword", username="erin")
    assert erin.status_code == 302
    assert localcognito.read_outbox(app) == idp.outbox()
    assert idp.outbox()[0]["to"] == "erin@example.com"
