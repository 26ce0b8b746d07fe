"""Fixtures of the reliability tests: an identity provider that can go down and back."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from conftest import AuthActions
from conftest import https_app
from fakeidp import FakeIdP
from flask import Flask
from werkzeug.serving import make_server

from blog import jwks

from . import CASES


class OutageIdP(FakeIdP):
    """The fake Cognito, which can also stop listening and come back on its port."""

    def down(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def up(self) -> None:
        port = int(self.url.rsplit(":", 1)[1])
        self.server = make_server("127.0.0.1", port, self.wsgi, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def outage_idp() -> Iterator[OutageIdP]:
    jwks.clear()
    idp = OutageIdP()
    yield idp
    try:
        idp.close()
    except OSError:
        pass
    jwks.clear()


@pytest.fixture
def outage_app(outage_idp: OutageIdP, tmp_path) -> Flask:
    return https_app(outage_idp, tmp_path)


@pytest.fixture
def outage_auth(outage_app: Flask, outage_idp: OutageIdP) -> AuthActions:
    return AuthActions(outage_app.test_client(), outage_idp)


def pytest_terminal_summary(terminalreporter) -> None:
    if CASES:
        terminalreporter.write_sep("-", "reliability: generated cases run per property")
        for name, count in sorted(CASES.items()):
            terminalreporter.write_line(f"{count:>7}  {name}")
