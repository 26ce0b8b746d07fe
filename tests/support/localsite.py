"""The blog in local mode on a free loopback port, with its local Cognito, for tests.

`LocalSite` serves the blog; `BrowsedSite` adds a browser (a requests session) to it.
`LocalCognito` is the local Cognito alone, with a browser that signs in there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests
from flask import Flask

from blog import create_app
from blog import localcognito

from .forms import find_form
from .forms import submit
from .servers import serve

PASSWORD = "Str0ng-Passw0rd!"


def display_name(email: str) -> str:
    """The name the helpers give a user: "alice@example.com" is "Alice"."""
    return email.split("@")[0].title()


def add_user(app: Flask, email: str, *groups: str) -> None:
    """A confirmed user, made with `flask local-cognito add-user`."""
    args = [
        "local-cognito",
        "add-user",
        email,
        "--name",
        display_name(email),
        "--password",
        PASSWORD,
    ]
    for group in groups:
        args += ["--group", group]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output


def read_outbox(url: str) -> list[dict]:
    """The local emails, oldest first: the outbox page's JSON form."""
    answer = requests.get(url, headers={"Accept": "application/json"}, timeout=10)
    assert answer.headers["Content-Type"] == "application/json", answer.text[:200]
    return answer.json()


def local_cognito_app(instance_path: Path, secret_key: str) -> Flask:
    """The local Cognito on a bare Flask app of its own (no blog around it)."""
    app = Flask("localcognito", instance_path=str(instance_path))
    app.config.update(SECRET_KEY=secret_key, TESTING=True)
    localcognito.init_app(app)
    return app


class LocalSite:
    """Serves create_app() in local mode on 127.0.0.1 from a real threaded server."""

    def __init__(self, tmp_path: Path, **config) -> None:
        self.app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), **config})
        self.serving = ExitStack()
        self.base = self.serving.enter_context(serve(self.app))

    @property
    def port(self) -> int:
        return urlsplit(self.base).port

    def url(self, path: str) -> str:
        return self.base + path

    def add_user(self, email: str, *groups: str) -> None:
        """A confirmed user, made with `flask local-cognito add-user`."""
        add_user(self.app, email, *groups)

    def code_for(self, email: str) -> str:
        """The newest code "emailed" to `email`, read from the outbox over HTTP."""
        mails = read_outbox(self.url("/_cognito/outbox"))
        return [mail for mail in mails if mail["to"] == email][-1]["code"]

    def close(self) -> None:
        self.serving.close()


class BrowsedSite(LocalSite):
    """The local-mode blog, and a browser (a requests session) to use it."""

    def __init__(self, tmp_path, **config) -> None:
        super().__init__(tmp_path, **config)
        self.browser = requests.Session()
        self.seen: list[requests.Response] = []

    def get(self, path: str) -> requests.Response:
        response = self.browser.get(urljoin(self.base, path), timeout=10)
        self.seen += [*response.history, response]
        return response

    def submit(self, page: requests.Response, **fields: str) -> requests.Response:
        """Fill in and submit the first POST form on `page`, as a browser would."""
        response = submit(self.browser, page, fields, timeout=10)
        self.seen += [*response.history, response]
        return response

    def login(self, email: str, path: str = "/posts/") -> requests.Response:
        page = self.get(path)
        assert 'name="password"' in page.text
        return self.submit(page, username=email, password=PASSWORD)

    def sign_in_at_stand_in(self, page: requests.Response, email: str,
                            name: str = "") -> requests.Response:
        """Submit a look-alike provider's sign-in page (`page`), as a browser would,
        and follow the way back through the local Cognito to the blog."""
        assert "Local stand-in for" in page.text, page.text[:300]
        return self.submit(page, email=email, name=name)

    def publish(self, title: str, body: str = "Some text") -> requests.Response:
        """Publish a post through the write form; return its page."""
        page = self.get("/posts/new")
        form = find_form(page, skip="/auth/logout")
        response = self.browser.post(
            form.action, timeout=10,
            data={**form.fields, "title": title, "body": body, "action": "publish"})
        self.seen += [*response.history, response]
        assert response.status_code == 200, response.text[:300]
        return response

    def logout(self) -> requests.Response:
        page = self.get("/")
        form = re.search(r'action="/auth/logout".*?value="([^"]+)"', page.text, re.S)
        response = self.browser.post(
            self.base + "/auth/logout",
            timeout=10,
            data={"csrf_token": form.group(1)},
            headers={"Referer": self.base + "/"},
        )
        self.seen += [*response.history, response]
        return response


class LocalCognito:
    """The project's local Cognito on 127.0.0.1, and a browser that signs in there."""

    def __init__(self, app: Flask, base: str) -> None:
        self.app, self.base, self.browser = app, base, requests.Session()

    def provider(self, blog_url: str) -> dict:
        """An app client whose callback and sign-out URLs are the blog's."""
        client = localcognito.ensure_client(self.app, blog_url)
        return {
            "issuer": self.base + "/_cognito",
            "domain": self.base + "/_cognito",
            **client,
        }

    def add_user(self, email: str) -> None:
        add_user(self.app, email)

    def sign_in(self, authorize_url: str, email: str) -> str:
        """Fill in the Hosted UI's login form; return where it sends the browser."""
        login_url = urljoin(
            self.base,
            self.browser.get(authorize_url, allow_redirects=False).headers["Location"],
        )
        back = submit(
            self.browser,
            login_url,
            {"username": email, "password": PASSWORD},
            allow_redirects=False,
        )
        return self.follow(back.headers["Location"])

    def follow(self, url: str) -> str:
        """Follow the provider's redirects until one leaves it."""
        while (url := urljoin(self.base, url)).startswith(self.base):
            answer = self.browser.get(url, allow_redirects=False)
            assert answer.status_code in (302, 303), answer.text[:300]
            url = answer.headers["Location"]
        return url


AnyLocalSite = TypeVar("AnyLocalSite", bound=LocalSite)


@contextmanager
def started(
    site_class: type[AnyLocalSite], tmp_path: Path, *users: str
) -> Iterator[AnyLocalSite]:
    """`site_class` serving with `users` (the JWKS cache is reset around every test)."""
    site = site_class(tmp_path)
    for email in users:
        site.add_user(email)
    yield site
    site.close()


def api_token(site: LocalSite, email: str) -> str:
    """What `flask --app blog api-token EMAIL` prints, against the live server."""
    result = site.app.test_cli_runner().invoke(
        args=["api-token", email, "--password", PASSWORD, "--url", site.base]
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip()
