"""Property-based tests (hypothesis): hostile tokens, Markdown and request input.

Each property counts its generated cases in `CASES` (printed at the end of the run);
FUZZ_EXAMPLES sets how many each property tries (see docs/RELIABILITY.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from jwt.utils import base64url_decode

from blog import markdown
from blog import tokens
from tests.support.clients import BASE_URL
from tests.support.clients import csrf_from
from tests.support.clients import post_path
from tests.support.fakeidp import CLIENT_ID
from tests.support.fakeidp import new_key

from . import CASES
from . import EXAMPLES

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
HOSTILE = [
    "\x00",
    "\x01",
    "\x1f",
    "\x7f",
    "\u0085",
    "\u2028",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    "é",
    "../",
    "%00",
    "%2F",
    "'",
    '"',
    "<script>",
    "${x}",
    "\\",
]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hostile_text(max_size: int = 300) -> st.SearchStrategy[str]:
    """Unicode with control characters, path and markup fragments, or a huge string."""
    pieces = st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE))
    return st.one_of(
        st.text(max_size=max_size),
        st.lists(pieces, max_size=30).map("".join),
        st.builds(
            lambda s, n: s * n,
            st.sampled_from(["A", "é", "\x00", "%", "/"]),
            st.integers(1000, 120_000),
        ),
    )


# --- tokens: never accepted unless unchanged, never anything but InvalidToken ---------


def verify(idp, token: object) -> dict | None:
    try:
        return tokens.verify_id_token(
            token, jwks_url=idp.jwks_url, issuer=idp.issuer, client_id=CLIENT_ID
        )
    except tokens.InvalidToken:
        return None


def segments(token: str) -> list[bytes] | None:
    try:
        return [base64url_decode(part) for part in token.split(".")]
    except (ValueError, TypeError):
        return None


random_tokens = st.one_of(
    st.text(max_size=500),
    st.binary(max_size=600).map(b64),
    st.lists(st.text(B64URL, max_size=400), min_size=1, max_size=6).map(".".join),
    st.lists(st.binary(max_size=300).map(b64), min_size=3, max_size=3).map(".".join),
    st.builds(
        lambda h, p: f"{b64(json.dumps(h).encode())}.{b64(json.dumps(p).encode())}.",
        st.dictionaries(
            st.sampled_from(["alg", "kid", "typ", "jku"]),
            st.one_of(
                st.text(max_size=20),
                st.integers(),
                st.sampled_from(["RS256", "none", "HS256"]),
            ),
        ),
        st.dictionaries(st.text(max_size=10), st.integers()),
    ),
)


@FUZZ
@given(token=random_tokens)
def test_random_tokens_are_refused(idp, token):
    CASES["tokens: random strings refused"] += 1
    assert verify(idp, token) is None


def header_variants(idp) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {},
        optional={
            "alg": st.sampled_from(
                [
                    "RS256",
                    "none",
                    "None",
                    "HS256",
                    "RS512",
                    "PS256",
                    "ES256",
                    "",
                    "rs256",
                ]
            ),
            "kid": st.one_of(
                st.just(idp.kid),
                st.text(max_size=40),
                st.integers(),
                st.just("../../../../dev/null"),
                st.just({"a": 1}),
            ),
            "typ": st.sampled_from(["JWT", "at+jwt", ""]),
            "jku": st.just("https://attacker.example/jwks.json"),
            "jwk": st.just({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
            "crit": st.just(["bork"]),
        },
    )


def claim_variants(idp) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {},
        optional={
            "sub": st.one_of(st.text(max_size=10), st.integers(), st.none()),
            "aud": st.one_of(
                st.just("other-client"),
                st.just([CLIENT_ID, "other"]),
                st.text(max_size=10),
            ),
            "iss": st.sampled_from([idp.issuer + "/", idp.issuer.upper(), "https://x"]),
            "exp": st.one_of(st.integers(-(2**40), 2**40), st.text(max_size=5)),
            "token_use": st.sampled_from(["access", "ID", ""]),
            "cognito:groups": st.just(["admins"]),
        },
    )


@st.composite
def mutated_tokens(draw, idp) -> tuple[str, str]:
    """(original, mutant): a valid token with its text, header or claims changed."""
    original = idp.id_token(sub="sub-fuzz")
    header, payload, signature = original.split(".")
    kind = draw(
        st.sampled_from(
            [
                "char",
                "cut",
                "insert",
                "header",
                "claims",
                "segments",
                "hs256",
                "none",
                "resign",
            ]
        )
    )
    if kind == "char":
        at = draw(st.integers(0, len(original) - 1))
        new = draw(st.sampled_from(B64URL + ".=+/ \x00é"))
        return original, original[:at] + new + original[at + 1 :]
    if kind == "cut":
        start = draw(st.integers(0, len(original)))
        return original, original[:start] + original[
            draw(st.integers(start, len(original))) :
        ]
    if kind == "insert":
        at = draw(st.integers(0, len(original)))
        return original, original[:at] + draw(hostile_text(50)) + original[at:]
    if kind == "header":
        fields = {"alg": "RS256", "kid": idp.kid, **draw(header_variants(idp))}
        return original, f"{b64(json.dumps(fields).encode())}.{payload}.{signature}"
    if kind == "claims":
        claims = json.loads(base64url_decode(payload))
        claims.update(draw(claim_variants(idp)))
        return original, f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    if kind == "segments":
        parts = draw(
            st.lists(
                st.sampled_from([header, payload, signature, ""]),
                min_size=1,
                max_size=5,
            )
        )
        return original, ".".join(parts)
    public = idp.key.public_key()
    if kind == "hs256":  # the public key, in some encoding, as an HMAC secret
        secret = draw(
            st.sampled_from(
                [
                    public.public_bytes(
                        serialization.Encoding.PEM,
                        serialization.PublicFormat.SubjectPublicKeyInfo,
                    ),
                    public.public_bytes(
                        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
                    ),
                    public.public_bytes(
                        serialization.Encoding.DER,
                        serialization.PublicFormat.SubjectPublicKeyInfo,
                    ),
                    json.dumps(idp.keys[0]).encode(),
                ]
            )
        )
        head = b64(json.dumps({"alg": "HS256", "kid": idp.kid}).encode())
        mac = hmac.new(secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()
        return original, f"{head}.{payload}.{b64(mac)}"
    if kind == "none":
        alg = draw(st.sampled_from(["none", "None", "NONE", "nOnE", "RS256"]))
        head = b64(json.dumps({"alg": alg, "kid": idp.kid}).encode())
        return original, f"{head}.{payload}."
    # "resign": a key the pool never published, our kid
    claims = json.loads(base64url_decode(payload))
    return original, idp.sign(claims, key=ATTACKER_KEY.setdefault("key", new_key()))


ATTACKER_KEY: dict = {}


@FUZZ
@given(data=st.data())
def test_mutated_tokens_are_refused_unless_unchanged(idp, data):
    original, mutant = data.draw(mutated_tokens(idp))
    CASES["tokens: mutated valid token refused"] += 1
    if verify(idp, mutant) is not None:
        # Only a different spelling of the very same bytes may pass (base64 slack bits).
        assert segments(mutant) == segments(original), mutant


def test_the_unmutated_token_is_accepted(idp):
    """The properties above would pass vacuously if nothing ever verified."""
    assert verify(idp, idp.id_token(sub="sub-fuzz"))["sub"] == "sub-fuzz"


# --- Markdown: no script, no event handler, no javascript: URL ------------------------

MARKUP = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//x>",
    "</script>",
    "javascript:",
    "JaVaScRiPt:alert(1)",
    "java\tscript:",
    "java\nscript:",
    "&#106;avascript:",
    "&#x6A;avascript:",
    "&#0000106avascript:",
    "%6A%61vascript:",
    "vbscript:",
    "data:text/html;base64,PHNjcmlwdD4=",
    " onerror=alert(1)",
    "onload=",
    "<img ",
    "src=x ",
    "<a href=",
    "<svg/onload=alert(1)>",
    "<iframe src=",
    "<style>",
    "[x](",
    "](",
    ")",
    "![y](",
    "<",
    ">",
    '"',
    "'",
    "`",
    "```",
    "\n",
    "\n\n",
    " ",
    "[r]: ",
    "[r]",
    "<javascript:alert(1)>",
    "<http://a.example>",
    "\\",
    "&",
    "&lt;",
    "*",
    "_",
    "# ",
    "> ",
    "| a | b |\n|---|---|\n",
    "- ",
    "1. ",
    "\x00",
    "\u2028",
    "\x0b",
    "\x01",
    "http://",
    "mailto:",
    "//evil.example",
    "\u00a0",
]
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "background",
    "poster",
    "srcset",
    "data",
}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")


class Inspector(HTMLParser):
    """Collects what a browser would act on: tags, attribute names, URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in (
            "script",
            "iframe",
            "object",
            "embed",
            "svg",
            "style",
            "base",
            "form",
            "meta",
            "link",
        ):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            if name in URL_ATTRIBUTES and value is not None:
                url = CONTROL.sub("", value).lower()  # browsers drop these from URLs
                scheme = re.match(r"([a-z][a-z0-9+.-]*):", url)
                if scheme and scheme.group(1) not in ALLOWED_SCHEMES:
                    self.problems.append(f"{name}={value!r}")

    handle_startendtag = handle_starttag


markdown_text = st.lists(
    st.one_of(st.sampled_from(MARKUP), st.text(max_size=8)), max_size=40
).map("".join)


@settings(max_examples=EXAMPLES * 2, deadline=None)
@given(text=markdown_text)
def test_markdown_never_yields_script_handlers_or_script_urls(text):
    CASES["markdown: rendered output inspected"] += 1
    html = str(markdown.render(text))
    assert "<script" not in html.lower()
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    assert not inspector.problems, (text, html)


def test_the_inspector_sees_what_it_looks_for():
    inspector = Inspector()
    inspector.feed('<a href=" JAVA&#x09;script:x">a</a><img src=x onerror=y><script>')
    assert len(inspector.problems) == 3


# --- requests: hostile cursors, ids, form fields and headers are 4xx, never 500 -------


@pytest.fixture
def writer(app, client, auth):
    """A logged-in client with a few posts, and the CSRF token of its session."""
    auth.login("alice")
    token = csrf_from(client.get("/posts/new").text)
    for n in range(12):  # more than a page, so that real cursors exist too
        first = client.post(
            "/posts/new",
            data={"csrf_token": token, "title": f"Post {n}", "body": "Body"},
        )
    client.own_post = post_path(first.headers["Location"])  # where edits go
    return client, token


def no_error(response) -> int:
    """The status of an answer that is not a server failure.

    The apps here run with TESTING, so an unhandled exception is raised into the test
    (test_a_crash_reaches_the_test) instead of becoming a page: what only a failure
    produces is that exception or a 5xx status, never some words in the body, which a
    member may have typed and the form echoes.
    """
    assert response.status_code < 500, response.status
    return response.status_code


def test_a_crash_reaches_the_test(app, client):
    """The oracle above relies on this: a crash in a view is not hidden in a page."""
    app.add_url_rule("/crash", "crash", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        client.get("/crash")


cursors = st.one_of(
    hostile_text(),
    st.binary(max_size=200).map(b64),
    st.builds(
        lambda value: b64(json.dumps(value).encode()),
        st.one_of(
            st.tuples(
                st.one_of(
                    st.integers(-(2**64), 2**64),
                    st.floats(),
                    st.text(max_size=5),
                    st.none(),
                ),
                st.one_of(st.uuids().map(str), st.text(max_size=40), st.integers()),
            ),
            st.lists(st.integers(), max_size=4),
            st.dictionaries(st.text(), st.integers()),
        ),
    ),
)


@FUZZ
@given(cursor=cursors)
def test_any_cursor_is_a_page_or_a_400(writer, cursor):
    client, _ = writer
    CASES["http: ?cursor= values"] += 1
    assert no_error(client.get("/posts/?cursor=" + quote(cursor, safe=""))) in (
        200,
        400,
    )


@FUZZ
@given(
    post_id=hostile_text(200).filter(lambda s: s.strip("/") not in ("", "new")),
    action=st.sampled_from(["", "/edit", "/delete"]),
    method=st.sampled_from(["GET", "POST"]),
)
def test_any_post_id_is_a_4xx(writer, post_id, action, method):
    client, token = writer
    CASES["http: post ids in /posts/<id>[/edit|/delete]"] += 1
    path = f"/posts/{quote(post_id, safe='')}{action}"
    data = (
        {"csrf_token": token, "title": "t", "body": "b"} if method == "POST" else None
    )
    response = client.open(path, method=method, data=data)
    status = no_error(response)
    if status == 308:  # werkzeug merges the slashes of a decoded %2F: same site
        assert response.headers["Location"].startswith(
            ("/posts/", BASE_URL + "/posts/")
        )
    else:
        assert 400 <= status < 500


form_fields = st.dictionaries(
    st.one_of(
        st.sampled_from(["title", "body", "csrf_token", "id", "author_sub"]),
        hostile_text(30),
    ),
    hostile_text(),
    max_size=6,
)


@FUZZ
@given(fields=form_fields, keep_token=st.booleans(), edit=st.booleans())
# A member may type anything, words of an error page included (found by a fresh run).
@example(fields={"title": "Traceback", "body": "Traceback (most recent call last):"},
         keep_token=True, edit=False)
def test_any_form_is_saved_or_refused_never_a_500(writer, fields, keep_token, edit):
    client, token = writer
    CASES["http: form fields on new and edit"] += 1
    if keep_token:
        fields = {**fields, "csrf_token": token}
    path = "/posts/new"
    if edit:
        path = client.own_post + "/edit"
    response = client.post(path, data=fields)
    status = no_error(response)
    assert status in (302, 400, 413)
    if status == 302:
        assert no_error(client.get(response.headers["Location"])) == 200


HEADERS = [
    "Cookie",
    "Origin",
    "Referer",
    "Host",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "Accept",
    "Accept-Language",
    "Accept-Encoding",
    "User-Agent",
    "If-None-Match",
    "If-Modified-Since",
    "Range",
    "Authorization",
    "Content-Type",
    "X-CSRFToken",
]


def wire(value: str) -> str:
    """A header value as it arrives: bytes read as latin-1, no line breaks."""
    return value.replace("\r", "").replace("\n", "").encode()[:16_000].decode("latin-1")


@FUZZ
@given(
    headers=st.dictionaries(
        st.sampled_from(HEADERS), hostile_text().map(wire), min_size=1, max_size=4
    ),
    post=st.booleans(),
)
def test_any_header_value_is_answered_never_a_500(writer, headers, post):
    client, token = writer
    CASES["http: header values on list and publish"] += 1
    if post:
        response = client.post(
            "/posts/new",
            headers=headers,
            data={"csrf_token": token, "title": "Headers", "body": "Body"},
        )
    else:
        response = client.get("/posts/", headers=headers)
    assert no_error(response) in (
        (302, 400, 403, 413, 415) if post else (200, 302, 400)
    )


@pytest.mark.parametrize("host", ["x..y", "a" * 64 + ".example"])
def test_a_malformed_host_header_is_a_400(client, host):
    assert client.get("/posts/", headers={"Host": host}).status_code == 400
