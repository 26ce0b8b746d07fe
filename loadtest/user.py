"""One simulated person: logs in on the Hosted UI, browses, writes and edits, logs out.

Every response is timed and checked: no 5xx, only this user's name in the header, edit
links only on this user's posts, another's edit form refused.
"""

from __future__ import annotations

import html
import random
import re
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests

from tests.support.forms import find_form

from .servers import PASSWORD

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
WHO = re.compile(r'<span class="who"[^>]*>([^<]*)<')
AUTHOR = re.compile(r'<p class="meta">\s*By <a href="/authors/[^"]+">([^<]*)</a> ·')
POST_LINK = re.compile(
    r'<h2 id="title-[^"]+"><a href="/posts/(' + UUID.pattern + r')/[^"]*">'
)
REQUEST_TIMEOUT = 30


class Failed(Exception):
    """A check failed; the message says which and where."""


@dataclass
class Record:
    """What every virtual user reports into, shared under one lock."""

    timings: list[tuple[str, int, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    written: dict[str, tuple[str, str, str]] = field(
        default_factory=dict
    )  # id: who, title, body
    counts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def time(self, label: str, status: int, seconds: float) -> None:
        with self.lock:
            self.timings.append((label, status, seconds))

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def wrote(self, post_id: str, who: str, title: str, body: str) -> None:
        with self.lock:
            self.written[post_id] = (who, title, body)


def label(method: str, url: str) -> str:
    """`GET /posts/{id}/edit`: the route, without ids, slugs or query."""
    path = UUID.sub("{id}", urlsplit(url).path)
    path = re.sub(r"^/posts/{id}/(?!edit$|delete$)[^/]+$", "/posts/{id}/{slug}", path)
    return f"{method} {path}"


class Browser:
    """A cookie jar that follows redirects by hand so that each hop is timed."""

    def __init__(self, base: str, record: Record | None) -> None:
        self.base, self.record = base, record
        self.http = requests.Session()

    def request(
        self, method: str, path: str, data: dict | None = None, expect: int | None = 200
    ) -> requests.Response:
        url = urljoin(self.base, path)
        for _ in range(10):
            started = time.perf_counter()
            try:
                response = self.http.request(
                    method,
                    url,
                    data=data,
                    allow_redirects=False,
                    timeout=REQUEST_TIMEOUT,
                    headers={"Referer": self.base + "/"},
                )
            except requests.RequestException as error:
                if self.record:
                    self.record.time(
                        label(method, url), 599, time.perf_counter() - started
                    )
                raise Failed(f"{method} {url}: {error!r:.300}") from None
            if self.record:
                self.record.time(
                    label(method, url),
                    response.status_code,
                    time.perf_counter() - started,
                )
            if response.status_code >= 500:
                raise Failed(
                    f"{method} {urlsplit(url).path} answered {response.status_code}"
                )
            if response.status_code not in (301, 302, 303, 307, 308):
                break
            url = urljoin(url, response.headers["Location"])
            method, data = (
                ("GET", None) if response.status_code != 307 else (method, data)
            )
        if expect is not None and response.status_code != expect:
            raise Failed(
                f"{label(method, url)} answered {response.status_code}, "
                f"expected {expect}"
            )
        return response

    def submit(
        self, page: requests.Response, expect: int | None = 200, **fields: str
    ) -> requests.Response:
        """Send the page's first POST form but logout's, its fields kept."""
        try:
            form = find_form(page, skip="/auth/logout")
        except LookupError:
            raise Failed(f"no form on {urlsplit(page.url).path}") from None
        data, target = {**form.fields, **fields}, form.action
        return self.request("POST", target, data, expect)


class VirtualUser:
    """Repeats sessions (log in, a few rounds of work, log out) until `deadline`."""

    def __init__(
        self,
        base: str,
        name: str,
        record: Record,
        deadline: float,
        think: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.base, self.name, self.record = base, name, record
        self.deadline, self.think = deadline, think
        self.browser = Browser(base, record)
        self.random = random.Random(seed)
        self.mine: dict[str, int] = {}  # post id: edits so far

    def run(self, start_at: float = 0.0) -> None:
        """Work in sessions until the deadline; after a failure, start afresh."""
        time.sleep(max(0.0, start_at - time.monotonic()))
        while time.monotonic() < self.deadline:
            try:
                self.session()
            except Failed as failure:
                self.record.fail(f"{self.name}: {failure}")
                self.browser = Browser(self.base, self.record)  # a new browser window
                time.sleep(1)

    def page(
        self,
        method: str,
        path: str,
        data: dict | None = None,
        expect: int | None = 200,
        logged_in: bool = True,
    ) -> requests.Response:
        if self.think:
            time.sleep(self.random.uniform(0, 2 * self.think))
        response = self.browser.request(method, path, data, expect)
        self.check_identity(response, logged_in)
        return response

    def check_identity(self, response: requests.Response, logged_in: bool) -> None:
        """The page shows this user's name, and no one else's, or nobody's when out."""
        if "/_cognito/" in response.url or "text/html" not in response.headers.get(
            "Content-Type", ""
        ):
            return
        names = [html.unescape(n).strip() for n in WHO.findall(response.text)]
        expected = [self.name] if logged_in else []
        if names != expected:
            raise Failed(
                f"session mix-up on {urlsplit(response.url).path}: header shows "
                f"{names}, expected {expected}"
            )

    def session(self) -> None:
        self.login()
        for _ in range(3):
            self.browse()
            self.write()
            if time.monotonic() >= self.deadline:
                break
        self.logout()

    def login(self) -> None:
        form = self.page("GET", "/posts/", logged_in=False)
        if 'name="password"' not in form.text:
            raise Failed("logged-out /posts/ did not lead to the Hosted UI login form")
        landed = self.browser.submit(
            form, username=f"{self.name}@example.com", password=PASSWORD
        )
        if urlsplit(landed.url).path != "/posts/":
            raise Failed(f"login landed on {urlsplit(landed.url).path}, not /posts/")
        self.check_identity(landed, logged_in=True)
        self.record.count("logins")

    def browse(self) -> None:
        index = self.page("GET", "/posts/")
        ids = POST_LINK.findall(index.text)
        older = re.search(r'href="(/posts/\?cursor=[^"]+)" rel="next"', index.text)
        if older and self.random.random() < 0.3:
            self.page("GET", html.unescape(older.group(1)))
        for post_id in self.random.sample(ids, min(2, len(ids))):
            self.read(post_id)

    def read(self, post_id: str) -> None:
        """A post's page offers Edit exactly when this user wrote it."""
        detail = self.page("GET", f"/posts/{post_id}", expect=None)
        if detail.status_code == 404:
            return  # deleted meanwhile (nobody deletes in this run, but be fair)
        author = AUTHOR.search(detail.text)
        if detail.status_code != 200 or not author:
            raise Failed(
                f"/posts/{post_id} answered {detail.status_code} without author"
            )
        can_edit = f'href="/posts/{post_id}/edit"' in detail.text
        ours = post_id in self.mine
        if can_edit != ours or (html.unescape(author.group(1)) == self.name) != ours:
            raise Failed(
                f"/posts/{post_id} by {author.group(1)!r} offers edit={can_edit} "
                f"to {self.name} (author: {ours})"
            )
        if not ours:
            self.page("GET", f"/posts/{post_id}/edit", expect=403)

    def write(self) -> None:
        """Publish a post, or edit one of ours; each write is checked on its page."""
        if self.mine and self.random.random() < 0.5:
            post_id = self.random.choice(list(self.mine))
            self.mine[post_id] += 1
            title, body = self.text(post_id, self.mine[post_id])
            form = self.page("GET", f"/posts/{post_id}/edit")
            detail = self.browser.submit(form, title=title, body=body)
            self.record.count("edits")
        else:
            title, body = self.text(None, 0)
            form = self.page("GET", "/posts/new")
            detail = self.browser.submit(form, title=title, body=body)
            match = re.fullmatch(rf"/posts/({UUID.pattern})/[a-z0-9-]+",
                                 urlsplit(detail.url).path)
            if not match:
                raise Failed(f"publishing landed on {urlsplit(detail.url).path}")
            post_id = match.group(1)
            self.mine[post_id] = 0
            self.record.count("posts")
        self.check_identity(detail, logged_in=True)
        if html.escape(title, quote=False) not in detail.text:
            raise Failed(f"/posts/{post_id} does not show the title just saved")
        self.record.wrote(post_id, self.name, title, body)

    def text(self, post_id: str | None, version: int) -> tuple[str, str]:
        marker = f"{self.name}-{self.random.getrandbits(48):012x}"
        return (
            f"{self.name} post {marker} v{version}",
            f"Body {marker} version {version}.\n\n*Written* under load by {self.name}.",
        )

    def logout(self) -> None:
        page = self.page("GET", "/")
        form = re.search(
            r'<form class="inline" action="/auth/logout".*?</form>', page.text, re.S
        )
        if not form:
            raise Failed("no logout form on /")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.group(0)).group(1)
        landed = self.browser.request("POST", "/auth/logout", {"csrf_token": token})
        self.check_identity(landed, logged_in=False)
        again = self.browser.request("GET", "/posts/")
        if 'name="password"' not in again.text:
            raise Failed("after logout /posts/ did not ask for a password again")
        self.record.count("logouts")
