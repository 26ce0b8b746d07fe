import time

import jwt
import pytest
import requests
import time_machine

from blog.localcognito import pool


@pytest.fixture
def flow_code(lc, alice, browser):
    flow = lc.flow()
    return flow, lc.code(browser, flow)


def error_of(answer: requests.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]


@pytest.mark.parametrize("secret", ["wrong", "wr\u00f6ng".encode()])
def test_wrong_client_secret(lc, flow_code, secret):
    flow, code = flow_code
    answer = lc.post(
        "/oauth2/token",
        auth=(lc.client_id.encode(), secret),
        grant_type="authorization_code",
        code=code,
        redirect_uri=lc.callback,
        code_verifier=flow.verifier,
    )
    assert error_of(answer) == (401, "invalid_client")
    assert lc.exchange(flow, code).status_code == 200


def test_client_secret_post(lc, flow_code):
    flow, code = flow_code
    secret = {"client_id": lc.client_id, "client_secret": lc.client_secret}
    answer = lc.post(
        "/oauth2/token",
        auth=False,
        grant_type="authorization_code",
        code=code,
        redirect_uri=lc.callback,
        code_verifier=flow.verifier,
        **secret,
    )
    assert answer.status_code == 200 and answer.json()["id_token"]
    revoke = lc.post("/oauth2/revoke", auth=False, token="x", **secret)
    assert revoke.status_code == 200


def test_wrong_pkce_verifier(lc, flow_code):
    flow, code = flow_code
    answer = lc.exchange(flow, code, code_verifier="w" * 48)
    assert error_of(answer) == (400, "invalid_grant")


def test_missing_pkce_verifier(lc, flow_code):
    flow, code = flow_code
    answer = lc.post(
        "/oauth2/token",
        grant_type="authorization_code",
        code=code,
        redirect_uri=lc.callback,
    )
    assert error_of(answer) == (400, "invalid_request")


def test_reused_code(lc, flow_code):
    flow, code = flow_code
    assert lc.exchange(flow, code).status_code == 200
    assert error_of(lc.exchange(flow, code)) == (400, "invalid_grant")


def test_code_expires_after_five_minutes(lc, flow_code):
    flow, code = flow_code
    with time_machine.travel(time.time() + 301):
        assert error_of(lc.exchange(flow, code)) == (400, "invalid_grant")


def test_code_still_works_before_five_minutes(lc, flow_code):
    flow, code = flow_code
    with time_machine.travel(time.time() + 280):
        assert lc.exchange(flow, code).status_code == 200


def test_redirect_uri_must_match_at_token_endpoint(lc, flow_code):
    flow, code = flow_code
    answer = lc.exchange(flow, code, redirect_uri=lc.base + "/other")
    assert error_of(answer) == (400, "invalid_grant")


def test_revoke_needs_the_right_secret(lc, alice):
    refresh_token = lc.tokens()["refresh_token"]
    answer = lc.post("/oauth2/revoke", auth=(lc.client_id, "x"), token=refresh_token)
    assert error_of(answer) == (401, "invalid_client")
    assert lc.refresh(refresh_token).status_code == 200


def kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def served_kids(lc) -> list[str]:
    jwks = requests.get(lc.url("/.well-known/jwks.json")).json()
    return [k["kid"] for k in jwks["keys"]]


def test_id_and_access_tokens_have_their_own_published_keys(lc, alice):
    """As on AWS: two signing keys, both in the JWKS, each verifying its tokens."""
    answer = lc.tokens()
    assert kid(answer["id_token"]) != kid(answer["access_token"])
    assert served_kids(lc) == [kid(answer["id_token"]), kid(answer["access_token"])]
    jwks = jwt.PyJWKClient(lc.url("/.well-known/jwks.json"), cache_keys=False)
    for token in (answer["id_token"], answer["access_token"]):
        key = jwks.get_signing_key_from_jwt(token).key
        assert jwt.decode(token, key, algorithms=["RS256"], issuer=lc.issuer,
                          options={"verify_aud": False})["sub"]


def test_key_rotation_rotates_both_keys(lc, alice):
    old = lc.tokens()
    rotated = lc.cli("rotate-keys")
    assert rotated.exit_code == 0
    new = lc.tokens()
    old_kids = [kid(old["id_token"]), kid(old["access_token"])]
    new_kids = [kid(new["id_token"]), kid(new["access_token"])]
    assert not set(old_kids) & set(new_kids)
    assert all(k in rotated.output for k in new_kids)
    assert lc.verify(old["id_token"])["sub"] == lc.verify(new["id_token"])["sub"]
    assert served_kids(lc) == old_kids + new_kids


def test_retired_key_leaves_jwks_after_its_tokens_expire(lc, alice):
    old_kid = jwt.get_unverified_header(lc.tokens()["id_token"])["kid"]
    lc.cli("rotate-keys")
    with time_machine.travel(time.time() + pool.token_seconds() + 5):
        keys = requests.get(lc.url("/.well-known/jwks.json")).json()["keys"]
    assert old_kid not in [k["kid"] for k in keys] and len(keys) == 2


def test_keys_survive_a_restart(lc, lc_app, alice):
    from flask import Flask

    from blog import localcognito

    id_token = lc.tokens()["id_token"]
    again = Flask("lc", instance_path=lc_app.instance_path)
    again.config["SECRET_KEY"] = "test-secret"
    localcognito.init_app(again)
    jwks = again.test_client().get("/_cognito/.well-known/jwks.json").json
    assert jwt.get_unverified_header(id_token)["kid"] == jwks["keys"][0]["kid"]
    assert len(jwks["keys"]) == 2


def test_refresh_token_rotation_setting(lc, lc_app, alice):
    lc_app.config["LOCAL_COGNITO_REFRESH_TOKEN_ROTATION"] = True
    first = lc.tokens()["refresh_token"]
    answer = lc.refresh(first).json()
    assert answer["refresh_token"] != first and answer["id_token"]
    assert error_of(lc.refresh(first)) == (400, "invalid_grant")
    assert lc.refresh(answer["refresh_token"]).status_code == 200


def test_token_ttl_setting(lc, lc_app, alice):
    lc_app.config["LOCAL_COGNITO_TOKEN_TTL"] = 600
    answer = lc.tokens()
    claims = lc.verify(answer["id_token"])
    access = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert answer["expires_in"] == 600
    assert claims["exp"] - claims["iat"] == 600 == access["exp"] - access["iat"]


def test_unknown_refresh_token(lc, alice):
    assert error_of(lc.refresh("not-a-token")) == (400, "invalid_grant")
