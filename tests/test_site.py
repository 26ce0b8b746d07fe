"""The layout every page shares (blog/templates/base.html): the site's name and
description, page titles, and the navigation's mark on the current page."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import nodes

from blog.storage import member_id

TEMPLATES = Path(__file__).resolve().parents[1] / "blog" / "templates"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}  # fmt: skip


class Layout(HTMLParser):
    """What a reader sees of the layout: title, description, brand, nav, footer."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.title = self.footer = self.brand = ""
        self.description: str | None = None
        self.nav: list[tuple[str, str | None]] = []  # (link text, aria-current)
        self.lead: list[str] = []
        self._open: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and attrs.get("name") == "description":
            self.description = attrs["content"]
        elif tag == "a" and "nav" in self._open:
            self.nav.append(("", attrs.get("aria-current")))
            tag = "brand" if attrs.get("class") == "brand" else "nav-link"
        elif tag == "p" and attrs.get("class") == "lead":
            self.lead.append("")
            tag = "lead"
        if tag not in VOID:
            self._open.append(tag)

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        where = self._open[-1] if self._open else ""
        if where == "title":
            self.title += data
        elif where == "footer":
            self.footer += data.strip()
        elif where == "brand":
            self.brand += data
            self.nav[-1] = (self.nav[-1][0] + data, self.nav[-1][1])
        elif where == "nav-link":
            self.nav[-1] = (self.nav[-1][0] + data, self.nav[-1][1])
        elif where == "lead":
            self.lead[-1] += data


def layout(client, path: str) -> Layout:
    return Layout(client.get(path).get_data(as_text=True))


def test_the_site_name_and_description_appear_where_readers_look(make_app):
    app = make_app(SITE_NAME="Field <Notes>", SITE_DESCRIPTION="What we saw & heard.")
    client = app.test_client()
    landing = layout(client, "/")
    assert landing.title == "Field <Notes>"
    assert landing.brand == "Field <Notes>"
    assert landing.footer.startswith("Field <Notes> ·")
    assert landing.description == "What we saw & heard."
    assert landing.lead == ["What we saw & heard."]
    missing = layout(client, "/no-such-page")
    assert missing.title == "Not found · Field <Notes>"
    assert missing.brand == "Field <Notes>"
    assert missing.description == "What we saw & heard."


def test_the_defaults_name_a_blog(client):
    landing = layout(client, "/")
    assert landing.title == landing.brand == "Blog"
    assert landing.description == (
        "A small blog whose members sign in with Amazon Cognito."
    )


@pytest.mark.parametrize(("path", "title"), [
    ("/no-such-page", "Not found · Blog"),
    ("/auth/logout", "Method not allowed · Blog"),
    ("/auth/authorize?error=access_denied", "Sign-in failed · Blog"),
])  # fmt: skip
def test_page_titles_name_the_page_then_the_site(client, path, title):
    assert layout(client, path).title == title


def test_an_unreachable_sign_in_service_is_named_in_the_title(make_app):
    app = make_app(
        COGNITO_METADATA_URL="http://127.0.0.1:9/.well-known/openid-configuration"
    )
    response = app.test_client().get("/auth/login")
    assert response.status_code == 503
    assert Layout(response.get_data(as_text=True)).title == (
        "Sign-in service not answering · Blog"
    )


def title_block(app, name: str) -> str | None:
    """The text a template's `title` block holds, None if it has none."""
    source = (TEMPLATES / name).read_text()
    tree = app.jinja_env.parse(source)
    for block in tree.find_all(nodes.Block):
        if block.name == "title":
            return "".join(
                str(node.data if isinstance(node, nodes.TemplateData) else node)
                for node in block.find_all((nodes.TemplateData, nodes.Name))
            ).strip()
    return None


def test_every_page_on_the_layout_has_a_title_of_its_own(app):
    """The landing page is titled by the site's name alone; the posts' templates are
    checked with those pages."""
    names = [
        str(path.relative_to(TEMPLATES)) for path in sorted(TEMPLATES.rglob("*.html"))
        if '{% extends "base.html" %}' in path.read_text()
    ]
    assert {"main/index.html", "errors/error.html", "auth/failed.html",
            "media/uploaded.html"} <= set(names)  # fmt: skip
    for name in names:
        if name.startswith("posts/") or name == "main/index.html":
            continue
        assert title_block(app, name), f"{name} has no title block"
    assert title_block(app, "main/index.html") is None


@pytest.mark.parametrize(("path", "current"), [
    ("/", None), ("/posts/", "Posts"), ("/posts/new", "Write"),
    ("/posts/drafts", "Drafts"), ("/authors/{me}", "My posts"),
    ("/authors/" + "a" * 24, None),
])  # fmt: skip
def test_the_navigation_marks_the_page_you_are_on(auth, client, path, current, idp):
    auth.login(username="carol")
    nav = layout(client, path.format(me=member_id(idp.issuer, "sub-carol"))).nav
    assert [text for text, _ in nav] == [
        "Blog", "Posts", "My posts", "Write", "Drafts"]
    assert [text for text, mark in nav if mark == "page"] == (
        [current] if current else []
    )
    assert all(mark in (None, "page") for _, mark in nav)
