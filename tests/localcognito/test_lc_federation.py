"""Federated sign-in in local mode: the local Cognito and its look-alike Google.

Over real HTTP: /oauth2/authorize?identity_provider=Google → the look-alike's sign-in
page → /oauth2/idpresponse → a code at the app's redirect_uri → Cognito-shaped tokens
with the federated claims (Amazon Cognito Developer Guide, "Understanding the identity
(ID) token" and "Adding groups to a user pool"). The ID token checks at idpresponse
are also tested as functions.
"""

import re
import time
import uuid
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from flask import Flask

from blog import localcognito
from blog.localcognito import accounts
from blog.localcognito import federation
from blog.localcognito import keys
from blog.localcognito import lookalike
from blog.localcognito import store
from tests.support.forms import submit
from tests.support.localsite import local_cognito_app
from tests.support.oauthflows import ProviderFlows
from tests.support.servers import serve

GROUP = "local-1_LocalPool_Google"  # <pool id>_<provider>, the automatic group


@pytest.fixture
def lc_app(tmp_path) -> Flask:
    app = local_cognito_app(tmp_path, "test-secret")
    app.config["COGNITO_IDENTITY_PROVIDERS"] = ("Google",)
    return app


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def to_provider(lc, browser, flow, provider="Google") -> requests.Response:
    params = {**flow.params, "identity_provider": provider}
    return lc.get(browser, lc.url("/oauth2/authorize?" + urlencode(params)))


def at_provider(lc, browser, flow, **fields) -> requests.Response:
    """Go to the look-alike's page and submit it; return its redirect (not followed)."""
    page = browser.get(to_provider(lc, browser, flow).headers["Location"])
    assert page.status_code == 200, page.text[:300]
    return submit(browser, page, fields, allow_redirects=False)


def federate(lc, browser, flow, email="gina@example.com", name="Gina Google") -> str:
    """Sign in through the look-alike Google; return where the pool sends the app."""
    back = at_provider(lc, browser, flow, email=email, name=name)
    assert back.headers["Location"].startswith(lc.url("/oauth2/idpresponse?"))
    answer = lc.get(browser, back.headers["Location"])
    assert answer.status_code == 302, answer.text[:300]
    return answer.headers["Location"]


def federated_tokens(lc, email="gina@example.com", name="Gina Google") -> dict:
    flow = lc.flow()
    code = lc.callback_params(federate(lc, requests.Session(), flow, email, name), flow)
    answer = lc.exchange(flow, code["code"])
    assert answer.status_code == 200, answer.text
    return {**answer.json(), "nonce": flow.params["nonce"]}


def google_id(lc, email="gina@example.com") -> str:
    with lc.app.app_context():
        return lookalike.find_user("Google", email)["sub"]


def test_authorize_with_identity_provider_goes_to_the_look_alike(lc, browser):
    flow = lc.flow()
    answer = to_provider(lc, browser, flow)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(lc.base + "/_lookalike/Google/authorize?")
    sent = query(location)
    assert sent["redirect_uri"] == lc.url("/oauth2/idpresponse")
    assert sent["response_type"] == "code" and sent["scope"] == "openid email profile"
    assert sent["client_id"] != lc.client_id  # the pool's client at the provider
    assert sent["state"] != flow.params["state"]  # the pool's own
    assert sent["nonce"] != flow.params["nonce"]
    assert "code_challenge" not in sent
    assert "cognito-federation=" in answer.headers["Set-Cookie"]


def test_the_look_alike_page_says_what_it_is(lc, browser):
    page = browser.get(to_provider(lc, browser, lc.flow()).headers["Location"])
    assert "Local stand-in for Google — not Google" in page.text
    assert "There is no password here" in page.text
    assert 'name="email"' in page.text and 'name="password"' not in page.text
    assert re.search(r'<button[^>]*value="cancel"[^>]*>Cancel</button>', page.text)
    css = '<link rel="stylesheet" href="/_lookalike/static/lookalike.css">'
    assert css in page.text
    assert "style=" not in page.text and "<script" not in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_federated_sign_in_gives_cognito_shaped_tokens(lc):
    answer = federated_tokens(lc)
    claims = lc.verify(answer["id_token"])  # the pool's key, iss and aud
    google = google_id(lc)
    assert re.fullmatch(r"[1-9][0-9]{20}", google)
    assert claims["cognito:username"] == f"Google_{google}"
    assert uuid.UUID(claims["sub"]) and claims["sub"] != google
    assert claims["token_use"] == "id" and claims["nonce"] == answer["nonce"]
    assert claims["email"] == "gina@example.com" and claims["name"] == "Gina Google"
    assert claims["email_verified"] is True
    assert claims["cognito:groups"] == [GROUP]
    (identity,) = claims["identities"]
    date_created = identity.pop("dateCreated")
    assert identity == {
        "userId": google,
        "providerName": "Google",
        "providerType": "Google",
        "issuer": None,
        "primary": "true",
    }
    assert isinstance(date_created, str)
    assert abs(int(date_created) - time.time() * 1000) < 60_000  # milliseconds
    access = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert access["username"] == f"Google_{google}" and access["sub"] == claims["sub"]
    assert access["cognito:groups"] == [GROUP] and "identities" not in access
    assert access["client_id"] == lc.client_id and access["token_use"] == "access"


def test_code_comes_back_with_the_apps_state(lc, browser):
    flow = lc.flow()
    params = lc.callback_params(federate(lc, browser, flow), flow)
    assert set(params) == {"code", "state"}


def test_pkce_still_holds(lc, browser):
    flow = lc.flow()
    code = lc.callback_params(federate(lc, browser, flow), flow)["code"]
    refused = lc.exchange(flow, code, code_verifier="w" * 48)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")


def test_same_person_twice_is_one_pool_user(lc):
    first = lc.verify(federated_tokens(lc)["id_token"])
    again = lc.verify(federated_tokens(lc, name="Ignored")["id_token"])
    assert again["sub"] == first["sub"]
    assert again["cognito:username"] == first["cognito:username"]
    assert again["name"] == "Gina Google"  # the provider's account keeps its name
    listing = lc.cli("list-users").output.splitlines()
    assert listing == [
        f"gina@example.com\tGina Google\tGoogle_{google_id(lc)}\t{GROUP}"
        "\tEXTERNAL_PROVIDER"
    ]


def test_attributes_are_updated_at_each_sign_in(lc):
    federated_tokens(lc)
    with lc.app.app_context():
        store.run("UPDATE lookalike_user SET name = 'Gina Renamed'")
    assert lc.verify(federated_tokens(lc)["id_token"])["name"] == "Gina Renamed"


def test_federation_signs_the_browser_in_at_the_pool(lc, browser):
    federate(lc, browser, lc.flow())
    flow = lc.flow()  # no identity_provider: the pool's session answers at once
    lc.callback_params(lc.authorize(browser, flow).headers["Location"], flow)


def test_refresh_and_userinfo_for_a_federated_user(lc):
    answer = federated_tokens(lc)
    refreshed = lc.verify(lc.refresh(answer["refresh_token"]).json()["id_token"])
    assert refreshed["identities"][0]["userId"] == google_id(lc)
    assert refreshed["cognito:groups"] == [GROUP]
    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    info = requests.get(lc.url("/oauth2/userInfo"), headers=headers).json()
    assert info["username"] == f"Google_{google_id(lc)}"
    assert info["email"] == "gina@example.com" and info["email_verified"] == "true"


def test_cancel_sends_access_denied_and_the_apps_state(lc, browser):
    flow = lc.flow()
    back = at_provider(lc, browser, flow, action="cancel", email="")
    sent = query(back.headers["Location"])
    assert sent["error"] == "access_denied" and "code" not in sent
    location = lc.get(browser, back.headers["Location"]).headers["Location"]
    params = lc.callback_params(location, flow)
    assert params["error"] == "access_denied"
    told = "Google Error - access_denied Sign-in cancelled"
    assert params["error_description"] == told
    assert "code" not in params
    assert "cognito" not in browser.cookies  # nobody signed in


def test_unknown_provider_gets_cognitos_error_page(lc, browser):
    page = to_provider(lc, browser, lc.flow(), provider="Facebook")
    assert page.status_code == 400 and "Location" not in page.headers
    assert "Login option is not available. Please try another one." in page.text
    assert browser.get(lc.base + "/_lookalike/Facebook/authorize").status_code == 404


def test_no_provider_is_enabled_by_default(tmp_path, browser):
    app = local_cognito_app(tmp_path, "test-secret")
    with serve(app) as base:
        client = localcognito.ensure_client(app, base)
        lc = ProviderFlows(app, base, client["client_id"], client["client_secret"])
        assert to_provider(lc, browser, lc.flow()).status_code == 400
        assert "Continue with" not in lc.get(browser, lc.authorize(
            browser, lc.flow()).headers["Location"]).text
        assert browser.get(base + "/_lookalike/Google/jwks").status_code == 404
        refused = lc.cli("add-federated-user", "--provider", "Google",
                         "g@example.com", "--name", "G")
        assert refused.exit_code != 0
        assert "none (set BLOG_COGNITO_IDENTITY_PROVIDERS)" in refused.output


def test_cognito_as_identity_provider_is_the_hosted_ui(lc, browser):
    answer = to_provider(lc, browser, lc.flow(), provider="COGNITO")
    assert answer.headers["Location"].startswith("/_cognito/login?")


def test_hosted_ui_offers_the_stand_in(lc, browser):
    flow = lc.flow()
    login = lc.get(browser, lc.authorize(browser, flow).headers["Location"])
    link = re.search(r'<a class="button-link" href="([^"]+)">([^<]+)</a>', login.text)
    assert link[2] == "Continue with Google (local stand-in)"
    href = link[1].replace("&amp;", "&")
    assert query(href) == {**flow.params, "identity_provider": "Google"}
    assert lc.get(browser, href).headers["Location"].startswith(
        lc.base + "/_lookalike/Google/authorize?"
    )


def test_federated_user_cannot_use_the_password_form(lc, browser):
    federated_tokens(lc)
    for login in ("gina@example.com", f"Google_{google_id(lc)}"):
        page = lc.login(requests.Session(), lc.flow(), login, "Corr3ct-Horse!")
        assert "Incorrect username or password." in page.text
    reset = lc.submit(browser, "/_cognito/forgotPassword", username="gina@example.com")
    assert reset.status_code == 302 and lc.outbox() == []


def test_a_pool_user_with_the_same_email_stays_apart(lc):
    lc.add_user("gina@example.com")
    native = lc.verify(lc.tokens("gina@example.com")["id_token"])
    google = lc.verify(federated_tokens(lc)["id_token"])
    assert native["sub"] != google["sub"] and "identities" not in native
    assert lc.verify(lc.tokens("gina@example.com")["id_token"])["sub"] == native["sub"]


def test_idpresponse_state_is_single_use_and_bound_to_the_browser(lc, browser):
    back = at_provider(lc, browser, lc.flow(), email="gina@example.com", name="G")
    other = lc.get(requests.Session(), back.headers["Location"])
    assert other.status_code == 400 and "Invalid state" in other.text
    back = at_provider(lc, browser, lc.flow(), email="gina@example.com")
    assert lc.get(browser, back.headers["Location"]).status_code == 302
    replay = lc.get(browser, back.headers["Location"])
    assert replay.status_code == 400 and "Invalid state" in replay.text


def test_a_forged_code_is_an_error_at_the_app(lc, browser):
    flow = lc.flow()
    back = at_provider(lc, browser, flow, email="gina@example.com", name="G")
    forged = back.headers["Location"].replace("code=", "code=x")
    params = lc.callback_params(lc.get(browser, forged).headers["Location"], flow)
    assert params["error"] == "invalid_request"
    assert params["error_description"].startswith("Google Error - 400 invalid_grant")


# The look-alike as an OpenID provider of its own.


def pool_client(lc) -> dict[str, str]:
    with lc.app.test_request_context(base_url=lc.base):
        return lookalike.client("Google", federation.idp_response_url())


def test_look_alike_token_endpoint_and_keys(lc, browser):
    back = at_provider(lc, browser, lc.flow(), email="gina@example.com", name="G")
    code = query(back.headers["Location"])["code"]
    client, token_url = pool_client(lc), lc.base + "/_lookalike/Google/token"
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": lc.url("/oauth2/idpresponse")}
    wrong = requests.post(token_url, data=form, auth=(client["client_id"], "nope"))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    basic = (client["client_id"], client["client_secret"])
    answer = requests.post(token_url, data=form, auth=basic)
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"
    again = requests.post(token_url, data=form, auth=basic)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    issuer = lc.base + "/_lookalike/Google"
    discovery = requests.get(issuer + "/.well-known/openid-configuration").json()
    assert discovery["issuer"] == issuer and discovery["token_endpoint"] == token_url
    id_token = answer.json()["id_token"]
    jwks = jwt.PyJWKClient(discovery["jwks_uri"], cache_keys=False)
    claims = jwt.decode(id_token, jwks.get_signing_key_from_jwt(id_token).key,
                        algorithms=["RS256"], audience=client["client_id"],
                        issuer=issuer)
    assert claims["sub"] == google_id(lc) and claims["email_verified"] is True
    assert (claims["email"], claims["name"]) == ("gina@example.com", "G")
    assert claims["nonce"]  # the pool's nonce (checked at idpresponse)
    pool_kids = {k["kid"] for k in requests.get(
        lc.url("/.well-known/jwks.json")).json()["keys"]}
    assert jwt.get_unverified_header(id_token)["kid"] not in pool_kids


def test_look_alike_refuses_an_unregistered_redirect_uri(lc, browser):
    location = to_provider(lc, browser, lc.flow()).headers["Location"]
    evil = location.replace("redirect_uri=", "redirect_uri=https%3A%2F%2Fevil.test%2F")
    page = browser.get(evil, allow_redirects=False)
    assert page.status_code == 400 and "not registered" in page.text


def test_look_alike_form_needs_its_csrf_token(lc, browser):
    page = browser.get(to_provider(lc, browser, lc.flow()).headers["Location"])
    refused = browser.post(page.url, data={"email": "gina@example.com", "name": "G"},
                           allow_redirects=False)
    assert refused.status_code == 400 and "expired" in refused.text


def test_a_new_email_needs_a_name(lc, browser):
    page = at_provider(lc, browser, lc.flow(), email="new@example.com", name="")
    assert page.status_code == 200
    assert 'id="name-error">Enter the name this account shows.<' in page.text


# The ID token checks at idpresponse, as functions.


@pytest.fixture
def checks(lc):
    """An app and request context on the served host, and a token maker."""
    with lc.app.test_request_context(base_url=lc.base):
        client = lookalike.client("Google", federation.idp_response_url())
        now = int(time.time())
        claims = {"iss": lookalike.issuer("Google"), "aud": client["client_id"],
                  "sub": "100000000000000000001", "email": "t@example.com",
                  "email_verified": True, "name": "T", "nonce": "n-1",
                  "iat": now, "exp": now + 600}

        def make(jwk=None, **changes) -> str:
            jwk = jwk or lookalike.signing_key("Google")
            return jwt.encode({**claims, **changes}, jwt.PyJWK(jwk).key,
                              algorithm="RS256", headers={"kid": jwk["kid"]})

        yield make


def test_a_genuine_id_token_passes(checks):
    claims = federation.verify_id_token("Google", checks(), "n-1")
    assert claims["sub"] == "100000000000000000001"


def swap_payload(token: str, other: str) -> str:
    header, _, signature = token.split(".")
    return ".".join((header, other.split(".")[1], signature))


@pytest.mark.parametrize(
    "tamper, reason",
    [
        (lambda make: make(jwk=keys.new_jwk()), "unknown key"),
        (lambda make: make(jwk={**keys.new_jwk(), "kid": lookalike.signing_key(
            "Google")["kid"]}), "Signature verification failed"),
        (lambda make: make(aud="someone-else"), "Audience doesn't match"),
        (lambda make: make(iss="https://accounts.google.com"), "Invalid issuer"),
        (lambda make: make(nonce="n-2"), "nonce mismatch"),
        (lambda make: make(exp=int(time.time()) - 60), "expired"),
        (lambda make: swap_payload(make(), make(sub="2")), "Signature verification"),
    ],
)
def test_a_tampered_id_token_is_refused(checks, tamper, reason):
    with pytest.raises(federation.InvalidIdToken, match=reason):
        federation.verify_id_token("Google", tamper(checks), "n-1")


def test_missing_required_attributes_are_refused(checks):
    with pytest.raises(accounts.Invalid) as refused:
        federation.sign_in("Google", {"sub": "1", "email": "t@example.com"})
    assert refused.value.errors == {"name": "Attribute is required"}


# The CLI.


def test_add_federated_user_then_sign_in(lc):
    added = lc.cli("add-federated-user", "--provider", "Google", "hal@example.com",
                   "--name", "Hal Google")
    assert added.exit_code == 0, added.output
    sub = google_id(lc, "hal@example.com")
    assert f"joins the pool as Google_{sub} when it first signs in" in added.output
    assert lc.cli("list-users").output == ""  # not a pool user yet, as on AWS
    claims = lc.verify(federated_tokens(lc, "HAL@example.com", "")["id_token"])
    assert claims["cognito:username"] == f"Google_{sub}"
    assert claims["name"] == "Hal Google"


def test_add_federated_user_refusals(lc):
    unknown = lc.cli("add-federated-user", "--provider", "Facebook",
                     "hal@example.com", "--name", "Hal")
    assert unknown.exit_code != 0
    assert "'Facebook' is not an enabled identity provider. Enabled: Google." in (
        unknown.output)
    args = ["add-federated-user", "--provider", "Google", "hal@example.com"]
    assert lc.cli(*args, "--name", "Hal").exit_code == 0
    twice = lc.cli(*args, "--name", "Hal")
    assert twice.exit_code != 0 and "Google already has this account." in twice.output
    bad = lc.cli("add-federated-user", "--provider", "Google", "nope", "--name", "N")
    assert bad.exit_code != 0 and "Enter a valid email address." in bad.output
    assert "--name" in lc.cli(*args).output


def test_list_users_shows_both_kinds_and_groups_reach_federated_users(lc):
    lc.add_user("ann@example.com")
    federated_tokens(lc)
    username = f"Google_{google_id(lc)}"
    assert lc.cli("add-to-group", username, "admins").exit_code == 0
    native, federated = [line.split("\t") for line in lc.cli("list-users").output
                         .splitlines()]
    assert native[0] == "ann@example.com" and native[3:] == ["-", "CONFIRMED"]
    assert federated[:3] == ["gina@example.com", "Gina Google", username]
    assert set(federated[3].split(",")) == {"admins", GROUP}
    assert federated[4] == "EXTERNAL_PROVIDER"
    groups = lc.verify(federated_tokens(lc)["id_token"])["cognito:groups"]
    assert groups == ["admins", GROUP]
