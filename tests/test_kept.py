"""Nothing typed is lost (blog/kept.py): a post form sent after its session ended is
kept on the server for the member the form was shown to, and after they log in again
the form opens with it; another member logging in on that browser does not get it."""

from __future__ import annotations

import re
import time

import pytest
import time_machine

from blog.markdown import prepare
from blog.storage import Author
from blog.storage import get_store
from tests.support.clients import csrf_from
from tests.support.clients import stored

TEXT = {"title": "Long thought", "body": "Forty minutes of <b>writing</b>"}


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def send_after_the_session_ended(app, client, path: str, how: str, **extra: str):
    """Load the form at `path`, end the session as `how` says, then send the form."""
    page = client.get(path).text
    data = {"csrf_token": csrf_from(page), "writer": hidden(page, "writer"),
            "action": "publish", **TEXT, **extra}
    if 'name="version"' in page:
        data["version"] = hidden(page, "version")
    if how == "idle":
        later = time.time() + app.config["SESSION_IDLE_TIMEOUT"] + 5
        with time_machine.travel(later):
            return client.post(path, data=data)
    with client.session_transaction() as session:
        session.clear()  # the record deleted: no member, no CSRF token left
    return client.post(path, data=data)


def log_in_again(auth, path: str, sub: str):
    response = auth.callback(auth.start(path), sub=sub)
    assert response.status_code == 302 and response.headers["Location"] == path
    assert "Long" not in str(response.headers)
    return auth.client.get(path)


@pytest.mark.parametrize("how", ["idle", "session record gone"])
def test_the_form_opens_with_the_text_after_logging_in_again(app, client, auth,
                                                             how) -> None:
    auth.login(sub="sub-alice")
    answer = send_after_the_session_ended(app, client, "/posts/new", how)
    assert answer.status_code in (400, 401)
    assert "log in again and the form opens with it" in answer.text
    assert "Long" not in str(answer.headers)  # neither a cookie nor a URL holds it
    page = log_in_again(auth, "/posts/new", "sub-alice")
    assert page.status_code == 200
    assert "Your session had ended when you sent this." in page.text
    assert 'value="Long thought"' in page.text
    assert "Forty minutes of &lt;b&gt;writing&lt;/b&gt;</textarea>" in page.text
    assert "kept" not in stored(client)  # handed back once
    assert "Long thought" not in client.get("/posts/new").text


def test_another_member_logging_in_does_not_get_it(app, client, auth) -> None:
    auth.login(sub="sub-alice")
    send_after_the_session_ended(app, client, "/posts/new", "idle")
    assert stored(client)["kept"]["title"] == "Long thought"
    response = auth.callback(auth.start("/posts/new"), sub="sub-bob")
    assert response.status_code == 302 and "kept" not in stored(client)
    page = auth.client.get("/posts/new")
    assert "Long thought" not in page.text and "Forty minutes" not in page.text
    assert "kept" not in stored(client)


def test_an_edit_comes_back_with_the_version_it_was_loaded_with(app, client,
                                                                auth) -> None:
    auth.login(sub="sub-alice")
    with app.app_context():
        post = get_store().create_post("Old", "old", prepare("old"), Author(
            app.config["COGNITO_ISSUER"], "sub-alice"), "alice")
    path = f"/posts/{post.id}/edit"
    send_after_the_session_ended(app, client, path, "idle")
    page = log_in_again(auth, path, "sub-alice").text
    assert 'value="Long thought"' in page
    assert hidden(page, "version") == str(post.updated_at)


def test_a_form_without_a_valid_writer_keeps_nothing(app, client, auth) -> None:
    auth.login(sub="sub-alice")
    answer = send_after_the_session_ended(app, client, "/posts/new", "idle",
                                          writer="forged")
    assert "Copy it, log in again" in answer.text and "Long thought" in answer.text
    assert "kept" not in stored(client)


def test_a_member_logged_in_since_does_not_get_the_old_tab_s_text(app, client,
                                                                  auth) -> None:
    auth.login(sub="sub-alice")
    page = client.get("/posts/new").text
    with client.session_transaction() as session:
        session.clear()
    auth.login("bob")  # bob's own session in this browser, with its own CSRF token
    answer = client.post("/posts/new", data={
        "csrf_token": csrf_from(page), "writer": hidden(page, "writer"), **TEXT})
    assert answer.status_code == 400  # alice's tab: not bob's token
    page = client.get("/posts/new").text
    assert "Long thought" not in page and "Forty minutes" not in page
