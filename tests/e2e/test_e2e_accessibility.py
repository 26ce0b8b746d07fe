"""axe-core in Chromium: the Hosted UI's pages and the blog's own have no WCAG 2 A/AA
violations (colour contrast, landmarks, labels, names)."""

from __future__ import annotations

import re

from .browser import expect


def test_hosted_ui_pages_pass_axe(site, person):
    page = person.page
    page.goto("/posts/")
    expect(page).to_have_url(re.compile(r"/_cognito/login\?"))
    problems = person.accessibility_problems()
    page.get_by_role("link", name="Need an account? Sign up").click()
    problems += person.accessibility_problems()
    page.get_by_label("Email").fill("dora@example.com")
    page.get_by_label("Name", exact=True).fill("Dora")
    page.get_by_label("Password").fill("Str0ng-Passw0rd!")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Confirm your account")).to_be_visible()
    problems += person.accessibility_problems()
    page.goto("/_cognito/outbox")
    problems += person.accessibility_problems()
    page.goto("/_cognito/login")  # bookmarked: no login under way
    problems += person.accessibility_problems()
    assert problems == []


def test_blog_pages_pass_axe(site, person):
    page = person.page
    page.goto("/")
    problems = person.accessibility_problems()
    person.login("alice@example.com")
    problems += person.accessibility_problems()
    page.goto("/posts/new")
    problems += person.accessibility_problems()
    post = person.publish("Readable", (
        "Some *text*, a [link](https://example.com) and https://example.org.\n\n"
        "| left | middle | right |\n|:--|:-:|--:|\n| a | b | c |\n\n"
        "```python\ndef greet(name):\n    return f'hello {name}' + '!' * 200\n```\n"))
    page.goto(post)
    problems += person.accessibility_problems()
    assert problems == []


def test_api_docs_pass_axe_in_light_and_dark(site, person):
    """The public API reference, as a visitor without a session sees it."""
    page = person.page
    page.goto("/api/docs")
    expect(page.get_by_role("heading", level=1, name="Blog API")).to_be_visible()
    problems = person.accessibility_problems()
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    problems += person.accessibility_problems()
    assert problems == []
    assert person.context.cookies() == []


def test_the_check_finds_what_it_looks_for(site, person):
    """The two tests above would pass vacuously if axe never ran."""
    person.page.goto("/")
    person.page.evaluate("""() => {
        const p = document.createElement("p");
        p.textContent = "faint"; p.style.color = "#eee"; p.style.background = "#fff";
        document.querySelector("main").append(p);
        const img = document.createElement("img"); img.src = "/static/favicon.svg";
        document.querySelector("main").append(img);
    }""")
    found = " ".join(person.accessibility_problems())
    assert "color-contrast" in found and "image-alt" in found
