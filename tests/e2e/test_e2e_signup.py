"""Signing up, confirming and signing in on the local Cognito's Hosted UI."""

from __future__ import annotations

import re

import pytest

from .browser import PASSWORD
from .browser import expect

pytestmark = pytest.mark.e2e


def test_new_person_signs_up_confirms_and_lands_on_next(site, person):
    page = person.page
    page.goto("/posts/new")
    expect(page).to_have_url(re.compile(r"/_cognito/login\?"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    person.screenshot("hosted-login")

    page.get_by_role("link", name="Need an account? Sign up").click()
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Email").fill("carol@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    expect(page.get_by_role("heading", name="Confirm your account")).to_be_visible()
    expect(page.get_by_label("Username or email")).to_have_value("carol")
    page.get_by_label("Confirmation code").fill(site.code_for("carol"))
    page.get_by_role("button", name="Confirm account").click()

    expect(page.get_by_role("status")).to_have_text(
        "Your account is confirmed. Sign in to continue.")
    person.sign_in("carol")
    expect(page).to_have_url(site.url("/posts/new"))
    expect(page.get_by_role("heading", name="Write a post")).to_be_visible()
    expect(page.locator(".who")).to_have_text("carol")


def test_wrong_password_shows_the_providers_error(site, person):
    page = person.page
    page.goto("/posts/new")
    person.sign_in("alice", "Wrong-Passw0rd!")
    expect(page.get_by_text("Incorrect username or password.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/_cognito/login\?"))
    expect(page.get_by_label("Username or email")).to_have_value("alice")
    expect(page.get_by_label("Password")).to_be_empty()

    person.sign_in("alice")
    expect(page).to_have_url(site.url("/posts/new"))
