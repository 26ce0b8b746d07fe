"""The provider's own cookies: the `cognito` login session, the form CSRF token, the
sign-up mark and the `state` of a sign-in through an external provider."""

from __future__ import annotations

import secrets
import time
import uuid

from flask import Response
from flask import current_app
from flask import g
from flask import request
from itsdangerous import BadData
from itsdangerous import URLSafeSerializer
from itsdangerous import URLSafeTimedSerializer

from . import store

SESSION_COOKIE = "cognito"
SIGNUP_COOKIE = "cognito-signup"
FEDERATION_COOKIE = "cognito-federation"
FEDERATION_LIFETIME = 600
CSRF_COOKIE = "XSRF-TOKEN"
PATH = "/_cognito"
LIFETIME = 3600


def _set(response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )


def _session_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="localcognito-session")


def start_login(response: Response, sub: str) -> None:
    """Record a sign-in and set the 1-hour `cognito` cookie on the response."""
    sid, _ = record_login(sub)
    set_login(response, sid)


def record_login(sub: str) -> tuple[str, dict]:
    """Record a sign-in; return its session id and the login (sub, auth_time,
    event_id) that authorizes codes."""
    sid = secrets.token_urlsafe(32)
    login = {"sub": sub, "auth_time": int(time.time()), "event_id": str(uuid.uuid4())}
    store.insert(
        "login_session",
        sid_hash=store.digest(sid),
        expires_at=login["auth_time"] + LIFETIME,
        **login,
    )
    return sid, login


def set_login(response: Response, sid: str) -> None:
    """Set the 1-hour `cognito` cookie of a recorded sign-in."""
    _set(response, SESSION_COOKIE, _session_serializer().dumps(sid), LIFETIME)


def _sid() -> str | None:
    try:
        raw = request.cookies.get(SESSION_COOKIE, "")
        return _session_serializer().loads(raw, max_age=LIFETIME)
    except BadData:
        return None


def current_login() -> dict | None:
    """Return the live login session (sub, auth_time, event_id) of this browser."""
    sid = _sid()
    row = sid and store.one(
        "SELECT s.sub, s.auth_time, s.event_id FROM login_session s"
        " JOIN pool_user u ON u.sub = s.sub"
        " WHERE s.sid_hash = ? AND s.expires_at > ? AND u.confirmed = 1",
        store.digest(sid),
        int(time.time()),
    )
    return dict(row) if row else None


def end_login(response: Response) -> None:
    """End this browser's login session and clear the `cognito` cookie."""
    sid = _sid()
    if sid:
        store.run("DELETE FROM login_session WHERE sid_hash = ?", store.digest(sid))
    response.delete_cookie(SESSION_COOKIE, path=PATH, httponly=True, samesite="Lax")


def _signup_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="localcognito-signup")


def remember_signup(response: Response, sub: str) -> None:
    """Mark this browser as the one that signed `sub` up, so confirming signs it in."""
    _set(response, SIGNUP_COOKIE, _signup_serializer().dumps(sub), LIFETIME)


def signed_up() -> str | None:
    """Return the sub this browser signed up within the hour, if any."""
    try:
        raw = request.cookies.get(SIGNUP_COOKIE, "")
        return _signup_serializer().loads(raw, max_age=LIFETIME)
    except BadData:
        return None


def forget_signup(response: Response) -> None:
    """Clear the sign-up mark once it has been used."""
    response.delete_cookie(SIGNUP_COOKIE, path=PATH, httponly=True, samesite="Lax")


def _federation_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="localcognito-fed")


def remember_federation(response: Response, state: str) -> None:
    """Bind a sign-in through an external provider to this browser by its `state`."""
    value = _federation_serializer().dumps(state)
    _set(response, FEDERATION_COOKIE, value, FEDERATION_LIFETIME)


def federation_state() -> str | None:
    """The `state` of the sign-in through a provider this browser started, if any."""
    try:
        raw = request.cookies.get(FEDERATION_COOKIE, "")
        return _federation_serializer().loads(raw, max_age=FEDERATION_LIFETIME)
    except BadData:
        return None


def forget_federation(response: Response) -> None:
    response.delete_cookie(FEDERATION_COOKIE, path=PATH, httponly=True, samesite="Lax")


class FormTokens:
    """Double-submit CSRF tokens for one set of pages: a random token kept, signed, in
    a cookie of its own (`cookie` on `path`), and sent back in each form's `_csrf`."""

    def __init__(self, cookie: str, path: str, salt: str) -> None:
        self.cookie, self.path, self.salt = cookie, path, salt

    def serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(current_app.secret_key, salt=self.salt)

    def from_cookie(self) -> str | None:
        try:
            return self.serializer().loads(request.cookies.get(self.cookie, ""))
        except BadData:
            return None

    def token(self) -> str:
        """The token for a form's hidden `_csrf` field."""
        if self.cookie not in g.setdefault("form_tokens", {}):
            g.form_tokens[self.cookie] = self.from_cookie() or secrets.token_urlsafe(32)
        return g.form_tokens[self.cookie]

    def save(self, response: Response) -> None:
        """Set the signed cookie if a form was rendered with a token."""
        token = g.get("form_tokens", {}).get(self.cookie)
        if token is not None:
            response.set_cookie(self.cookie, self.serializer().dumps(token),
                                path=self.path, secure=request.is_secure,
                                httponly=True, samesite="Lax")

    def ok(self) -> bool:
        """Whether a POST carries the token bound to this browser's cookie."""
        token = self.from_cookie()
        return bool(token) and secrets.compare_digest(
            token.encode(), request.form.get("_csrf", "").encode())


FORMS = FormTokens(CSRF_COOKIE, PATH, "localcognito-csrf")
csrf_token, save_csrf_cookie, csrf_ok = FORMS.token, FORMS.save, FORMS.ok
