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
from . import federation
from . import pool
from .views import OAUTH_PARAMS
from .views import auth_server
from .views import bp
from .views import oauth_error

NOTICES = {
    "confirmed": "Your account is confirmed. Sign in to continue.",
    "reset": "Your password has been reset. Sign in with your new password.",
}
NEEDS = [
    ("RequireUppercase", "an uppercase letter"),
    ("RequireLowercase", "a lowercase letter"),
    ("RequireNumbers", "a number"),
    ("RequireSymbols", "a symbol"),
]


def password_hint() -> str:
    """Describe the pool's password policy in one sentence."""
    policy = pool.password_policy()
    needs = [words for rule, words in NEEDS if policy[rule]]
    listed = (
        ", ".join(needs[:-1]) + " and " + needs[-1]
        if len(needs) > 1
        else "".join(needs)
    )
    length = f"At least {policy['MinimumLength']} characters"
    return f"{length}, with {listed}." if needs else f"{length}."


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
        password_hint=password_hint(),
        providers=federation.enabled(),
        **context,
    )


def username_arg() -> str:
    source = request.form if request.method == "POST" else request.args
    return source.get("username", "").strip()


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign in with email and password, then resume /oauth2/authorize."""
    notice = NOTICES.get(request.args.get("notice", ""))
    if "client_id" not in request.args:
        # A bookmarked sign-in page: nothing to resume, so offer the way to the blog.
        return page("start", notice=notice)
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
    return page("login", notice=notice)


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Any:
    """Create an unconfirmed account and email its code."""
    if posted():
        email = field("email")
        try:
            sub = accounts.create_user(
                email, field("name"), request.form["password"], confirmed=False
            )
        except accounts.Invalid as invalid:
            return page("signup", invalid.errors)
        accounts.send_code(accounts.find_user(sub), "signup")
        response = redirect(url_for(".confirm_user", username=email, **flow()))
        cookies.remember_signup(response, sub)
        return response
    return page("signup")


@bp.route("/confirmUser", methods=["GET", "POST"])
def confirm_user() -> Any:
    """Confirm an account with the emailed code, or send a new code.

    As the Hosted UI, confirming in the browser that signed up signs the member in
    and resumes the authorization request (a code and `state` to the app).
    """
    username = username_arg()
    if posted() and request.form.get("action") == "resend":
        accounts.resend_code(username)
        notice = "If this account needs confirming, a new code is on its way."
        return page("confirm", username=username, notice=notice)
    if request.method == "POST":
        try:
            user = accounts.confirm(username, field("code"))
        except accounts.Invalid as invalid:
            return page("confirm", invalid.errors, username=username)
        if cookies.signed_up() != user["sub"]:
            return redirect(url_for(".login", notice="confirmed", **flow()))
        resume = "client_id" in request.args
        response = redirect(url_for(".authorize" if resume else ".login", **flow()))
        cookies.start_login(response, user["sub"])
        cookies.forget_signup(response)
        return response
    return page("confirm", username=username)


@bp.route("/forgotPassword", methods=["GET", "POST"])
def forgot_password() -> Any:
    """Email a reset code to the account's address."""
    if posted():
        username = field("username")
        if not username:
            return page("forgot", {"username": "Enter your email."})
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
