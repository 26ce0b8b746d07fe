"""Markdown renders the usual things and nothing that can run script."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

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
    ("```\nif a < b:\n  pass\n```",
     '<pre class="highlight" tabindex="0"><code>if a &lt; b:\n  pass\n</code></pre>'),
    ("    indented",
     '<pre class="highlight" tabindex="0"><code>indented\n</code></pre>'),
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
    found = Tags(out).found
    assert [tag for tag, _ in found if tag != "a"] == ["p"]
    for tag, attrs in found[1:]:  # a bare URL in the text is linkified, nothing more
        assert tag == "a" and set(attrs) == {"href", "rel"}
        assert attrs["href"].startswith("https://") and "<" not in attrs["href"]
    assert html.unescape(Markup(out).striptags()) == source


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
    for tag, attrs in Tags(out).found:
        assert not [name for name in attrs if name.startswith("on") or name == "style"]
        assert tag in ("pre", "code", "span") or "class" not in attrs
        assert tag == "pre" or "tabindex" not in attrs
    assert 'src="https://x.example/i.png"' in out and 'alt="i"' in out


def test_excerpt_is_plain_and_short() -> None:
    assert excerpt("# Hi\n\n*there* <b>x</b>") == "Hi there <b>x</b>"
    long = excerpt("word " * 100, length=50)
    assert len(long) <= 51 and long.endswith("…") and "  " not in long


def test_tables_align_by_attribute_not_style() -> None:
    out = render("| left | mid | right |\n|:--|:-:|--:|\n| 1 | 2 | 3 |")
    cells = [(tag, attrs) for tag, attrs in Tags(out).found if tag in ("th", "td")]
    assert [attrs.get("align") for _, attrs in cells] == ["left", "center", "right"] * 2
    assert "style" not in out


def test_bare_urls_become_links() -> None:
    out = render("See https://example.com/a?b=1 and www.example.org.")
    assert ('<a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow">'
            "https://example.com/a?b=1</a>") in out
    assert '<a href="http://www.example.org"' in out


def test_code_is_highlighted_with_classes_and_scrolls_by_keyboard() -> None:
    out = render("```python\ndef f():\n    return '<x>'\n```")
    assert out.startswith('<pre class="highlight" tabindex="0">'
                          '<code class="language-python">')
    assert '<span class="k">def</span>' in out and "&lt;x&gt;" in out
    assert "style" not in out


@pytest.mark.parametrize("source", [
    '```python" class="evil\nx\n```',
    "```nosuchlanguage\nx\n```",
    '<span class="k" tabindex="0">x</span>',
    '<pre class="highlight" tabindex="0">x</pre>',
])
def test_user_input_sets_no_class_or_tabindex(source: str) -> None:
    for tag, attrs in Tags(render(source)).found:
        assert attrs.get("class") in (None, "highlight") and "evil" not in str(attrs)
        assert tag == "pre" or "tabindex" not in attrs


def test_the_sanitiser_keeps_class_and_tabindex_only_where_the_renderer_puts_them():
    from blog.markdown import clean

    hostile = ('<p class="k" tabindex="0">p</p>'
               '<a href="https://x.example" class="k" tabindex="0">a</a>'
               '<img src="https://x.example/i" class="k" tabindex="0">'
               '<span class="evil k" style="x">s</span>'
               '<pre class="evil" tabindex="-1">e</pre>'
               '<code class="language-evil">c</code>'
               '<pre class="highlight" tabindex="0"><code class="language-python">'
               '<span class="k">ok</span></code></pre>')
    kept = [(tag, attrs) for tag, attrs in Tags(clean(hostile)).found
            if {"class", "tabindex", "style"} & set(attrs)]
    assert kept == [
        ("pre", {"class": "highlight", "tabindex": "0"}),
        ("code", {"class": "language-python"}), ("span", {"class": "k"}),
    ]
    table = clean('<table><tr><th align="javascript" class="k">h</th>'
                  '<td align="right" style="x">d</td></tr></table>')
    assert '<th>h</th><td align="right">d</td>' in table


def test_colours_give_way_when_they_would_make_a_post_too_large() -> None:
    from blog.markdown import HTML_MAX
    from blog.markdown import prepare

    code = "```python\n" + "x = (1, 2)\n" * 1800 + "```"  # 20,000 characters
    assert len(render(code).encode()) > HTML_MAX  # coloured
    rendered = prepare(code)
    assert '<span class="' not in rendered.html
    assert rendered.html.startswith('<pre class="highlight" tabindex="0">')


def test_linkify_stops_at_the_deadline_too() -> None:
    from blog import markdown

    deadline = markdown._deadline.set(0.0)  # passed: as during a slow save
    try:
        with pytest.raises(markdown.TooComplex):
            markdown.PARSER.linkify.match("see https://example.com")
    finally:
        markdown._deadline.reset(deadline)
    assert markdown.PARSER.linkify.test("https://example.com")  # no deadline outside


ROOT = Path(__file__).resolve().parents[1]
FIRST_SAVE = """
import re._compiler, sys
from blog import markdown
compiled = []
real = re._compiler.compile
re._compiler.compile = lambda *args: compiled.append(args[0]) or real(*args)
markdown.prepare(sys.argv[1])
print(len(compiled))
"""


def test_the_first_save_in_a_process_compiles_nothing_inside_the_time_limit():
    """Markdown's rules compile their patterns on first use (~0.13 s): the import does
    it, so a cold process's first save is not refused as too slow to format."""
    body = ("Some *text*, a [link](https://example.com), https://example.org and "
            "<x@example.com>.\n\n| a | b |\n|:-|-:|\n| c | d |\n\n> quoted\n\n"
            "- one\n1. two\n\n    indented\n\n---\n`code`\n")
    fresh = subprocess.run([sys.executable, "-c", FIRST_SAVE, body], check=True,
                           capture_output=True, text=True, cwd=ROOT)
    assert fresh.stdout.strip() == "0"
