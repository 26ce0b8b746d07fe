import re
import time
from urllib.parse import urlencode

import pytest
import time_machine


@pytest.fixture
def signed_up(lc, browser):
    """Sign up "bob" and return the confirmation page URL."""
    signup = "/_cognito/signup?" + urlencode(lc.flow().params)
    answer = lc.submit(
        browser, signup, username="bob", email="bob@example.com", password="Pa55w0rd!"
    )
    return answer.headers["Location"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Sh0rt!", "Password must have at least 8 characters."),
        ("lower-only-1", "Password must have an uppercase letter."),
        ("UPPER-ONLY-1", "Password must have a lowercase letter."),
        ("No-Digits-Here", "Password must have a number."),
        ("NoSymbols123", "Password must have a symbol."),
    ],
)
def test_password_policy_messages(lc, browser, password, message):
    page = lc.submit(
        browser, "/_cognito/signup", username="bob", email="b@x.io", password=password
    )
    error = re.search(r'id="password-error">([^<]*)<', page.text)[1]
    assert error == message


def test_taken_username_and_email(lc, alice, browser):
    page = lc.submit(
        browser,
        "/_cognito/signup",
        username="ALICE",
        email="alice@example.com",
        password="Pa55w0rd!",
    )
    assert "An account with this username already exists." in page.text
    assert "An account with this email already exists." in page.text


def test_wrong_confirmation_code(lc, browser, signed_up):
    code = lc.outbox()[-1]["code"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    page = lc.submit(browser, signed_up, code=wrong)
    assert page.status_code == 200
    assert 'id="code-error">Invalid verification code provided' in page.text
    assert lc.login(browser, lc.flow(), "bob", "Pa55w0rd!").status_code == 200


def test_expired_confirmation_code(lc, browser, signed_up):
    code = lc.outbox()[-1]["code"]
    with time_machine.travel(time.time() + 24 * 3600 + 60):
        page = lc.submit(browser, signed_up, code=code)
    assert "Invalid code provided, please request a code again." in page.text


def test_resend_code_replaces_the_old_one(lc, browser, signed_up):
    old = lc.outbox()[-1]["code"]
    page = lc.submit(browser, signed_up, action="resend")
    assert "a new code is on its way" in page.text
    new = lc.outbox()[-1]["code"]
    assert len(lc.outbox()) == 2
    if new != old:
        assert "Invalid verification" in lc.submit(browser, signed_up, code=old).text
    answer = lc.submit(browser, signed_up, code=new)
    assert answer.headers["Location"].startswith("/_cognito/login?notice=confirmed")


def test_forgot_password_and_reset(lc, alice, browser):
    flow = lc.flow()
    forgot = "/_cognito/forgotPassword?" + urlencode(flow.params)
    reset = lc.submit(browser, forgot, username="alice").headers["Location"]
    code = lc.outbox()[-1]["code"]
    weak = lc.submit(browser, reset, code=code, password="weak")
    assert 'id="password-error">Password must have at least 8' in weak.text
    done = lc.submit(browser, reset, code=code, password="N3w-Passw0rd")
    assert done.headers["Location"].startswith("/_cognito/login?notice=reset")
    assert "redirect_uri=" in done.headers["Location"]
    back = lc.login(browser, flow, "alice", "N3w-Passw0rd")
    assert back.headers["Location"].startswith("/_cognito/oauth2/authorize?")


def test_reset_with_wrong_code(lc, alice, browser):
    reset = lc.submit(browser, "/_cognito/forgotPassword", username="alice")
    page = lc.submit(
        browser, reset.headers["Location"], code="000000x", password="N3w-Passw0rd"
    )
    assert "Invalid verification code provided" in page.text
    assert lc.login(browser, lc.flow(), "alice").status_code == 302
