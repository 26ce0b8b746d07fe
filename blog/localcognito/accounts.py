"""User accounts: sign-up, emailed codes, sign-in, password reset, groups."""

from __future__ import annotations

import re
import secrets
import sqlite3
import time
import uuid
from datetime import UTC
from datetime import datetime

import click
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from . import store

CODE_LIFETIME = 24 * 3600
SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WRONG_CODE = "Invalid verification code provided, please try again."
EXPIRED_CODE = "Invalid code provided, please request a code again."


class Invalid(Exception):
    """Refused form input, as messages keyed by form field."""

    def __init__(self, **errors: str) -> None:
        super().__init__(errors)
        self.errors = errors


def password_problems(password: str) -> list[str]:
    """Return the rules of Cognito's default password policy that are not met."""
    rules = [
        (len(password) >= 8, "Password must have at least 8 characters."),
        (any(c.isupper() for c in password), "Password must have an uppercase letter."),
        (any(c.islower() for c in password), "Password must have a lowercase letter."),
        (any(c.isdigit() for c in password), "Password must have a number."),
        (any(c in SYMBOLS for c in password), "Password must have a symbol."),
    ]
    return [message for ok, message in rules if not ok]


def find_user(login: str) -> sqlite3.Row | None:
    """Return the user with this username or email (both case-insensitive)."""
    return store.one("SELECT * FROM user WHERE username = ? OR email = ?", login, login)


def create_user(username: str, email: str, password: str, confirmed: bool) -> str:
    """Create a user and return its sub; raises Invalid on bad input."""
    errors = {}
    if not username or len(username) > 128 or re.search(r"\s", username):
        errors["username"] = "Enter a username of 1-128 characters without spaces."
    elif EMAIL.match(username):
        errors["username"] = "The username cannot be an email address."
    elif find_user(username):
        errors["username"] = "An account with this username already exists."
    if not EMAIL.match(email):
        errors["email"] = "Enter a valid email address."
    elif find_user(email):
        errors["email"] = "An account with this email already exists."
    if problems := password_problems(password):
        errors["password"] = " ".join(problems)
    if errors:
        raise Invalid(**errors)
    sub = str(uuid.uuid4())
    try:
        store.insert(
            "user",
            sub=sub,
            username=username,
            email=email,
            password_hash=generate_password_hash(password),
            confirmed=int(confirmed),
            created_at=int(time.time()),
        )
    except sqlite3.IntegrityError:
        raise Invalid(
            username="An account with this username already exists."
        ) from None
    return sub


def send_mail(user: sqlite3.Row, subject: str, body: str, code: str) -> None:
    """ "Email" a user: print the message on the terminal and keep it in the outbox."""
    sent_at = datetime.now(UTC).isoformat(timespec="seconds")
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
        int(time.time()) + CODE_LIFETIME,
    )
    if purpose == "signup":
        subject, body = "Your verification code", f"Your verification code is {code}."
    else:
        subject, body = (
            "Your password reset code",
            f"Your password reset code is {code}.",
        )
    send_mail(user, subject, body, code)


def _use_code(user: sqlite3.Row | None, purpose: str, code: str) -> sqlite3.Row:
    row = user and store.one(
        "SELECT * FROM code WHERE sub = ? AND purpose = ?", user["sub"], purpose
    )
    if not row or not secrets.compare_digest(
        row["code"].encode(), code.strip().encode()
    ):
        raise Invalid(code=WRONG_CODE)
    if row["expires_at"] <= time.time():
        raise Invalid(code=EXPIRED_CODE)
    store.run("DELETE FROM code WHERE sub = ? AND purpose = ?", user["sub"], purpose)
    return user


def confirm(login: str, code: str) -> None:
    """Confirm a sign-up with its emailed code; raises Invalid."""
    user = find_user(login)
    if user is None or not user["confirmed"]:
        user = _use_code(user, "signup", code)
        store.run("UPDATE user SET confirmed = 1 WHERE sub = ?", user["sub"])


def resend_code(login: str) -> None:
    """Send a new sign-up code to an unconfirmed user (silently nothing otherwise)."""
    user = find_user(login)
    if user is not None and not user["confirmed"]:
        send_code(user, "signup")


def authenticate(login: str, password: str) -> sqlite3.Row:
    """Return the confirmed user with these credentials; raises Invalid."""
    user = find_user(login)
    if user is None or not check_password_hash(user["password_hash"], password):
        raise Invalid(password="Incorrect username or password.")
    if not user["confirmed"]:
        raise Invalid(username="This account is not confirmed yet.")
    return user


def start_reset(login: str) -> None:
    """Email a password-reset code to a confirmed user (silently nothing otherwise)."""
    user = find_user(login)
    if user is not None and user["confirmed"]:
        send_code(user, "reset")


def reset_password(login: str, code: str, password: str) -> None:
    """Set a new password with a reset code; raises Invalid."""
    if problems := password_problems(password):
        raise Invalid(password=" ".join(problems))
    user = _use_code(find_user(login), "reset", code)
    store.run(
        "UPDATE user SET password_hash = ? WHERE sub = ?",
        generate_password_hash(password),
        user["sub"],
    )


def add_to_group(username: str, group: str) -> None:
    """Add a user to a group (created on first use); raises Invalid."""
    user = find_user(username)
    if user is None:
        raise Invalid(username=f"No user {username!r}.")
    store.run("INSERT OR IGNORE INTO user_group VALUES (?, ?)", user["sub"], group)
