"""Signing up, confirming and signing in on the local Cognito's Hosted UI."""

from __future__ import annotations

import re
import time

import pytest

from blog.localcognito import accounts
from tests.support.clock import Clock

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
    page.get_by_label("Email").fill("carol@example.com")
    page.get_by_label("Name", exact=True).fill("Carol Jones")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    expect(page.get_by_role("heading", name="Confirm your account")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("carol@example.com")
    expect(page.get_by_role("link", name="outbox")).to_be_visible()
    page.get_by_label("Confirmation code").fill(site.code_for("carol@example.com"))
    page.get_by_role("button", name="Confirm account").click()

    # Confirming signs the new member in: no second sign-in form.
    expect(page).to_have_url(site.url("/posts/new"))
    expect(page.get_by_role("heading", name="Write a post")).to_be_visible()
    expect(page.locator(".who")).to_contain_text("Carol Jones")


def test_wrong_password_shows_the_providers_error(site, person):
    page = person.page
    page.goto("/posts/new")
    person.sign_in("alice@example.com", "Wrong-Passw0rd!")
    expect(page.get_by_text("Incorrect username or password.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/_cognito/login\?"))
    expect(page.get_by_label("Email")).to_have_value("alice@example.com")
    expect(page.get_by_label("Password")).to_be_empty()

    person.sign_in("alice@example.com")
    expect(page).to_have_url(site.url("/posts/new"))


def test_five_wrong_passwords_lock_the_account_for_a_while(
    site, person, monkeypatch
):
    clock = Clock()
    clock.now = time.time()
    monkeypatch.setattr(accounts, "clock", clock)  # the server runs in this process
    page = person.page
    page.goto("/posts/new")
    for _ in range(5):
        person.sign_in("alice@example.com", "Wrong-Passw0rd!")
        expect(page.get_by_text("Incorrect username or password.")).to_be_visible()
    person.sign_in("alice@example.com")
    expect(page.get_by_text("Password attempts exceeded")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/_cognito/login\?"))

    clock.advance(2)
    person.sign_in("alice@example.com")
    expect(page).to_have_url(site.url("/posts/new"))


def test_bookmarked_sign_in_page_leads_back_to_the_blog(site, person):
    page = person.page
    page.goto("/_cognito/login")
    expect(page.get_by_role("heading", name="Sign in from the blog")).to_be_visible()
    page.get_by_role("link", name="Go to the blog").click()
    expect(page).to_have_url(site.url("/"))
