"""Logging out ends the session, also for the back button and a reload."""

from __future__ import annotations

import re

import pytest

from .browser import expect

pytestmark = pytest.mark.e2e

SIGNED_OUT = re.compile(r"/_cognito/login\?|:\d+/$")  # a login page or the landing page


def test_logout_ends_the_session(site, person):
    page = person.page
    person.login("alice@example.com")
    expect(page.get_by_role("status")).to_have_text("Signed in as Alice.")
    person.publish("Private thoughts", "Visible to members only.")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(site.url("/"))
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    expect(page.get_by_role("link", name="Log in or sign up")).to_be_visible()
    expect(page.locator(".who")).to_have_count(0)
    person.screenshot("landing")

    page.reload()  # the message is shown once
    expect(page.get_by_role("status")).to_have_count(0)
    page.go_back()
    expect(page).to_have_url(SIGNED_OUT)
    assert_nothing_private(page)
    page.reload()
    expect(page).to_have_url(SIGNED_OUT)
    assert_nothing_private(page)

    page.goto("/posts/")
    expect(page).to_have_url(re.compile(r"/_cognito/login\?"))
    expect(page.get_by_label("Password")).to_be_visible()
    person.sign_in("alice@example.com")
    expect(page).to_have_url(site.url("/posts/"))
    expect(page.get_by_role("link", name="Private thoughts")).to_be_visible()


def assert_nothing_private(page) -> None:
    expect(page.locator(".who")).to_have_count(0)
    for text in ("Private thoughts", "Visible to members only.", "Alice"):
        expect(page.locator("body")).not_to_contain_text(text)
