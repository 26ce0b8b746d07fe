"""The local Cognito's OAuth flows driven over HTTP, as a browser and a client would.

Used by tests/localcognito/, which serve the provider on a bare Flask app.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlsplit

import jwt
import requests
from flask import Flask

from blog.api.token_command import challenge

from .forms import submit
from .localsite import display_name
from .localsite import read_outbox

PASSWORD = "Corr3ct-Horse!"


@dataclass
class Flow:
    """One authorization request: its parameters and PKCE verifier."""

    params: dict[str, str]
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(36))


@dataclass
class ProviderFlows:
    """The served local Cognito, and browser- and client-like helpers for its flows."""

    app: Flask
    base: str
    client_id: str
    client_secret: str

    @property
    def issuer(self) -> str:
        return self.base + "/_cognito"

    @property
    def callback(self) -> str:
        return self.base + "/auth/authorize"

    def url(self, path: str) -> str:
        return self.issuer + path

    def flow(self, **overrides: str) -> Flow:
        flow = Flow(params={})
        flow.params.update(
            response_type="code",
            client_id=self.client_id,
            redirect_uri=self.callback,
            scope="openid email profile",
            state=secrets.token_urlsafe(12),
            nonce=secrets.token_urlsafe(24),
            code_challenge=challenge(flow.verifier),
            code_challenge_method="S256",
        )
        flow.params.update(overrides)
        return flow

    def get(self, browser: requests.Session, url: str) -> requests.Response:
        return browser.get(urljoin(self.base, url), allow_redirects=False)

    def authorize(self, browser: requests.Session, flow: Flow) -> requests.Response:
        return self.get(
            browser, self.url("/oauth2/authorize?") + urlencode(flow.params)
        )

    def submit(self, browser: requests.Session, url: str, **data: str):
        """GET a hosted page, then POST its form as a browser would (CSRF included)."""
        return submit(browser, self.get(browser, url), data, allow_redirects=False)

    def login(self, browser, flow: Flow, email: str, password: str = PASSWORD):
        """Start at /oauth2/authorize and post the login form."""
        to_login = self.authorize(browser, flow)
        assert to_login.status_code == 302
        assert to_login.headers["Location"].startswith("/_cognito/login?")
        return self.submit(
            browser, to_login.headers["Location"], username=email, password=password
        )

    def code(self, browser, flow: Flow, email: str = "alice@example.com") -> str:
        """Log in and return the code from the redirect to the callback URL."""
        back = self.login(browser, flow, email)
        callback = self.get(browser, back.headers["Location"]).headers["Location"]
        return self.callback_params(callback, flow)["code"]

    def callback_params(self, location: str, flow: Flow) -> dict[str, str]:
        assert location.startswith(self.callback + "?")
        params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        assert params["state"] == flow.params["state"]
        return params

    def post(self, path: str, auth=True, **data: str) -> requests.Response:
        basic = (self.client_id, self.client_secret) if auth is True else auth
        return requests.post(self.url(path), data=data, auth=basic or None)

    def exchange(self, flow: Flow, code: str, **extra: str) -> requests.Response:
        data = dict(
            grant_type="authorization_code",
            code=code,
            redirect_uri=self.callback,
            code_verifier=flow.verifier,
        )
        return self.post("/oauth2/token", **{**data, **extra})

    def refresh(self, refresh_token: str) -> requests.Response:
        return self.post(
            "/oauth2/token", grant_type="refresh_token", refresh_token=refresh_token
        )

    def tokens(self, email: str = "alice@example.com", **flow_params: str) -> dict:
        flow = self.flow(**flow_params)
        answer = self.exchange(flow, self.code(requests.Session(), flow, email))
        assert answer.status_code == 200, answer.text
        return {**answer.json(), "nonce": flow.params["nonce"]}

    def verify(self, id_token: str) -> dict:
        jwks = jwt.PyJWKClient(self.url("/.well-known/jwks.json"), cache_keys=False)
        return jwt.decode(
            id_token,
            jwks.get_signing_key_from_jwt(id_token).key,
            algorithms=["RS256"],
            audience=self.client_id,
            issuer=self.issuer,
        )

    def outbox(self) -> list[dict]:
        return read_outbox(self.url("/outbox"))

    def cli(self, *args: str):
        return self.app.test_cli_runner().invoke(args=["local-cognito", *args])

    def add_user(self, email: str, *groups: str) -> None:
        options = [arg for group in groups for arg in ("--group", group)]
        result = self.cli(
            "add-user", email, "--name", display_name(email),
            "--password", PASSWORD, *options,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
