import re
import time
from urllib.parse import urlencode

import pytest
import time_machine

from blog.localcognito import accounts
from blog.localcognito import pool

POLICY = "Password did not conform with policy: "
GOOD = "Pa55word-long"


@pytest.fixture
def signed_up(lc, browser):
    """Sign up bob@example.com and return the confirmation page URL."""
    signup = "/_cognito/signup?" + urlencode(lc.flow().params)
    answer = lc.submit(
        browser, signup, email="bob@example.com", name="Bob", password=GOOD
    )
    return answer.headers["Location"]


def error_of(page, field: str = "password") -> str:
    return re.search(rf'id="{field}-error">([^<]*)<', page.text)[1]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Sh0rt-Pass1", "Password not long enough"),
        ("lower-only-12", "Password must have uppercase characters"),
        ("UPPER-ONLY-12", "Password must have lowercase characters"),
        ("No-Digits-Here", "Password must have numeric characters"),
    ],
)
def test_password_policy_messages(lc, browser, password, message):
    page = lc.submit(
        browser, "/_cognito/signup", email="b@x.io", name="B", password=password
    )
    assert error_of(page) == POLICY + message


def test_policy_is_the_pools(lc, browser):
    """The enforced policy is pool.json's, the one serverless.yml deploys."""
    policy = pool.password_policy()
    assert (policy["MinimumLength"], policy["RequireSymbols"]) == (12, False)
    shortest = "Aa1" + "x" * (policy["MinimumLength"] - 3)  # no symbol needed
    page = lc.submit(
        browser, "/_cognito/signup", email="b@x.io", name="B", password=shortest[:-1]
    )
    assert error_of(page) == POLICY + "Password not long enough"
    ok = lc.submit(
        browser, "/_cognito/signup", email="b@x.io", name="B", password=shortest
    )
    assert ok.status_code == 302


def test_signup_needs_a_name_and_a_new_email(lc, alice, browser):
    page = lc.submit(
        browser, "/_cognito/signup", email="ALICE@example.com", name="", password=GOOD
    )
    assert error_of(page, "email") == "An account with the given email already exists."
    assert error_of(page, "name").startswith("Enter your name")


def test_wrong_confirmation_code(lc, browser, signed_up):
    code = lc.outbox()[-1]["code"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    page = lc.submit(browser, signed_up, code=wrong)
    assert page.status_code == 200
    assert 'id="code-error">Invalid verification code provided' in page.text
    assert lc.login(browser, lc.flow(), "bob@example.com", GOOD).status_code == 200


def test_confirmation_code_stops_working_after_wrong_tries(lc, browser, signed_up):
    code = lc.outbox()[-1]["code"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(pool.limits()["codeFailuresAllowed"]):
        assert "Invalid verification" in lc.submit(browser, signed_up, code=wrong).text
    refused = lc.submit(browser, signed_up, code=code)
    assert refused.status_code == 200
    assert error_of(refused, "code") == accounts.TOO_MANY
    later = time.time() + pool.limits()["codeLockoutSeconds"] + 1
    with time_machine.travel(later):
        assert lc.submit(browser, signed_up, code=code).status_code == 302


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
    assert answer.headers["Location"].startswith("/_cognito/oauth2/authorize?")


def test_forgot_password_and_reset(lc, alice, browser):
    flow = lc.flow()
    forgot = "/_cognito/forgotPassword?" + urlencode(flow.params)
    reset = lc.submit(browser, forgot, username=alice).headers["Location"]
    code = lc.outbox()[-1]["code"]
    weak = lc.submit(browser, reset, code=code, password="weak")
    assert error_of(weak) == POLICY + "Password not long enough"
    done = lc.submit(browser, reset, code=code, password="N3w-Passw0rd-x")
    assert done.headers["Location"].startswith("/_cognito/login?notice=reset")
    assert "redirect_uri=" in done.headers["Location"]
    back = lc.login(browser, flow, alice, "N3w-Passw0rd-x")
    assert back.headers["Location"].startswith("/_cognito/oauth2/authorize?")


def test_reset_with_wrong_code(lc, alice, browser):
    reset = lc.submit(browser, "/_cognito/forgotPassword", username=alice)
    page = lc.submit(
        browser, reset.headers["Location"], code="000000x", password="N3w-Passw0rd-x"
    )
    assert "Invalid verification code provided" in page.text
    assert lc.login(browser, lc.flow(), alice).status_code == 302


def test_reset_code_stops_working_after_wrong_tries(lc, alice, browser):
    reset = lc.submit(browser, "/_cognito/forgotPassword", username=alice)
    url, code = reset.headers["Location"], lc.outbox()[-1]["code"]
    for _ in range(pool.limits()["codeFailuresAllowed"]):
        lc.submit(browser, url, code="000000x", password="N3w-Passw0rd-x")
    page = lc.submit(browser, url, code=code, password="N3w-Passw0rd-x")
    assert error_of(page, "code") == accounts.TOO_MANY
    assert lc.login(browser, lc.flow(), alice, "N3w-Passw0rd-x").status_code == 200
