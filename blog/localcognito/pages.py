"""The Hosted UI pages: login, sign-up, confirmation and forgotten password."""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.exceptions import BadRequest

from . import accounts
from . import cookies
from .views import auth_server
from .views import bp
from .views import oauth_error

OAUTH_PARAMS = (
    "response_type client_id redirect_uri scope state nonce code_challenge"
    " code_challenge_method"
).split()
NOTICES = {
    "confirmed": "Your account is confirmed. Sign in to continue.",
    "reset": "Your password has been reset. Sign in with your new password.",
}


def flow() -> dict[str, str]:
    """Return the OAuth parameters of this sign-in, carried from page to page."""
    return {k: request.args[k] for k in OAUTH_PARAMS if k in request.args}


def posted() -> bool:
    """Whether this is a form POST; one without the right CSRF token is refused."""
    if request.method != "POST":
        return False
    if not cookies.csrf_ok():
        raise BadRequest("This form has expired. Go back, reload the page, try again.")
    return True


def field(name: str) -> str:
    """Return a posted form field, stripped (passwords are read as sent)."""
    return request.form.get(name, "").strip()


def page(name: str, errors: dict[str, str] | None = None, **context: Any) -> str:
    """Render a hosted page with its form state."""
    return render_template(
        f"localcognito/{name}.html",
        errors=errors or {},
        flow=flow(),
        form=request.form,
        csrf_token=cookies.csrf_token(),
        **context,
    )


def username_arg() -> str:
    source = request.form if request.method == "POST" else request.args
    return source.get("username", "").strip()


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign in with username (or email) and password, then resume /oauth2/authorize."""
    try:
        auth_server().get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return oauth_error(error)
    if posted():
        try:
            user = accounts.authenticate(field("username"), request.form["password"])
        except accounts.Invalid as invalid:
            return page("login", invalid.errors)
        response = redirect(url_for(".authorize", **flow()))
        cookies.start_login(response, user["sub"])
        return response
    return page("login", notice=NOTICES.get(request.args.get("notice", "")))


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Any:
    """Create an unconfirmed account and email its code."""
    if posted():
        username = field("username")
        try:
            accounts.create_user(
                username, field("email"), request.form["password"], confirmed=False
            )
        except accounts.Invalid as invalid:
            return page("signup", invalid.errors)
        user = accounts.find_user(username)
        accounts.send_code(user, "signup")
        return redirect(url_for(".confirm_user", username=username, **flow()))
    return page("signup")


@bp.route("/confirmUser", methods=["GET", "POST"])
def confirm_user() -> Any:
    """Confirm an account with the emailed code, or send a new code."""
    username = username_arg()
    if posted() and request.form.get("action") == "resend":
        accounts.resend_code(username)
        notice = "If this account needs confirming, a new code is on its way."
        return page("confirm", username=username, notice=notice)
    if request.method == "POST":
        try:
            accounts.confirm(username, field("code"))
        except accounts.Invalid as invalid:
            return page("confirm", invalid.errors, username=username)
        return redirect(url_for(".login", notice="confirmed", **flow()))
    return page("confirm", username=username)


@bp.route("/forgotPassword", methods=["GET", "POST"])
def forgot_password() -> Any:
    """Email a reset code to the account's address."""
    if posted():
        username = field("username")
        if not username:
            return page("forgot", {"username": "Enter your username or email."})
        accounts.start_reset(username)
        return redirect(
            url_for(".confirm_forgot_password", username=username, **flow())
        )
    return page("forgot")


@bp.route("/confirmForgotPassword", methods=["GET", "POST"])
def confirm_forgot_password() -> Any:
    """Set a new password with the emailed reset code."""
    username = username_arg()
    if posted():
        try:
            accounts.reset_password(username, field("code"), request.form["password"])
        except accounts.Invalid as invalid:
            return page("reset", invalid.errors, username=username)
        return redirect(url_for(".login", notice="reset", **flow()))
    return page("reset", username=username)
