"""Log in through the Cognito Hosted UI, keep tokens server-side, guard pages."""

from __future__ import annotations

import functools
import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

import requests
from flask import Blueprint
from flask import abort
from flask import after_this_request
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import Unauthorized

from . import cognito
from .logs import user_hash
from .members import display_name
from .members import email_verified
from .members import groups
from .members import remember
from .storage import Author
from .storage import member_id
from .tokens import LEEWAY
from .tokens import ExpiredToken
from .tokens import InvalidToken
from .tokens import KeysUnavailable

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__, url_prefix="/auth")
LAST_SEEN_GRANULARITY = 60  # rewrite last_seen at most once a minute (one store write)
SIGNED_OUT_FOR = 60  # seconds the landing page may say "You have signed out."
ERROR_CODE = re.compile(r"[a-z0-9_.-]{1,64}")  # an OAuth error code, safe to log
CANCELLED = {"access_denied"}


@bp.get("/login")
def login() -> Any:
    """Start the authorization-code flow; `next` is kept here, never in `state`.

    `provider` (one of BLOG_COGNITO_IDENTITY_PROVIDERS) goes to Cognito as
    `identity_provider`, which skips the Hosted UI for that provider's sign-in.
    """
    extra = {}
    if "provider" in request.args:
        provider = request.args.getlist("provider")
        if len(provider) > 1 or provider[0] not in offered_providers():
            abort(400, "That sign-in option is not offered here.")
        extra["identity_provider"] = provider[0]
    next_path = safe_next(request.args.get("next"))
    session.pop("next", None)
    if next_path:
        session["next"] = next_path
    redirect_uri = current_app.config["BASE_URL"] + "/auth/authorize"
    from .oauth_client import client  # here: authlib only for signing in

    return client().authorize_redirect(
        redirect_uri, nonce=secrets.token_urlsafe(32), **extra
    )


@bp.app_template_global()
def offered_providers() -> tuple[str, ...]:
    """The external identity providers offered next to the pool's own sign-in."""
    return current_app.config["COGNITO_IDENTITY_PROVIDERS"]


@bp.get("/authorize")
def authorize() -> Any:
    """The redirect_uri: exchange the code, verify the ID token, start a new session."""
    from .oauth_client import OAuthError
    from .oauth_client import client  # here: authlib only for signing in

    try:
        token = client().authorize_access_token(leeway=LEEWAY)
    except OAuthError as error:  # a refused, forged or replayed callback
        # `error` may be Cognito's (or a provider's, relayed) or a forger's: only a
        # well-formed code is logged, and `error_description` never.
        code = error.error if ERROR_CODE.fullmatch(error.error or "") else "unknown"
        raise cognito.SignInRefused(code, sent="error" in request.args) from None
    except ValueError:  # authlib: the token endpoint answered something not JSON
        raise cognito.ProviderError() from None
    claims = token.get("userinfo")
    if not claims:  # authlib verifies only when the state held a nonce: fail closed
        raise cognito.SignInRefused("missing_id_token")
    next_path, kept = session.get("next"), session.get("kept")
    # A new session id (no fixation). Flask-Session's regenerate() skips a session it
    # deems empty, as this one is once authlib has popped its state: mark it first.
    session["regenerate"] = True
    current_app.session_interface.regenerate(session)
    session.clear()
    now = int(time.time())
    user = identity(claims)
    session.update(user=user, login_at=now, last_seen=now, tokens=kept_tokens(token))
    if kept and kept.get("member") == user["member_id"]:  # its writer's only (kept.py)
        session["kept"] = kept
    remember(Author(user["iss"], user["sub"]), user["name"], login=True)
    log.info("login user=%s", user_hash(claims["sub"]))
    flash(f"Signed in as {user['name']}.", "success")
    # `next` is a path inside the app: put back the prefix (a REST API stage) it
    # runs at.
    target = request.script_root + next_path if next_path else url_for("posts.index")
    response = redirect(target)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/logout")
def logout() -> Any:
    """Revoke the refresh token, delete the session, then end Cognito's own session."""
    refresh_token = (session.get("tokens") or {}).get("refresh_token")
    if refresh_token:
        cognito.revoke(refresh_token)
    session.clear()
    response = redirect(cognito.logout_url())
    # The session is gone, and Cognito's /logout sends the browser back to `<base>/`,
    # which can carry no query: a short-lived signed cookie tells that page.
    response.set_cookie(
        value=signed_out_signer().dumps(True),
        max_age=SIGNED_OUT_FOR,
        **signed_out_cookie(),
    )
    return response


def signed_out_cookie() -> dict[str, Any]:
    """The name and attributes of the cookie set at logout (`__Host-` on https)."""
    secure = current_app.config["SESSION_COOKIE_SECURE"]
    name = "__Host-signed-out" if secure else "signed-out"
    return {"key": name, "path": "/", "secure": secure, "httponly": True,
            "samesite": "Lax"}  # fmt: skip


def signed_out_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="blog.auth.signed-out")


@bp.app_template_global()
def just_signed_out() -> bool:
    """True on the page a logout lands on, whose cookie is signed and a minute old at
    most. The page that asks expires the cookie, so the message shows once."""
    cookie = signed_out_cookie()
    value = request.cookies.get(cookie["key"])
    if value is None:
        return False  # nothing to expire: no Set-Cookie for an ordinary visitor

    @after_this_request
    def expire(response: Any) -> Any:
        response.delete_cookie(**cookie)
        response.headers["Cache-Control"] = "no-store"  # the message is this browser's
        return response

    try:
        signed_out_signer().loads(value, max_age=SIGNED_OUT_FOR)
    except BadSignature:  # forged, or older than SIGNED_OUT_FOR (SignatureExpired)
        return False
    return g.user is None


@bp.errorhandler(cognito.SignInRefused)
def sign_in_failed(error: cognito.SignInRefused) -> Any:
    """A refused, forged, replayed or failed callback, or an error sent back by
    Cognito (a cancelled or failed sign-in at an external provider included): a page
    with ways to try again (`next` kept), never a 500."""
    log.warning("sign-in failed: %s", error.error)
    if not error.sent:
        reason = "callback"
    elif error.error in CANCELLED:
        reason = "cancelled"
    else:
        reason = "provider"
    next_path = session.pop("next", None)
    return render_template("auth/failed.html", reason=reason, next=next_path), 400


@bp.app_errorhandler(requests.RequestException)
@bp.errorhandler(cognito.ProviderUnavailable)
def provider_unreachable(error: Exception) -> Any:
    """Cognito (or its signing keys) could not be reached in time."""
    log.warning("identity provider unreachable: %s", type(error).__name__)
    page = render_template("auth/failed.html", unreachable=True,
                           next=session.get("next"))
    return page, 503


class SessionEnded(Unauthorized):
    """A form was sent after its session ended: nothing was changed."""

    description = "Your session has ended, so nothing was changed. Please log in again."


def kept_tokens(answer: dict, refresh_token: str | None = None) -> dict:
    """The tokens of a token-endpoint answer, as the session keeps them."""
    return {
        "id_token": answer["id_token"],
        "access_token": answer.get("access_token"),
        "refresh_token": answer.get("refresh_token") or refresh_token,
    }


def identity(claims: dict) -> dict:
    """What the session keeps about the user, from verified ID-token claims."""
    return {
        "iss": claims["iss"],
        "sub": claims["sub"],
        "member_id": member_id(claims["iss"], claims["sub"]),
        "name": display_name(claims),
        "email": claims.get("email") if email_verified(claims) else None,
        "groups": groups(claims),  # never a provider's automatic group
    }


def keep_identity(claims: dict) -> None:
    """Store the identity of the verified `claims` if it changed (at a refresh, or in
    a session from before display names), and the member's record if the name did.

    A session from before display names gets no record here (its next login writes
    one): a store write on its first page would double that page's worst case.
    """
    user, fresh = session["user"], identity(claims)
    if fresh == user:
        return
    session["user"] = fresh
    if "name" in user and fresh["name"] != user["name"]:
        remember(Author(fresh["iss"], fresh["sub"]), fresh["name"], login=False)


def shown(user: dict) -> dict:
    """A session user with a name and member id, also one kept before display names
    (until its ID token is next checked: its email was kept only if verified)."""
    if "name" in user:
        return user
    return {**user, "member_id": member_id(user["iss"], user["sub"]),
            "name": display_name({"email": user.get("email"),
                                  "email_verified": bool(user.get("email"))})}


def safe_next(value: str | None) -> str | None:
    """Return `value` if it is a same-site relative path, else None."""
    if not value or len(value) > 2000 or not value.startswith("/"):
        return None
    # "//host" and "/\\host" are other sites to browsers; control characters
    # would split headers.
    if value.startswith("//") or "\\" in value or any(c < " " for c in value):
        return None
    return value


@bp.before_app_request
def load_logged_in_user() -> None:
    """Set `g.user` from the session; end sessions past the idle or absolute limit."""
    g.user = None
    user = session.get("user")
    if not user:
        return
    config, now = current_app.config, int(time.time())
    if (
        now - session.get("last_seen", 0) > config["SESSION_IDLE_TIMEOUT"]
        or now - session.get("login_at", 0) > config["SESSION_ABSOLUTE_TIMEOUT"]
    ):
        log.info("session timed out user=%s", user_hash(user["sub"]))
        session.clear()
        return
    g.user = shown(user)


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve `view` only if the stored ID token verifies (refreshed if expired)."""

    @functools.wraps(view)
    def wrapped(**kwargs: Any) -> Any:
        if g.user is None or not token_still_valid():
            session.clear()
            g.user = None
            if request.method != "GET":
                raise SessionEnded()
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        now = int(time.time())
        if now - session["last_seen"] >= LAST_SEEN_GRANULARITY:
            session["last_seen"] = now
        return view(**kwargs)

    return wrapped


def token_still_valid() -> bool:
    """Re-verify the stored ID token; refresh it once if it has only expired."""
    tokens, user = session.get("tokens") or {}, g.user
    try:
        claims = cognito.verify_id_token(tokens.get("id_token"))
    except ExpiredToken:
        claims = refresh_tokens(tokens)
    except KeysUnavailable:  # not the user's fault: keep the session, try later
        raise cognito.ProviderUnavailable() from None
    except InvalidToken as error:
        log.warning(
            "stored ID token refused: %s user=%s", error.reason, user_hash(user["sub"])
        )
        return False
    if claims is None or (claims["sub"], claims["iss"]) != (user["sub"], user["iss"]):
        return False
    keep_identity(claims)
    g.user = session["user"]
    return True


def refresh_tokens(tokens: dict) -> dict | None:
    """Trade the refresh token for new tokens and store them; None if refused."""
    if not tokens.get("refresh_token"):
        return None
    try:
        fresh = cognito.refresh(tokens["refresh_token"])
        claims = cognito.verify_id_token(fresh.get("id_token"))
    except KeysUnavailable:  # a new key that cannot be fetched yet: keep the session
        raise cognito.ProviderUnavailable() from None
    except (
        cognito.RefreshRefused,
        InvalidToken,
        requests.RequestException,
        ValueError,
    ) as error:
        log.warning("token refresh failed: %s", type(error).__name__)
        return None
    # Cognito sends a new refresh token only when it rotates them; the caller keeps
    # the new identity (groups, name) once `sub` and `iss` are checked.
    session["tokens"] = kept_tokens(fresh, refresh_token=tokens["refresh_token"])
    return claims
