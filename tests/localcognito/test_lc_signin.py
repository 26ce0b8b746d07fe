"""Signing in as on the deployed pool: lockouts and no user-existence leaks."""

import re
import statistics
import time

import pytest

from blog.localcognito import accounts
from blog.localcognito import pool
from tests.support.clock import Clock

WRONG = "Wrong-passw0rd!"


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The accounts' clock, frozen at now until a test moves it."""
    clock = Clock()
    clock.now = time.time()
    monkeypatch.setattr(accounts, "clock", clock)
    return clock


def password_error(page) -> str:
    return re.search(r'id="password-error">([^<]*)<', page.text)[1]


def sign_in(lc, browser, email: str, password: str):
    return lc.login(browser, lc.flow(), email, password)


def test_five_wrong_passwords_lock_the_account(lc, alice, browser, clock):
    for _ in range(pool.limits()["signInFailuresBeforeLockout"]):
        page = sign_in(lc, browser, alice, WRONG)
        assert password_error(page) == "Incorrect username or password."
    locked = sign_in(lc, browser, alice, "Corr3ct-Horse!")
    assert locked.status_code == 200 and "cognito" not in browser.cookies
    assert password_error(locked) == "Password attempts exceeded"
    clock.advance(1.01)  # the first lockout lasts 1 s
    assert sign_in(lc, browser, alice, "Corr3ct-Horse!").status_code == 302


def test_lockout_doubles_up_to_about_15_minutes(lc, alice, browser, clock):
    for _ in range(5):
        sign_in(lc, browser, alice, WRONG)
    for lockout in [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900]:
        clock.advance(lockout - 0.5)
        page = sign_in(lc, browser, alice, "Corr3ct-Horse!")
        assert password_error(page) == "Password attempts exceeded", lockout
        clock.advance(0.5)
        page = sign_in(lc, browser, alice, WRONG)
        assert password_error(page) == "Incorrect username or password."
    assert pool.limits()["signInLockoutMaxSeconds"] == 900


def test_quiet_15_minutes_start_over(lc, alice, browser, clock):
    for _ in range(5):
        sign_in(lc, browser, alice, WRONG)
    clock.advance(pool.limits()["signInLockoutResetSeconds"])
    for _ in range(4):
        assert password_error(sign_in(lc, browser, alice, WRONG)).startswith("Inc")
    assert sign_in(lc, browser, alice, "Corr3ct-Horse!").status_code == 302


def test_unknown_email_is_locked_out_alike(lc, alice, browser, clock):
    """The lockout itself tells nothing: unknown emails are counted the same way."""
    for email in (alice, "nobody@example.com"):
        pages = [sign_in(lc, browser, email, WRONG) for _ in range(6)]
        assert [password_error(p) for p in pages] == (
            ["Incorrect username or password."] * 5 + ["Password attempts exceeded"]
        )


def test_unknown_email_and_wrong_password_look_and_take_the_same(
    lc, alice, browser, clock
):
    """Same message, and a comparable time: both cost one password hash."""

    def median_seconds(email: str) -> tuple[float, set[str]]:
        times, messages = [], set()
        for _ in range(10):
            clock.advance(1000)  # past any lockout: every try does the full work
            started = time.perf_counter()
            page = sign_in(lc, browser, email, WRONG)
            times.append(time.perf_counter() - started)
            messages.add(password_error(page))
        return statistics.median(times), messages

    known, known_messages = median_seconds(alice)
    unknown, unknown_messages = median_seconds("nobody@example.com")
    assert known_messages == unknown_messages == {"Incorrect username or password."}
    assert 0.5 < unknown / known < 2, (known, unknown)
