"""The filesystem session store: unfinished logins never push out a member's session.

Every anonymous GET /auth/login stores a session. cachelib evicts the oldest entries
past its threshold, so a flood of them used to log members out.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
import time_machine
from flask import Flask

THRESHOLD = 5
TALLY = hashlib.sha256(b"__wz_cache_count").hexdigest()  # cachelib's own count file


@pytest.fixture
def app(make_app) -> Flask:
    return make_app(SESSION_FILE_THRESHOLD=THRESHOLD)


def session_files(app: Flask) -> int:
    """The sessions on disk, as the blog's owner would count them."""
    folder = Path(app.instance_path) / "sessions"
    return sum(1 for file in folder.iterdir() if file.name != TALLY)


def flood(app: Flask, logins: int) -> None:
    """Unfinished logins, each from a new visitor (an attacker's script)."""
    for _ in range(logins):
        assert app.test_client().get("/auth/login").status_code == 302


def test_unfinished_logins_never_log_a_member_out(app, auth, client):
    auth.callback(auth.start())
    assert client.get("/posts/").status_code == 200
    flood(app, 4 * THRESHOLD)
    page = client.get("/posts/")
    assert page.status_code == 200 and "alice" in page.get_data(as_text=True)


def test_unfinished_logins_are_deleted_ten_minutes_on(app, auth, client):
    auth.callback(auth.start())
    flood(app, 4 * THRESHOLD)
    assert session_files(app) == 4 * THRESHOLD + 1  # over the threshold, all live
    with time_machine.travel(time.time() + 11 * 60):
        flood(app, 1)  # a write past the threshold deletes the expired ones
        assert session_files(app) == 2  # the member's and the newest login's
        assert client.get("/posts/").status_code == 200


def test_a_login_left_for_over_ten_minutes_must_start_again(app, auth):
    params = auth.start()
    with time_machine.travel(time.time() + 11 * 60):
        failed = auth.callback(params)
    assert failed.status_code == 400 and "Sign-in failed" in failed.get_data(True)
