"""What the API reads from a request: query parameters and JSON bodies, checked."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request

from .. import storage
from .problems import Problem
from .problems import invalid

LIMITS = {"title": storage.TITLE_MAX, "body": storage.BODY_MAX}
STATUSES = (storage.DRAFT, storage.PUBLISHED)
CURSOR = re.compile(r"[A-Za-z0-9_-]+")  # base64url without padding, as the stores write


def read_cursor() -> str | None:
    """`?cursor=`: None if absent or empty, else base64url (the store decodes it)."""
    cursor = request.args.get("cursor") or None
    if cursor is not None and not CURSOR.fullmatch(cursor):
        raise bad_cursor()
    return cursor


def bad_cursor() -> Problem:
    return invalid([("cursor", "Not a cursor this API returned; start without one.")],
                   400)


def read_limit(default: int, maximum: int) -> int:
    """`?limit=`: a whole number from 1 to `maximum`, or `default` when absent."""
    raw = request.args.get("limit")
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise invalid([("limit", f"Must be a whole number from 1 to {maximum}.")], 400)
    return int(raw)


def read_post(current: dict[str, str] | None = None) -> dict[str, Any]:
    """The JSON body of a create (title and body) or an edit of `current` (any of
    title, body and status).

    Returns the tidied title and body, the body `rendered` and `status` (None when
    not sent), or raises a problem naming every bad field.
    """
    data = read_json_object()
    errors = [(name, "Unknown field: only 'title', 'body' and 'status' are accepted.")
              for name in sorted(data.keys() - LIMITS.keys() - {"status"})]
    for name, limit in LIMITS.items():
        if name in data:
            message = field_problem(data[name], limit)
        else:
            message = f"'{name}' is required." if current is None else None
        if message:
            errors.append((name, message))
    if "status" in data and data["status"] not in STATUSES:
        errors.append(("status", "Must be 'draft' or 'published'."))
    if current is not None and not data.keys() & {*LIMITS, "status"}:
        errors.append(("", "Send 'title', 'body', 'status' or any of them."))
    if errors:
        raise invalid(errors)
    status = data.pop("status", None)
    fields, rule_errors = storage.check_post(**{**(current or {}), **data})
    if rule_errors:  # the pages' own rules, and a body too complex to format
        raise invalid(rule_errors.items())
    return {**fields, "status": status}


def read_status() -> str:
    """`?status=`: `published` (the default) or `draft` (the caller's own drafts)."""
    status = request.args.get("status", storage.PUBLISHED)
    if status not in STATUSES:
        raise invalid([("status", "Must be 'draft' or 'published'.")], 400)
    return status


def field_problem(value: object, limit: int) -> str | None:
    """Why `value` cannot be a title or body (the request schema's rules), or None."""
    if not isinstance(value, str):
        return f"Must be a string, not {json_type(value)}."
    if len(value) > limit:
        return f"Must be at most {limit:,} characters (it has {len(value):,})."
    if not value.strip():
        return "Must contain at least one character that is not whitespace."
    try:
        value.encode()
    except UnicodeEncodeError:
        return "Must be valid Unicode text (it holds an unpaired surrogate)."
    return None


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object: 415 if not JSON, 400 if malformed."""
    if request.mimetype != "application/json":
        raise Problem(415, "Send the body as JSON (Content-Type: application/json).")
    try:
        data = json.loads(request.get_data(), parse_constant=refuse_constant)
    except (ValueError, RecursionError):
        raise Problem(400, "The body is not well-formed JSON.") from None
    if not isinstance(data, dict):
        raise invalid([("", f"Must be a JSON object, not {json_type(data)}.")])
    return data


def refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), "unknown")
