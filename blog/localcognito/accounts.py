"""User accounts: sign-up, emailed codes, sign-in, password reset, groups.

Members sign in with their email; the username is generated (a UUID), as in a pool
with `UsernameAttributes: [email]`. Rules come from pool.json (see `pool`).
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import time
import uuid
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from functools import cache

import click
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from . import pool
from . import store

# Every time check reads this clock; tests replace it to move time without sleeping.
clock: Callable[[], float] = time.time

SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_MAX = 2048  # Cognito's limit for a string attribute
POLICY = "Password did not conform with policy: "
INCORRECT = "Incorrect username or password."
LOCKED = "Password attempts exceeded"
NOT_CONFIRMED = "User is not confirmed."
WRONG_CODE = "Invalid verification code provided, please try again."
EXPIRED_CODE = "Invalid code provided, please request a code again."
TOO_MANY = "Attempt limit exceeded, please try after some time."
EMAIL_TAKEN = "An account with the given email already exists."


class Invalid(Exception):
    """Refused form input, as messages keyed by form field."""

    def __init__(self, **errors: str) -> None:
        super().__init__(errors)
        self.errors = errors


def password_problem(password: str) -> str | None:
    """Return Cognito's message for the first rule of the pool's policy not met."""
    policy = pool.password_policy()
    rules = [
        (True, len(password) >= policy["MinimumLength"], "Password not long enough"),
        (
            policy["RequireUppercase"],
            any(c.isupper() for c in password),
            "Password must have uppercase characters",
        ),
        (
            policy["RequireLowercase"],
            any(c.islower() for c in password),
            "Password must have lowercase characters",
        ),
        (
            policy["RequireNumbers"],
            any(c.isdigit() for c in password),
            "Password must have numeric characters",
        ),
        (
            policy["RequireSymbols"],
            any(c in SYMBOLS for c in password),
            "Password must have symbol characters",
        ),
    ]
    for required, met, message in rules:
        if required and not met:
            return POLICY + message
    return None


def find_user(login: str) -> sqlite3.Row | None:
    """Return the user with this email or username (both case-insensitive)."""
    return store.one("SELECT * FROM user WHERE email = ? OR username = ?", login, login)


def create_user(email: str, name: str, password: str, confirmed: bool) -> str:
    """Create a user with a generated username and return it; raises Invalid.

    The username is the user's `sub`, as Cognito makes it when email is the
    username attribute.
    """
    errors = {}
    if not EMAIL.match(email) or len(email) > NAME_MAX:
        errors["email"] = "Enter a valid email address."
    elif find_user(email):
        errors["email"] = EMAIL_TAKEN
    if not name or len(name) > NAME_MAX or not name.isprintable():
        errors["name"] = "Enter your name, as other members will see it."
    if problem := password_problem(password):
        errors["password"] = problem
    if errors:
        raise Invalid(**errors)
    sub = str(uuid.uuid4())
    try:
        store.insert(
            "user",
            sub=sub,
            username=sub,
            email=email,
            name=name,
            password_hash=generate_password_hash(password),
            confirmed=int(confirmed),
            created_at=int(clock()),
        )
    except sqlite3.IntegrityError:
        raise Invalid(email=EMAIL_TAKEN) from None
    return sub


def send_mail(user: sqlite3.Row, subject: str, body: str, code: str) -> None:
    """ "Email" a user: print the message on the terminal and keep it in the outbox."""
    sent_at = datetime.fromtimestamp(clock(), UTC).isoformat(timespec="seconds")
    store.insert(
        "outbox",
        recipient=user["email"],
        username=user["username"],
        subject=subject,
        body=body,
        code=code,
        sent_at=sent_at,
    )
    click.echo(
        f"[local-cognito] email to {user['email']}: {subject}\n  {body}", err=True
    )


def send_code(user: sqlite3.Row, purpose: str) -> None:
    """Email a new 6-digit code for "signup" or "reset", replacing any older one."""
    code = f"{secrets.randbelow(10**6):06d}"
    store.run(
        "INSERT OR REPLACE INTO code (sub, purpose, code, expires_at) VALUES (?,?,?,?)",
        user["sub"],
        purpose,
        code,
        int(clock()) + pool.limits()["codeLifetimeSeconds"],
    )
    if purpose == "signup":
        subject, body = "Your verification code", f"Your verification code is {code}."
    else:
        subject, body = (
            "Your password reset code",
            f"Your password reset code is {code}.",
        )
    send_mail(user, subject, body, code)


def _key(login: str) -> str:
    # Attempts are counted per what was typed, so an unknown email is limited
    # exactly like a known one and the limits reveal nothing.
    return login.strip().casefold()


def _attempts(login: str, kind: str) -> sqlite3.Row | None:
    return store.one(
        "SELECT * FROM attempt WHERE login = ? AND kind = ?", _key(login), kind
    )


def _record_failure(login: str, kind: str, failures: int, locked_until: float) -> None:
    store.run(
        "INSERT OR REPLACE INTO attempt (login, kind, failures, locked_until,"
        " last_failure) VALUES (?, ?, ?, ?, ?)",
        _key(login),
        kind,
        failures,
        locked_until,
        clock(),
    )


def _clear_attempts(login: str, kind: str) -> None:
    store.run("DELETE FROM attempt WHERE login = ? AND kind = ?", _key(login), kind)


def _use_code(login: str, purpose: str, code: str) -> sqlite3.Row:
    """Check and consume a code; wrong tries beyond the limit lock the login out."""
    limits, now = pool.limits(), clock()
    tries = _attempts(login, purpose)
    if tries and tries["locked_until"] > now:
        raise Invalid(code=TOO_MANY)
    user = find_user(login)
    row = user and store.one(
        "SELECT * FROM code WHERE sub = ? AND purpose = ?", user["sub"], purpose
    )
    if not row or not secrets.compare_digest(
        row["code"].encode(), code.strip().encode()
    ):
        failures = (tries["failures"] if tries else 0) + 1
        if failures >= limits["codeFailuresAllowed"]:
            _record_failure(login, purpose, 0, now + limits["codeLockoutSeconds"])
        else:
            _record_failure(login, purpose, failures, 0)
        raise Invalid(code=WRONG_CODE)
    if row["expires_at"] <= now:
        raise Invalid(code=EXPIRED_CODE)
    store.run("DELETE FROM code WHERE sub = ? AND purpose = ?", user["sub"], purpose)
    _clear_attempts(login, purpose)
    return user


def confirm(login: str, code: str) -> sqlite3.Row:
    """Confirm a sign-up with its emailed code and return the user; raises Invalid."""
    user = _use_code(login, "signup", code)
    store.run("UPDATE user SET confirmed = 1 WHERE sub = ?", user["sub"])
    return user


def resend_code(login: str) -> None:
    """Send a new sign-up code to an unconfirmed user (silently nothing otherwise)."""
    user = find_user(login)
    if user is not None and not user["confirmed"]:
        send_code(user, "signup")


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(login: str, password: str) -> sqlite3.Row:
    """Return the user with these credentials; raises Invalid.

    As Cognito: after 5 failures, each failure locks the login out for 2^(n-5)
    seconds (at most about 15 minutes); tries during a lockout are refused without
    counting; 15 minutes without tries, or a sign-in after the lockout, start over.
    An unknown email costs the same password hash as a wrong password.
    """
    limits, now = pool.limits(), clock()
    tries = _attempts(login, "signin")
    if tries and tries["locked_until"] > now:
        raise Invalid(password=LOCKED)
    user = find_user(login)
    known = user is not None
    right = check_password_hash(
        user["password_hash"] if known else _dummy_hash(), password
    )
    if not (known and right):
        fresh = (
            not tries
            or now - tries["last_failure"] >= limits["signInLockoutResetSeconds"]
        )
        failures = 1 if fresh else tries["failures"] + 1
        over = failures - limits["signInFailuresBeforeLockout"]
        lockout = min(2**over, limits["signInLockoutMaxSeconds"]) if over >= 0 else 0
        _record_failure(login, "signin", failures, now + lockout if lockout else 0)
        raise Invalid(password=INCORRECT)
    _clear_attempts(login, "signin")
    if not user["confirmed"]:
        raise Invalid(username=NOT_CONFIRMED)
    return user


def start_reset(login: str) -> None:
    """Email a password-reset code to a confirmed user (silently nothing otherwise)."""
    user = find_user(login)
    if user is not None and user["confirmed"]:
        send_code(user, "reset")


def reset_password(login: str, code: str, password: str) -> None:
    """Set a new password with a reset code; raises Invalid."""
    if problem := password_problem(password):
        raise Invalid(password=problem)
    user = _use_code(login, "reset", code)
    store.run(
        "UPDATE user SET password_hash = ? WHERE sub = ?",
        generate_password_hash(password),
        user["sub"],
    )
    _clear_attempts(login, "signin")


def add_to_group(login: str, group: str) -> None:
    """Add a user (by email or username; a federated one by username) to a group;
    raises Invalid."""
    user = find_user(login) or store.one(
        "SELECT sub FROM federated_user WHERE username = ?", login
    )
    if user is None:
        raise Invalid(email=f"No user {login!r}.")
    store.run("INSERT OR IGNORE INTO user_group VALUES (?, ?)", user["sub"], group)
