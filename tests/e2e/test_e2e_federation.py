"""Continue with Google in Chromium, in local mode: the landing page's button, the
look-alike Google's sign-in page, and back on the blog signed in; axe on both pages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.support.localsite import LocalSite

from .browser import expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def site(chromium, tmp_path) -> Iterator[LocalSite]:
    """The blog in local mode with Google federated (its local stand-in)."""
    site = LocalSite(tmp_path, COGNITO_IDENTITY_PROVIDERS="Google")
    yield site
    site.close()


def test_continue_with_google_on_the_landing_page(site, person):
    page = person.page
    page.goto("/")
    button = page.get_by_role("link", name="Continue with Google")
    expect(button).to_have_text("Continue with Google (local stand-in)")
    problems = person.accessibility_problems()

    button.click()
    expect(page).to_have_url(re.compile(r"/_lookalike/Google/authorize\?"))
    expect(page.get_by_text("Local stand-in for Google — not Google")).to_be_visible()
    problems += person.accessibility_problems()
    page.get_by_label("Email").fill("gina@example.com")
    page.get_by_label("Name").fill("Gina Google")
    person.screenshot("federated-sign-in")
    page.get_by_role("button", name="Continue", exact=True).click()

    expect(page).to_have_url(site.url("/posts/"))
    expect(page.locator(".who")).to_have_text("Gina Google")
    expect(page.get_by_role("status")).to_have_text("Signed in as Gina Google.")
    assert problems == []
