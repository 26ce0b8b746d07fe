"""Members as the deployed pool makes them: generated usernames, logins, tokens."""

from __future__ import annotations

import re

from tests.support.fakeidp import CLIENT_ID

UUID_USERNAME = "0b5e2c1a-7d1f-4c8e-9a63-2f1d5e8b7c40"  # the deployed pool's usernames
SUB = "5f3c9a1e-2b7d-4e6f-8a90-1c2d3e4f5a6b"


def login(auth, sub: str = SUB, **claims):
    """The whole callback: the fake Cognito answers with an ID token of `claims`."""
    response = auth.callback(auth.start(), sub=sub, **claims)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def script_bearer(idp, sub: str = SUB, **claims) -> dict:
    """An access token as Cognito makes them: `username`, no name, no email."""
    token = idp.sign(idp.claims(**{
        "aud": None, "cognito:username": None, "email": None, "email_verified": None,
        "token_use": "access", "client_id": CLIENT_ID, "username": UUID_USERNAME,
        "sub": sub, **claims}))
    return {"Authorization": f"Bearer {token}"}


def by(name: str) -> re.Pattern:
    """A byline naming `name`, linked to the author's page, as pages show it."""
    return re.compile(rf'By <a href="/authors/[a-z2-7]{{24}}">{re.escape(name)}</a> ·')
