"""The session cookie's every Set-Cookie, its deletion included, as browsers need it.

Browsers ignore a `__Host-` cookie without `Secure`, `Path=/` or with a `Domain`: a
deletion missing one of them leaves the dead cookie in the browser.
"""

from __future__ import annotations

import time

import pytest
import time_machine

from blog.config import DEFAULTS
from tests.support.clients import csrf_from

from .events import SHAPES
from .events import set_cookies
from .events import text
from .test_wsgi_login import log_in
from .test_wsgi_login import open_gateway

NAME = "__Host-session"


def session_cookies(response: dict, shape: str) -> list[str]:
    return [c for c in set_cookies(response, shape) if c.startswith(NAME + "=")]


def assert_a_browser_applies(set_cookie: str) -> None:
    """What a browser checks before storing (or deleting) a `__Host-` cookie."""
    name, *attributes = [part.strip() for part in set_cookie.split(";")]
    keys = {a.split("=")[0].lower(): a for a in attributes}
    assert "secure" in keys, f"a browser ignores this __Host- cookie: {set_cookie}"
    assert keys.get("path") == "Path=/" and "domain" not in keys, set_cookie
    assert "httponly" in keys and keys.get("samesite") == "SameSite=Lax", set_cookie


def deleted(response: dict, shape: str) -> bool:
    return any("Max-Age=0" in c for c in session_cookies(response, shape))


@pytest.mark.parametrize("shape", SHAPES)
def test_every_session_cookie_from_login_to_logout(cold_start, idp, aws, shape):
    gateway = open_gateway(cold_start, shape)
    answers = [gateway.get(gateway.base + "/auth/login"), log_in(gateway, idp)]
    answers.append(page := gateway.get(gateway.base + "/posts/"))
    assert page["statusCode"] == 200 and NAME in gateway.cookies
    logout = gateway.send("POST", gateway.base + "/auth/logout",
                          form={"csrf_token": csrf_from(text(page))})
    answers.append(logout)
    assert deleted(logout, shape) and NAME not in gateway.cookies
    cookies = [c for answer in answers for c in session_cookies(answer, shape)]
    assert len(cookies) >= 3  # pre-login, login, deletion
    for cookie in cookies:
        assert_a_browser_applies(cookie)
    assert aws.Table("blog-dev-sessions").scan()["Count"] == 0


@pytest.mark.parametrize("shape", SHAPES)
def test_idle_timeout_deletes_the_cookie_in_the_browser(cold_start, idp, aws, shape):
    gateway = open_gateway(cold_start, shape)
    log_in(gateway, idp)
    with time_machine.travel(time.time() + DEFAULTS["SESSION_IDLE_TIMEOUT"] + 5):
        answer = gateway.get(gateway.base + "/posts/")
    assert answer["statusCode"] == 302 and deleted(answer, shape)
    (cookie,) = session_cookies(answer, shape)
    assert_a_browser_applies(cookie)
    assert NAME not in gateway.cookies
    assert aws.Table("blog-dev-sessions").scan()["Count"] == 0
