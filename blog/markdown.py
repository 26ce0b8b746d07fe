"""Markdown to safe HTML: markdown-it without raw HTML, then nh3 as a second line."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# A parser holds no app state; building it once per process keeps rendering cheap.
PARSER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "em", "strong",
    "s", "code", "pre", "blockquote", "hr", "br", "img",
    "table", "thead", "tbody", "tr", "th", "td",
}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}


def render(text: str) -> Markup:
    """Render Markdown to HTML that is safe to put in a page as is."""
    html = PARSER.render(text)
    return Markup(nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES,
                            url_schemes={"http", "https", "mailto"},
                            link_rel="noopener noreferrer nofollow"))


def excerpt(text: str, length: int = 240) -> str:
    """The first `length` characters of the rendered text, without markup."""
    plain = " ".join(render(text).striptags().split())
    return plain if len(plain) <= length else plain[:length].rsplit(" ", 1)[0] + "…"
