"""The blog in local mode on a free loopback port, with its local Cognito, for tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import requests
from flask import Flask
from werkzeug.serving import make_server

from blog import create_app
from blog import jwks

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
