"""Local Cognito served by a real server thread on 127.0.0.1, driven like a browser.

`lc_app` is the provider on a bare Flask app; `lc` serves it and drives its flows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from blog import localcognito
from tests.support.localsite import local_cognito_app
from tests.support.oauthflows import ProviderFlows
from tests.support.servers import serve


@pytest.fixture
def lc_app(tmp_path) -> Flask:
    return local_cognito_app(tmp_path, "test-secret")


@pytest.fixture
def lc(lc_app: Flask) -> Iterator[ProviderFlows]:
    with serve(lc_app, poll_interval=0.02) as base:
        client = localcognito.ensure_client(lc_app, base)
        yield ProviderFlows(lc_app, base, client["client_id"], client["client_secret"])


@pytest.fixture
def alice(lc: ProviderFlows) -> str:
    lc.add_user("alice@example.com")
    return "alice@example.com"


@pytest.fixture
def browser() -> requests.Session:
    return requests.Session()
