import re
from urllib.parse import urlencode

import requests


def test_wrong_password_is_shown_next_to_the_field(lc, alice, browser):
    page = lc.login(browser, lc.flow(), alice, "Wrong-pass1!")
    assert page.status_code == 200
    assert re.search(r'id="password-error">Incorrect username or password.<', page.text)
    assert "cognito" not in browser.cookies


def test_unknown_user_gets_the_same_message(lc, browser):
    page = lc.login(browser, lc.flow(), "nobody@example.com", "Wrong-pass1!")
    assert "Incorrect username or password." in page.text


def test_login_with_email_in_any_case(lc, alice, browser):
    back = lc.login(browser, lc.flow(), "ALICE@example.com")
    assert back.headers["Location"].startswith("/_cognito/oauth2/authorize?")
    assert "cognito" in browser.cookies


def test_unconfirmed_user_is_told_to_confirm(lc, browser):
    signup = "/_cognito/signup?" + urlencode(lc.flow().params)
    lc.submit(
        browser, signup, email="b@example.com", name="B", password="Pa55word-long"
    )
    page = lc.login(requests.Session(), lc.flow(), "b@example.com", "Pa55word-long")
    assert re.search(r'id="username-error">User is not confirmed.<', page.text)
    assert "/_cognito/confirmUser?username=b@example.com" in page.text
    assert "cognito" not in browser.cookies


def test_unregistered_redirect_uri_shows_an_error_page(lc, browser):
    flow = lc.flow(redirect_uri=lc.base + "/evil")
    page = lc.authorize(browser, flow)
    assert page.status_code == 400 and "Location" not in page.headers
    assert "redirect_mismatch" in page.text
    assert (
        lc.get(browser, page.url.replace("oauth2/authorize", "login")).status_code
        == 400
    )


def test_unknown_client_shows_an_error_page(lc, browser):
    page = lc.authorize(browser, lc.flow(client_id="x" * 26))
    assert page.status_code == 400 and "Location" not in page.headers
    assert "Unknown app client" in page.text


def test_plain_pkce_is_refused_with_an_error_redirect(lc, browser):
    flow = lc.flow(code_challenge_method="plain")
    location = lc.authorize(browser, flow).headers["Location"]
    params = lc.callback_params(location, flow)
    assert params["error"] == "invalid_request" and "code" not in params


def test_logout_uri_must_be_an_allowed_sign_out_url(lc, alice, browser):
    lc.code(browser, lc.flow())
    query = urlencode({"client_id": lc.client_id, "logout_uri": "https://evil.test/"})
    page = lc.get(browser, lc.url("/logout?" + query))
    assert page.status_code == 400 and "Location" not in page.headers
    flow = lc.flow()
    assert lc.authorize(browser, flow).headers["Location"].startswith(lc.callback)


def test_form_without_csrf_token_is_refused(lc, alice, browser):
    url = lc.url("/login?" + urlencode(lc.flow().params))
    answer = browser.post(url, data={"username": alice, "password": "Corr3ct-Horse!"})
    assert answer.status_code == 400 and "expired" in answer.text
    assert "cognito" not in browser.cookies


def test_pages_escape_input_and_use_no_inline_css_or_js(lc, browser):
    page = lc.login(browser, lc.flow(), "<b>x</b>", "pw")
    assert "&lt;b&gt;x&lt;/b&gt;" in page.text and "<b>x</b>" not in page.text
    for html in (page.text, lc.get(browser, "/_cognito/signup").text):
        assert "<style" not in html and "style=" not in html and "<script" not in html
        assert (
            '<link rel="stylesheet" href="/_cognito/static/localcognito.css">' in html
        )
    css = requests.get(lc.url("/static/localcognito.css"))
    assert css.status_code == 200 and ".card" in css.text


def test_cookies_and_no_store(lc, alice, browser):
    back = lc.login(browser, lc.flow(), alice)
    cookie = back.headers["Set-Cookie"]
    assert "cognito=" in cookie and "Path=/_cognito" in cookie
    assert (
        "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=3600" in cookie
    )
    assert back.headers["Cache-Control"] == "no-store"
    token = lc.post("/oauth2/token", grant_type="refresh_token", refresh_token="x")
    assert token.headers["Cache-Control"] == "no-store"


def test_every_page_links_back_to_the_blog(lc, browser):
    flow = urlencode(lc.flow().params)
    for path in ("login", "signup", "confirmUser", "forgotPassword",
                 "confirmForgotPassword"):
        page = lc.get(browser, f"/_cognito/{path}?{flow}")
        assert page.status_code == 200, path
        footer = re.search(r"<footer[^>]*>(.*?)</footer>", page.text, re.S)[1]
        assert f'<a href="{lc.base}/">Back to the blog</a>' in footer, path
        assert "</main>" in page.text.split("<footer")[0]  # a landmark of its own


def test_bookmarked_sign_in_page_offers_the_way_to_the_blog(lc, browser):
    page = lc.get(browser, "/_cognito/login")
    assert page.status_code == 200 and 'name="password"' not in page.text
    assert "Sign in from the blog" in page.text
    assert f'<a href="{lc.base}/">Go to the blog</a>' in page.text
    confirmed = lc.get(browser, "/_cognito/login?notice=confirmed")
    assert "Your account is confirmed." in confirmed.text


def test_confirm_page_says_where_the_code_is(lc, browser):
    page = lc.get(browser, "/_cognito/confirmUser?username=b@example.com")
    assert "printed in the terminal" in page.text
    assert 'href="/_cognito/outbox"' in page.text


def test_outbox_is_a_page_and_json_on_request(lc, alice, browser):
    lc.submit(browser, "/_cognito/forgotPassword", username=alice)
    code = lc.outbox()[-1]["code"]
    page = requests.get(lc.url("/outbox"))
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Your password reset code" in page.text and code in page.text
    assert f"To {alice}" in page.text
    as_json = requests.get(lc.url("/outbox"), headers={"Accept": "application/json"})
    assert as_json.json()[-1]["code"] == code
