"""Markdown to safe HTML: markdown-it without raw HTML, then nh3 as a second line.

Posts are rendered once, when saved (`prepare`), under a time limit: some short inputs
(`![` repeated, long runs of brackets or emphasis) make markdown-it-py take seconds.
Bare URLs become links (linkify), fenced code with a known language is highlighted by
Pygments as `<span class>` (blog/static/style.css colours them; no inline styles), code
blocks scroll by keyboard (`tabindex="0"` on the <pre>), and table alignment is the
`align` attribute (the CSP forbids the `style` markdown-it would write).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import LEXERS
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

# A parser holds no app state; building it once per process keeps rendering cheap.
PARSER = MarkdownIt("commonmark", {"html": False, "linkify": True}).enable(
    ["table", "strikethrough", "linkify"])
TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "em", "strong",
    "s", "code", "pre", "blockquote", "hr", "br", "img",
    "table", "thead", "tbody", "tr", "th", "td", "span",
}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
# Attributes allowed only with these exact values: what the renderers below write.
# `class` nowhere else, `tabindex` on <pre> only.
CODE_BLOCK_CLASS = "highlight"
ALIGNMENTS = {"left", "center", "right"}
VALUES = {
    "pre": {"class": {CODE_BLOCK_CLASS}, "tabindex": {"0"}},
    "code": {"class": {f"language-{aliases[0]}" for _, _, aliases, _, _
                       in LEXERS.values() if aliases}},
    "span": {"class": {name for name in STANDARD_TYPES.values() if name}},
    "th": {"align": ALIGNMENTS},
    "td": {"align": ALIGNMENTS},
}
FORMATTER = HtmlFormatter(nowrap=True)  # bare <span class="k">: no inline styles
HIGHLIGHT_MAX = 20_000  # characters of one code block Pygments may colour
HIGHLIGHT_TIME = 0.2  # seconds of highlighting a save may spend; then plain code
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
    """A body's safe HTML, its plain-text excerpt and its word count, as stored with
    the post."""

    html: str
    excerpt: str
    words: int = 0


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

# linkify-it is called once per text token after the inline pass (and at each `:`);
# URL-dense text spends most of its time there, so those calls check the deadline too.
_deadline: ContextVar[float] = ContextVar("deadline", default=math.inf)


def linkify_timed(method: Callable[..., Any]) -> Callable[..., Any]:
    def check(*args: Any) -> Any:
        if time.perf_counter() > _deadline.get():
            raise TooComplex(SLOW)
        return method(*args)
    return check


for _name in ("test", "match", "match_at_start"):
    setattr(PARSER.linkify, _name, linkify_timed(getattr(PARSER.linkify, _name)))


def code_html(content: str, language: str, env: dict) -> str:
    """A scrollable, focusable code block; coloured when `language` is known."""
    lexer, html = None, None
    if (language and len(content) <= HIGHLIGHT_MAX and not env.get("plain_code")
            and time.perf_counter() < env.get("highlight_until", math.inf)):
        try:
            lexer = get_lexer_by_name(language)
        except ClassNotFound:
            pass
    if lexer is not None and lexer.aliases:
        label = f' class="language-{escapeHtml(lexer.aliases[0])}"'
        html = highlight(content, lexer, FORMATTER)
    else:
        label, html = "", escapeHtml(content)
    return (f'<pre class="{CODE_BLOCK_CLASS}" tabindex="0"><code{label}>{html}'
            "</code></pre>\n")


def fence(self: Any, tokens: list, idx: int, options: Any, env: dict) -> str:
    token = tokens[idx]
    words = token.info.split()
    return code_html(token.content, words[0].lower() if words else "", env)


def code_block(self: Any, tokens: list, idx: int, options: Any, env: dict) -> str:
    return code_html(tokens[idx].content, "", env)


def table_cell(self: Any, tokens: list, idx: int, options: Any, env: dict) -> str:
    """<th>/<td> with `align` in place of markdown-it's `style="text-align:…"`."""
    token = tokens[idx]
    style = token.attrs.pop("style", None)
    if isinstance(style, str) and style.startswith("text-align:"):
        token.attrs["align"] = style.removeprefix("text-align:")
    return self.renderToken(tokens, idx, options, env)


PARSER.add_render_rule("fence", fence)
PARSER.add_render_rule("code_block", code_block)
PARSER.add_render_rule("th_open", table_cell)
PARSER.add_render_rule("td_open", table_cell)


def render(text: str, time_limit: float | None = None,
           plain_code: bool = False) -> Markup:
    """Render Markdown to HTML that is safe to put in a page as is.

    With `time_limit` (seconds), raise `TooComplex` if parsing takes longer.
    `plain_code` leaves code blocks uncoloured.
    """
    env: dict[str, Any] = {"plain_code": plain_code}
    if time_limit is not None:
        now = time.perf_counter()
        env.update(deadline=now + time_limit, highlight_until=now + HIGHLIGHT_TIME)
    deadline = _deadline.set(env.get("deadline", math.inf))
    try:
        return clean(PARSER.render(text, env))
    finally:
        _deadline.reset(deadline)


def clean(html: str) -> Markup:
    """Keep only the tags, attributes and values the renderer writes (nh3)."""
    return Markup(nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES,
                            tag_attribute_values=VALUES,
                            url_schemes={"http", "https", "mailto"},
                            link_rel="noopener noreferrer nofollow"))


def prepare(text: str, time_limit: float | None = TIME_LIMIT) -> Rendered:
    """The HTML and excerpt to store with a post; `TooComplex` if over the limits."""
    html = render(text, time_limit)
    if len(html.encode()) > HTML_MAX:  # colours cost bytes: try without them
        html = render(text, time_limit, plain_code=True)
    size = len(html.encode())
    if size > HTML_MAX:
        raise TooComplex(LARGE.format(max=HTML_MAX, size=size))
    return Rendered(str(html), summary(html), count_words(html))


def prepare_or_plain(text: str) -> Rendered:
    """`prepare`, or for a body over the limits its text as typed, unformatted."""
    try:
        return prepare(text)
    except TooComplex:
        html = Markup("<pre>{}</pre>").format(text)
        return Rendered(str(html), summary(Markup("<p>{}</p>").format(text)),
                        count_words(html))


def count_words(html: Markup) -> int:
    """The number of words in rendered HTML's text (for the reading time)."""
    return len(html.striptags().split())


def summary(html: Markup, length: int = EXCERPT_LENGTH) -> str:
    """The first `length` characters of rendered HTML's text, without markup."""
    plain = " ".join(html.striptags().split())
    return plain if len(plain) <= length else plain[:length].rsplit(" ", 1)[0] + "…"


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    """The first `length` characters of the rendered text, without markup."""
    return summary(render(text), length)



# Every rule's regular expressions are compiled on first use (~0.13 s in all): do it
# now, at import, so that it never counts against the first save's TIME_LIMIT (on a
# cold Lambda container that save would otherwise be refused as too complex).
WARM_UP = ("# *a* **b** `c` [d](https://example.com) https://example.org <x@y.z>\n\n"
           "> e\n\n- f\n1. g\n\n| h | i |\n|:-|-:|\n| j | k |\n\n    l\n\n---\n")
render(WARM_UP)
