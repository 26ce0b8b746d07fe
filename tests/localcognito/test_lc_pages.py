import re
from urllib.parse import urlencode

import requests


def test_wrong_password_is_shown_next_to_the_field(idp, alice, browser):
    page = idp.login(browser, idp.flow(), "alice", "Wrong-pass1!")
    assert page.status_code == 200
    assert re.search(r'id="password-error">Incorrect username or password.<', page.text)
    assert "cognito" not in browser.cookies


def test_unknown_user_gets_the_same_message(idp, browser):
    page = idp.login(browser, idp.flow(), "nobody", "Wrong-pass1!")
    assert "Incorrect username or password." in page.text


def test_login_with_email(idp, alice, browser):
    back = idp.login(browser, idp.flow(), "ALICE@example.com")
    assert back.headers["Location"].startswith("/_cognito/oauth2/authorize?")
    assert "cognito" in browser.cookies


def test_unconfirmed_user_is_told_to_confirm(idp, browser):
    signup = "/_cognito/signup?" + urlencode(idp.flow().params)
    idp.submit(
        browser, signup, username="bob", email="b@example.com", password="Pa55w0rd!"
    )
    page = idp.login(browser, idp.flow(), "bob", "Pa55w0rd!")
    assert re.search(
        r'id="username-error">This account is not confirmed yet.<', page.text
    )
    assert "/_cognito/confirmUser?username=bob" in page.text
    assert "cognito" not in browser.cookies


def test_unregistered_redirect_uri_shows_an_error_page(idp, browser):
    flow = idp.flow(redirect_uri=idp.base + "/evil")
    page = idp.authorize(browser, flow)
    assert page.status_code == 400 and "Location" not in page.headers
    assert "redirect_mismatch" in page.text
    assert (
        idp.get(browser, page.url.replace("oauth2/authorize", "login")).status_code
        == 400
    )


def test_unknown_client_shows_an_error_page(idp, browser):
    page = idp.authorize(browser, idp.flow(client_id="x" * 26))
    assert page.status_code == 400 and "Location" not in page.headers
    assert "Unknown app client" in page.text


def test_plain_pkce_is_refused_with_an_error_redirect(idp, browser):
    flow = idp.flow(code_challenge_method="plain")
    location = idp.authorize(browser, flow).headers["Location"]
    params = idp.callback_params(location, flow)
    assert params["error"] == "invalid_request" and "code" not in params


def test_logout_uri_must_be_an_allowed_sign_out_url(idp, alice, browser):
    idp.code(browser, idp.flow())
    query = urlencode({"client_id": idp.client_id, "logout_uri": "https://evil.test/"})
    page = idp.get(browser, idp.url("/logout?" + query))
    assert page.status_code == 400 and "Location" not in page.headers
    flow = idp.flow()
    assert idp.authorize(browser, flow).headers["Location"].startswith(idp.callback)


def test_form_without_csrf_token_is_refused(idp, alice, browser):
    url = idp.url("/login?" + urlencode(idp.flow().params))
    answer = browser.post(url, data={"username": "alice", "password": "Corr3ct-Horse!"})
    assert answer.status_code == 400 and "expired" in answer.text
    assert "cognito" not in browser.cookies


def test_pages_escape_input_and_use_no_inline_css_or_js(idp, browser):
    page = idp.login(browser, idp.flow(), "<b>x</b>", "pw")
    assert "&lt;b&gt;x&lt;/b&gt;" in page.text and "<b>x</b>" not in page.text
    for html in (page.text, idp.get(browser, "/_cognito/signup").text):
        assert "<style" not in html and "style=" not in html and "<script" not in html
        assert (
            '<link rel="stylesheet" href="/_cognito/static/localcognito.css">' in html
        )
    css = requests.get(idp.url("/static/localcognito.css"))
    assert css.status_code == 200 and ".card" in css.text


def test_cookies_and_no_store(idp, alice, browser):
    back = idp.login(browser, idp.flow(), "alice")
    cookie = back.headers["Set-Cookie"]
    assert "cognito=" in cookie and "Path=/_cognito" in cookie
    assert (
        "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=3600" in cookie
    )
    assert back.headers["Cache-Control"] == "no-store"
    token = idp.post("/oauth2/token", grant_type="refresh_token", refresh_token="x")
    assert token.headers["Cache-Control"] == "no-store"
