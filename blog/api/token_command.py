"""`flask api-token USERNAME`: an access token from the running local Cognito.

It signs in over HTTP exactly as a browser does (authorization code with PKCE), so the
token is the one the blog's own login would get.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlsplit

import click
import requests
from flask import current_app
from flask.cli import with_appcontext

from ..config import LOOPBACK_HOSTS

TIMEOUT = 10


class SignInFailed(click.ClickException):
    """The local Cognito did not hand out a token."""


@click.command("api-token")
@with_appcontext
@click.argument("username")
@click.option("--password", help="The user's password (asked for when not given).")
@click.option("--url", default="http://127.0.0.1:5000", show_default=True,
              help="Where `flask --app blog run` serves the blog.")
def api_token(username: str, password: str | None, url: str) -> None:
    """Print an access token of USERNAME from the local Cognito (local mode only)."""
    from .. import localcognito  # here: Lambda imports this module but never needs it

    if not current_app.config["LOCAL_MODE"]:
        raise click.ClickException(
            "api-token works only in local mode (BLOG_COGNITO_ISSUER unset). With a "
            "real user pool, get access tokens from Cognito itself.")
    base = url.rstrip("/")
    if urlsplit(base).scheme != "http" or urlsplit(base).hostname not in LOOPBACK_HOSTS:
        raise click.BadParameter("must be http:// on localhost, 127.0.0.1 or [::1]",
                                 param_hint="--url")
    if password is None:
        password = click.prompt("Password", hide_input=True, err=True)
    client = localcognito.ensure_client(current_app, base)
    try:
        click.echo(sign_in(base, client, username, password)["access_token"])
    except requests.RequestException:
        raise click.ClickException(
            f"Cannot reach the blog at {base}: is `flask --app blog run` running "
            "there?") from None


def sign_in(base: str, client: dict[str, str], username: str,
            password: str) -> dict[str, Any]:
    """Log in through the Hosted UI and exchange the code; return the token response."""
    browser = requests.Session()
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    callback = base + "/auth/authorize"
    page = browser.get(base + "/_cognito/oauth2/authorize?" + urlencode({
        "response_type": "code", "client_id": client["client_id"],
        "redirect_uri": callback, "scope": "openid email profile", "state": state,
        "code_challenge": challenge(verifier), "code_challenge_method": "S256",
    }), timeout=TIMEOUT)
    form = re.search(r'<form method="post" action="([^"]*)">.*?name="_csrf" '
                     r'value="([^"]*)"', page.text, re.S)
    if page.status_code != 200 or not form:
        raise SignInFailed(f"The local Cognito at {base} showed no sign-in form.")
    answer = browser.post(urljoin(page.url, html.unescape(form.group(1))), data={
        "_csrf": html.unescape(form.group(2)), "username": username,
        "password": password}, allow_redirects=False, timeout=TIMEOUT)
    location = answer.headers.get("Location", "")
    for _ in range(5):  # the login page sends the browser back to /oauth2/authorize
        if not answer.is_redirect or location.startswith(callback + "?"):
            break
        answer = browser.get(urljoin(answer.url, location), allow_redirects=False,
                             timeout=TIMEOUT)
        location = answer.headers.get("Location", "")
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    if not answer.is_redirect or params.get("state") != state or "code" not in params:
        raise SignInFailed("Sign-in failed: wrong username or password, or the "
                           "account is not confirmed.")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(answer.url))
    token = browser.post(origin + "/_cognito/oauth2/token", data={
        "grant_type": "authorization_code", "code": params["code"],
        "redirect_uri": callback, "code_verifier": verifier,
    }, auth=(client["client_id"], client["client_secret"]), timeout=TIMEOUT)
    if token.status_code != 200:
        raise SignInFailed(f"The token endpoint refused the code "
                           f"({token.status_code}).")
    return token.json()


def challenge(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
