"""Text typed into a post form that arrived after its session ended, kept for its
writer until they log in again (in the server-side session, never a URL or cookie).

Each form carries a signed `writer` field naming the member it was shown to: the
session that sent it may be gone, so the form itself says whose text it is. The text
waits in the session of the new login, and only that member gets it back.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask import g
from flask import request
from flask import session
from itsdangerous import BadData
from itsdangerous import URLSafeTimedSerializer

SALT = "blog.kept.writer"
MAX_AGE = 7 * 24 * 3600  # seconds a form page may stay open and still name its writer
FIELDS = ("title", "body", "tags", "version")
MAX_BYTES = 300_000  # of text kept: a DynamoDB session item holds at most 400 KB


def signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def writer_field() -> str:
    """The `writer` value of a form shown to the logged-in member."""
    return signer().dumps(g.user["member_id"])


def keep_sent_form() -> bool:
    """Keep the posted form's text for the member its `writer` field names."""
    try:
        member = signer().loads(request.form.get("writer", ""), max_age=MAX_AGE)
    except BadData:
        return False
    kept = {name: request.form.get(name, "") for name in FIELDS}
    if sum(len(value.encode(errors="replace")) for value in kept.values()) > MAX_BYTES:
        return False  # the page still shows it, to copy
    session["kept"] = {"member": member, "path": request.path, **kept}
    return True


def take_kept() -> dict[str, Any] | None:
    """The text kept for the logged-in member at this page, removed from the session."""
    kept = session.get("kept")
    if not kept or kept.get("path") != request.path:
        return None
    session.pop("kept")
    if kept.get("member") != g.user["member_id"]:
        return None
    return {**kept, "kept": True}
