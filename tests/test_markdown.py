"""Markdown renders the usual things and nothing that can run script."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from blog.markdown import excerpt
from blog.markdown import render

DANGEROUS = ("javascript:", "vbscript:", "data:")


class Tags(HTMLParser):
    """Every start tag of a fragment with its attributes."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def urls(text: str) -> list[str]:
    """Each href and src as a browser reads it (entities decoded, no controls)."""
    found = [attrs.get(name) or "" for _, attrs in Tags(text).found
             for name in ("href", "src")]
    return [re.sub(r"[\x00-\x20]", "", html.unescape(url)).lower() for url in found]


def test_render_returns_markup() -> None:
    assert isinstance(render("hi"), Markup)


@pytest.mark.parametrize("source, expected", [
    ("# Title", "<h1>Title</h1>"),
    ("### Small", "<h3>Small</h3>"),
    ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
    ("1. one\n2. two", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>"),
    ("*em* and **strong**", "<em>em</em> and <strong>strong</strong>"),
    ("`x < y`", "<code>x &lt; y</code>"),
    ("```\nif a < b:\n  pass\n```", "<pre><code>if a &lt; b:\n  pass\n</code></pre>"),
    ("    indented", "<pre><code>indented\n</code></pre>"),
    ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
    ("| a |\n|---|\n| 1 |", "<td>1</td>"),
])
def test_markdown_features(source: str, expected: str) -> None:
    assert expected in render(source)


def test_links_keep_href_and_get_rel() -> None:
    out = render('[site](https://example.com/a?b=1&c=2 "T") [mail](mailto:a@b.example)')
    assert ('<a href="https://example.com/a?b=1&amp;c=2" title="T" '
            'rel="noopener noreferrer nofollow">site</a>') in out
    assert 'href="mailto:a@b.example"' in out


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="https://x.example" onclick="alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    "<div style='background:red'>x</div>",
    "<!-- comment --><svg onload=alert(1)>",
])
def test_raw_html_is_shown_as_text(source: str) -> None:
    out = render(source)
    assert [tag for tag, _ in Tags(out).found] == ["p"]
    assert source in html.unescape(out)


@pytest.mark.parametrize("source", [
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;vascript&colon;alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](<java\tscript:alert(1)>)",
    "[x](<java\nscript:alert(1)>)",
    "[x](\x01javascript:alert(1))",
    "<javascript:alert(1)>",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](data:image/svg+xml;base64,PHN2Zz4=)",
    "![x](javascript:alert(1))",
])
def test_dangerous_urls_are_dropped(source: str) -> None:
    out = render(source)
    assert not any(url.startswith(DANGEROUS) for url in urls(out))


def test_only_known_tags_and_attributes_survive() -> None:
    out = render("# h\n\n[a](https://x.example) ![i](https://x.example/i.png)\n\n"
                 "| a |\n|--:|\n| 1 |\n\n```py\nx\n```")
    for _, attrs in Tags(out).found:
        assert not [name for name in attrs
                    if name.startswith("on") or name in ("style", "class")]
    assert 'src="https://x.example/i.png"' in out and 'alt="i"' in out


def test_excerpt_is_plain_and_short() -> None:
    assert excerpt("# Hi\n\n*there* <b>x</b>") == "Hi there <b>x</b>"
    long = excerpt("word " * 100, length=50)
    assert len(long) <= 51 and long.endswith("…") and "  " not in long
