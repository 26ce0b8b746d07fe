"""Finding posts in Chromium: tags typed on the form, a tag's page, an author's page
through a byline, the readable address and the pager; axe-core clean on each new page
in the light and the dark colour scheme."""

from __future__ import annotations

import re

import pytest

from .browser import expect

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_tags_and_authors_lead_to_their_pages(site, person, scheme):
    page = person.page
    page.emulate_media(color_scheme=scheme)
    person.login("alice@example.com")
    page.get_by_role("link", name="Write", exact=True).click()
    page.get_by_label("Title").fill("Serverless, Flask & Cognito")
    page.get_by_label("Body").fill("How it runs on **Lambda**.\n\n" + "word " * 400)
    page.get_by_label("Tags").fill("AWS Lambda, python")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text("Post published.")
    expect(page).to_have_url(re.compile(r"/posts/[0-9a-f-]{36}/serverless-flask-cognito$"))
    expect(page.locator(".meta")).to_contain_text("2 min read")
    problems = person.accessibility_problems()

    page.get_by_role("link", name="#aws-lambda").click()
    expect(page).to_have_url(site.url("/tags/aws-lambda"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Posts tagged #aws-lambda")
    expect(page.get_by_role("link", name="Serverless, Flask & Cognito")).to_be_visible()
    problems += person.accessibility_problems()
    person.screenshot(f"tag-page-{scheme}")

    page.locator(".post-card .meta").get_by_role("link", name="Alice").click()
    expect(page).to_have_url(re.compile(r"/authors/[a-z2-7]{24}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice")
    expect(page.get_by_role("link", name="Serverless, Flask & Cognito")).to_be_visible()
    problems += person.accessibility_problems()
    person.screenshot(f"author-page-{scheme}")
    assert problems == []


def test_the_pager_goes_older_and_back(site, person):
    page = person.page
    person.login("alice@example.com")
    for n in range(11):
        person.publish(f"Post {n:02}", "Some words.")
    page.goto("/posts/")
    expect(page.locator(".pager .where")).to_have_text("Page 1 · posts 1–10")
    page.get_by_role("link", name="Older posts →").click()
    expect(page.locator(".pager .where")).to_have_text("Page 2 · posts 11–11")
    expect(page.get_by_role("link", name="Post 00")).to_be_visible()
    assert person.accessibility_problems() == []
    page.get_by_role("link", name="← Newer posts").click()
    expect(page).to_have_url(site.url("/posts/"))
    expect(page.get_by_role("link", name="Post 10")).to_be_visible()
