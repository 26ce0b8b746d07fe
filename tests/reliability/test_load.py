"""The load test at CI size, and checks that its own checks catch what they look for."""

from __future__ import annotations

import pytest

import loadtest
from loadtest.user import Failed
from loadtest.user import Record
from loadtest.user import VirtualUser


def test_five_users_for_ten_seconds_on_sqlite():
    report = loadtest.run(users=5, duration=10, store="sqlite", think=0.1)
    print(report.text())
    assert report.ok, report.text()
    assert report.counts["logins"] >= 5 and report.counts["logouts"] >= 5
    assert report.counts["posts"] >= 5 and report.counts.get("edits", 0) >= 1
    assert report.checked_posts >= report.counts["posts"]


class Page:
    def __init__(
        self, text: str, url: str = "http://127.0.0.1/posts/", status: int = 200
    ) -> None:
        self.text, self.url, self.status_code = text, url, status
        self.headers = {"Content-Type": "text/html; charset=utf-8"}


def who(name: str) -> str:
    return f'<span class="who" title="Signed in">{name}</span>'


@pytest.fixture
def user() -> VirtualUser:
    return VirtualUser("http://127.0.0.1", "load000", Record(), deadline=0)


def test_a_page_naming_someone_else_is_a_mixup(user):
    user.check_identity(Page(who("load000")), logged_in=True)
    with pytest.raises(Failed, match="mix-up"):
        user.check_identity(Page(who("load001")), logged_in=True)
    with pytest.raises(Failed, match="mix-up"):
        user.check_identity(Page(who("load000")), logged_in=False)


def test_an_edit_link_on_someone_elses_post_is_caught(user, monkeypatch):
    post_id = "0f0f0f0f-0000-4000-8000-000000000000"
    detail = (
        who("load000")
        + '<p class="meta">By <a href="/authors/x">load001</a> ·</p>'
        f'<a href="/posts/{post_id}/edit">Edit</a>'
    )
    monkeypatch.setattr(user, "page", lambda *args, **kwargs: Page(detail))
    with pytest.raises(Failed, match="offers edit=True"):
        user.read(post_id)


def test_a_missing_or_stale_write_is_reported():
    record = Record()
    record.wrote("a", "load000", "title v1", "Body a version 1.")
    record.wrote("b", "load000", "title v0", "Body b version 0.")
    record.wrote("c", "load001", "title v0", "Body c version 0.")
    listed = {
        "a": ("load000", "title v0", "Body a version 0."),
        "c": ("load001", "title v0", "<p>Body c version 0. more</p>"),
    }
    loadtest.compare(listed, record)
    assert [f.split(":")[0] for f in record.failures] == ["lost edit", "lost write"]


def test_five_users_for_ten_seconds_on_dynamodb():
    """Posts and sessions in DynamoDB (moto_server on 127.0.0.1)."""
    report = loadtest.run(users=5, duration=10, store="dynamodb", think=0.1)
    print(report.text())
    assert report.ok, report.text()
    assert report.counts["posts"] >= 5 and report.counts.get("edits", 0) >= 1
    assert report.table_items["posts"] == report.counts["posts"]
    assert report.table_items["sessions"] >= 1  # the checker's, still logged in
