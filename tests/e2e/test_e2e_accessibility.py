"""axe-core in Chromium: the Hosted UI's pages and the blog's own have no WCAG 2 A/AA
violations (colour contrast, landmarks, labels, names), in the light and the dark
colour scheme (prefers-color-scheme)."""

from __future__ import annotations

import re

import pytest

from .browser import expect

pytestmark = pytest.mark.e2e

SCHEMES = ["light", "dark"]
POST = (
    "Some *text*, a [link](https://example.com) and https://example.org.\n\n"
    "| left | middle | right |\n|:--|:-:|--:|\n| a | b | c |\n\n"
    "Inline `code`.\n\n"
    "```python\n# greets, loudly\n@cache\ndef greet(name: str) -> str:\n"
    "    return f'hello {name}' + '!' * 200 if name else None\n```\n"
)
# What the page is painted with: the root's background (the blog's) or else the body's
# (the Hosted UI's), and the body's text colour.
PAINT = """() => {
    const root = getComputedStyle(document.documentElement);
    const body = getComputedStyle(document.body);
    const transparent = (c) => c === "rgba(0, 0, 0, 0)";
    return {
        background: transparent(root.backgroundColor) ? body.backgroundColor
                                                      : root.backgroundColor,
        text: body.color,
        meta: document.querySelector('meta[name="color-scheme"]')?.content,
    };
}"""


@pytest.fixture(params=SCHEMES)
def scheme(request, person) -> str:
    """The person's browser prefers this colour scheme."""
    person.page.emulate_media(color_scheme=request.param)
    return request.param


def test_hosted_ui_pages_pass_axe(site, person, scheme):
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
    page.get_by_label("Confirmation code").fill("000000")  # wrong: an error shows
    page.get_by_role("button", name="Confirm account").click()
    expect(page.locator(".error")).to_be_visible()
    problems += person.accessibility_problems()
    page.goto("/_cognito/outbox")
    problems += person.accessibility_problems()
    page.goto("/_cognito/login")  # bookmarked: no login under way
    problems += person.accessibility_problems()
    assert problems == []


def test_blog_pages_pass_axe(site, person, scheme):
    page = person.page
    page.goto("/")
    problems = person.accessibility_problems()
    person.login("alice@example.com")  # "Signed in as Alice." and the current page
    problems += person.accessibility_problems()
    page.goto("/posts/new")
    problems += person.accessibility_problems()
    post = person.publish("Readable", POST)
    page.goto(post)
    problems += person.accessibility_problems()
    page.goto("/posts/drafts")
    problems += person.accessibility_problems()
    person.expect_status("/no-such-page", 404)
    page.goto("/no-such-page")
    problems += person.accessibility_problems()
    page.goto("/")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    problems += person.accessibility_problems()
    assert problems == []


def test_api_docs_pass_axe_in_light_and_dark(site, person):
    """The public API reference, as a visitor without a session sees it."""
    page = person.page
    page.goto("/api/docs")
    expect(page.get_by_role("heading", level=1, name="Blog API")).to_be_visible()
    problems = person.accessibility_problems()
    person.screenshot("api-docs")
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    problems += person.accessibility_problems()
    assert problems == []
    assert person.context.cookies() == []


@pytest.mark.parametrize("path", ["/", "/_cognito/login"])
def test_the_dark_scheme_really_applies(site, person, path):
    """The dark runs above would pass vacuously if the dark colours never applied."""
    page = person.page
    painted = {}
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        page.goto(path)
        painted[scheme] = page.evaluate(PAINT)
    light, dark = painted["light"], painted["dark"]
    assert light["meta"] == dark["meta"] == "light dark"
    assert lightness(light["background"]) > 200 > 60 > lightness(dark["background"])
    assert lightness(light["text"]) < 60 and lightness(dark["text"]) > 200


def lightness(colour: str) -> float:
    """The mean of a computed `rgb(r, g, b)` colour's channels, 0 (black) to 255."""
    channels = [int(n) for n in re.findall(r"\d+", colour)[:3]]
    return sum(channels) / 3


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
