"""The blog in local mode on a free loopback port, with its local Cognito, for tests.

`LocalCognito` is the local Cognito alone, with a browser that signs in there.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import urljoin

import requests
from flask import Flask
from werkzeug.serving import make_server

from blog import create_app
from blog import jwks
from blog import localcognito

PASSWORD = "Str0ng-Passw0rd!"


def add_user(app: Flask, name: str, *groups: str) -> None:
    """A confirmed user, made with `flask local-cognito add-user`."""
    args = [
        "local-cognito",
        "add-user",
        name,
        "--email",
        f"{name}@example.com",
        "--password",
        PASSWORD,
    ]
    for group in groups:
        args += ["--group", group]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output


class LocalSite:
    """Serves create_app() in local mode on 127.0.0.1 from a real threaded server."""

    def __init__(self, tmp_path: Path, **config) -> None:
        self.app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), **config})
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def add_user(self, name: str, *groups: str) -> None:
        """A confirmed user, made with `flask local-cognito add-user`."""
        add_user(self.app, name, *groups)

    def code_for(self, name: str) -> str:
        """The newest code "emailed" to `name`, read from the outbox over HTTP."""
        mails = requests.get(self.url("/_cognito/outbox"), timeout=10).json()
        return [mail for mail in mails if mail["username"] == name][-1]["code"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


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

    def add_user(self, name: str) -> None:
        add_user(self.app, name)

    def sign_in(self, authorize_url: str, username: str) -> str:
        """Fill in the Hosted UI's login form; return where it sends the browser."""
        login_url = urljoin(
            self.base,
            self.browser.get(authorize_url, allow_redirects=False).headers["Location"],
        )
        page = self.browser.get(login_url).text
        fields = {}
        for tag in re.findall(r"<input[^>]*>", page):
            name, value = (
                re.search(r'name="([^"]*)"', tag),
                re.search(r'value="([^"]*)"', tag),
            )
            fields[name[1]] = html.unescape(value[1]) if value else ""
        action = html.unescape(
            re.search(r'<form method="post" action="([^"]+)"', page)[1]
        )
        back = self.browser.post(
            urljoin(login_url, action),
            allow_redirects=False,
            data={**fields, "username": username, "password": PASSWORD},
        )
        return self.follow(back.headers["Location"])

    def follow(self, url: str) -> str:
        """Follow the provider's redirects until one leaves it."""
        while (url := urljoin(self.base, url)).startswith(self.base):
            answer = self.browser.get(url, allow_redirects=False)
            assert answer.status_code in (302, 303), answer.text[:300]
            url = answer.headers["Location"]
        return url


Site = TypeVar("Site", bound=LocalSite)


@contextmanager
def started(site_class: type[Site], tmp_path: Path, *users: str) -> Iterator[Site]:
    """`site_class` serving with `users`, between two resets of the JWKS cache."""
    jwks.clear()
    site = site_class(tmp_path)
    for name in users:
        site.add_user(name)
    yield site
    site.close()
    jwks.clear()
