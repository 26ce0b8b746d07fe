"""Login, session and logout through wsgi.handler, behind each API Gateway shape."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from urllib.parse import urlencode

import pytest

from tests.support.clients import csrf_from
from tests.support.clients import query_of
from tests.support.fakeidp import CLIENT_ID
from tests.support.fakeidp import CLIENT_SECRET

from .events import HOST
from .events import SHAPES
from .events import Gateway
from .events import set_cookies
from .events import text


def open_gateway(cold_start: Callable[..., ModuleType], shape: str) -> Gateway:
    """A new container whose BLOG_BASE_URL includes the stage, when there is one."""
    stage = "/dev" if shape == "rest" else ""
    return Gateway(cold_start(f"https://{HOST}{stage}"), shape)


def log_in(gateway: Gateway, idp, next_path: str | None = None) -> dict:
    """/auth/login → the Hosted UI (the fake IdP's answer) → the callback's answer."""
    query = "?" + urlencode({"next": next_path}) if next_path else ""
    login = gateway.get(gateway.base + "/auth/login" + query)
    assert login["headers"]["Location"].startswith(idp.domain + "/oauth2/authorize?")
    params = query_of(login["headers"]["Location"])
    assert params["redirect_uri"] == gateway.base + "/auth/authorize"
    idp.token_response = {
        "id_token": idp.id_token(
            nonce=params["nonce"], sub="sub-alice", **{"cognito:username": "alice"}
        ),
        "access_token": "opaque-access",
        "refresh_token": "refresh-1",
        "token_type": "Bearer",
        "expires_in": 3600,
    }
    callback = (
        params["redirect_uri"]
        + "?"
        + urlencode({"code": "the-code", "state": params["state"]})
    )
    return gateway.get(callback)


@pytest.mark.parametrize("shape", SHAPES)
def test_login_write_and_logout_through_the_local_cognito(
    cold_start, local_cognito, aws, shape
):
    stage = "/dev" if shape == "rest" else ""
    provider = local_cognito.provider(f"https://{HOST}{stage}")
    gateway = Gateway(cold_start(f"https://{HOST}{stage}", provider), shape)
    local_cognito.add_user("alice@example.com")
    guarded = gateway.get(gateway.base + "/posts/new")
    assert guarded["headers"]["Location"] == f"{stage}/auth/login?next=/posts/new"
    login = gateway.get(gateway.base + "/auth/login")
    authorize = login["headers"]["Location"]
    assert query_of(authorize)["redirect_uri"] == gateway.base + "/auth/authorize"
    callback = gateway.get(local_cognito.sign_in(authorize, "alice@example.com"))
    assert callback["statusCode"] == 302, text(callback)
    assert callback["headers"]["Location"] == f"{stage}/posts/"
    form = gateway.get(callback["headers"]["Location"] + "new")
    assert form["statusCode"] == 200 and "Log out" in text(form)
    assert 'title="Signed in">Alice' in text(form)  # `name`, not the username
    created = gateway.send(
        "POST",
        gateway.base + "/posts/new",
        form={
            "title": "From Lambda",
            "body": "*café* & more",
            "csrf_token": csrf_from(text(form)),
        },
    )
    assert created["statusCode"] == 302, text(created)
    detail = gateway.get(created["headers"]["Location"])
    assert detail["statusCode"] == 200 and "From Lambda" in text(detail)
    assert "<em>café</em> &amp; more" in text(detail)
    logout = gateway.send(
        "POST",
        gateway.base + "/auth/logout",
        form={"csrf_token": csrf_from(text(detail))},
    )
    assert list(gateway.cookies) == ["__Host-signed-out"]  # the session's is gone
    assert aws.Table("blog-dev-sessions").scan()["Count"] == 0
    assert local_cognito.follow(logout["headers"]["Location"]) == gateway.base + "/"
    landing = gateway.get(gateway.base + "/")
    assert landing["statusCode"] == 200 and "You have signed out." in text(landing)
    assert gateway.cookies == {}
    assert gateway.get(gateway.base + "/posts/")["statusCode"] == 302


@pytest.mark.parametrize("shape", SHAPES)
def test_login_through_the_handler_with_a_scripted_idp(cold_start, idp, shape):
    gateway = open_gateway(cold_start, shape)
    callback = log_in(gateway, idp)
    assert callback["headers"]["Location"] == f"{gateway.stage}/posts/"
    token_call = [r for r in idp.requests if r[1].endswith("/oauth2/token")][-1]
    assert token_call[2]["auth"].password == CLIENT_SECRET  # read from Secrets Manager
    page = gateway.get(gateway.base + "/posts/")
    assert page["statusCode"] == 200 and "alice" in text(page)
    logout = gateway.send(
        "POST",
        gateway.base + "/auth/logout",
        form={"csrf_token": csrf_from(text(page))},
    )
    assert logout["headers"]["Location"] == f"{idp.domain}/logout?" + urlencode(
        {"client_id": CLIENT_ID, "logout_uri": gateway.base + "/"}
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_session_cookie_flags(cold_start, shape):
    gateway = open_gateway(cold_start, shape)
    (cookie,) = set_cookies(gateway.get(gateway.base + "/auth/login"), shape)
    assert cookie.startswith("__Host-session=")
    attributes = [part.strip() for part in cookie.split(";")]
    assert {"Secure", "HttpOnly", "Path=/", "SameSite=Lax"} <= set(attributes)


@pytest.mark.parametrize("shape", ["http1", "http2"])
def test_next_after_login(cold_start, idp, shape):
    gateway = open_gateway(cold_start, shape)
    assert log_in(gateway, idp, "/posts/new")["headers"]["Location"] == "/posts/new"


def test_next_after_login_keeps_the_rest_stage(cold_start, idp):
    gateway = open_gateway(cold_start, "rest")
    assert log_in(gateway, idp, "/posts/new")["headers"]["Location"] == "/dev/posts/new"


def test_a_second_container_reads_the_session(cold_start, idp):
    first, second = cold_start(), cold_start()
    assert first.app is not second.app
    browser = Gateway(first, "http1")
    assert log_in(browser, idp)["statusCode"] == 302
    browser.handler = second.handler
    page = browser.get(browser.base + "/posts/")
    assert page["statusCode"] == 200 and "alice" in text(page)
