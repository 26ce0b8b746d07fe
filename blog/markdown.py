"""Markdown to safe HTML: markdown-it without raw HTML, then nh3 as a second line.

Posts are rendered once, when saved (`prepare`), under a time limit: some short inputs
(`![` repeated, long runs of brackets or emphasis) make markdown-it-py take seconds.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

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
TIME_LIMIT = 0.1  # seconds of parsing a save may spend; real 50,000-char posts: ~40 ms
HTML_MAX = 150_000  # UTF-8 bytes: body, HTML and the rest fit one 400 KB DynamoDB item
EXCERPT_LENGTH = 240
SLOW = ("Its Markdown takes too long to format: simplify long runs of symbols such as "
        "[, ![, *, _ or `, or put such text in a code block.")
LARGE = ("It would be over {max:,} bytes once formatted (it makes {size:,}): "
         "characters such as & and < grow when formatted, so shorten it.")


class TooComplex(ValueError):
    """The body cannot be formatted within the limits; the message says why."""


@dataclasses.dataclass(frozen=True)
class Rendered:
    """A body's safe HTML and its plain-text excerpt, as stored with the post."""

    html: str
    excerpt: str


def timed(rule: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a parser rule so that parsing stops once `env["deadline"]` has passed."""
    def step(state: Any, *args: Any) -> Any:
        if time.perf_counter() > state.env.get("deadline", math.inf):
            raise TooComplex(SLOW)
        return rule(state, *args)
    return step


# The inline loop calls its first rule once per position, link labels call skipToken
# once per token, blocks call their rules once per line (tables and paragraphs too):
# checks there bound every loop of the parser, the quadratic ones included.
for _rule in list(PARSER.block.ruler.__rules__):
    PARSER.block.ruler.at(_rule.name, timed(_rule.fn), {"alt": _rule.alt})
for _ruler in (PARSER.inline.ruler, PARSER.inline.ruler2):
    _first = _ruler.__rules__[0]
    _ruler.at(_first.name, timed(_first.fn), {"alt": _first.alt})
PARSER.inline.skipToken = timed(PARSER.inline.skipToken)  # type: ignore[method-assign]

def render(text: str, time_limit: float | None = None) -> Markup:
    """Render Markdown to HTML that is safe to put in a page as is.

    With `time_limit` (seconds), raise `TooComplex` if parsing takes longer.
    """
    env = {} if time_limit is None else {"deadline": time.perf_counter() + time_limit}
    html = PARSER.render(text, env)
    return Markup(nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES,
                            url_schemes={"http", "https", "mailto"},
                            link_rel="noopener noreferrer nofollow"))


def prepare(text: str, time_limit: float | None = TIME_LIMIT) -> Rendered:
    """The HTML and excerpt to store with a post; `TooComplex` if over the limits."""
    html = render(text, time_limit)
    size = len(html.encode())
    if size > HTML_MAX:
        raise TooComplex(LARGE.format(max=HTML_MAX, size=size))
    return Rendered(str(html), summary(html))


def prepare_or_plain(text: str) -> Rendered:
    """`prepare`, or for a body over the limits its text as typed, unformatted."""
    try:
        return prepare(text)
    except TooComplex:
        html = Markup("<pre>{}</pre>").format(text)
        return Rendered(str(html), summary(Markup("<p>{}</p>").format(text)))


def summary(html: Markup, length: int = EXCERPT_LENGTH) -> str:
    """The first `length` characters of rendered HTML's text, without markup."""
    plain = " ".join(html.striptags().split())
    return plain if len(plain) <= length else plain[:length].rsplit(" ", 1)[0] + "…"


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    """The first `length` characters of the rendered text, without markup."""
    return summary(render(text), length)

