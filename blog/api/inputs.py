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
MEMBER_ID = re.compile(r"[a-z2-7]{24}")  # storage.member_id


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
    title, body, tags and status).

    Returns the tidied title and body, the body `rendered`, `tags` and `status`
    (None when not sent), or raises a problem naming every bad field.
    """
    data = read_json_object()
    errors = [(name, "Unknown field: only 'title', 'body', 'tags' and 'status' are "
                     "accepted.")
              for name in sorted(data.keys() - LIMITS.keys() - {"status", "tags"})]
    for name, limit in LIMITS.items():
        if name in data:
            message = field_problem(data[name], limit)
        else:
            message = f"'{name}' is required." if current is None else None
        if message:
            errors.append((name, message))
    if "status" in data and data["status"] not in STATUSES:
        errors.append(("status", "Must be 'draft' or 'published'."))
    has_tags, tags = "tags" in data, data.pop("tags", None)
    if has_tags and (message := tags_problem(tags)):
        errors.append(("tags", message))
    if current is not None and not has_tags and not data.keys() & {*LIMITS, "status"}:
        errors.append(("", "Send 'title', 'body', 'tags', 'status' or any of them."))
    if errors:
        raise invalid(errors)
    status = data.pop("status", None)
    fields, rule_errors = storage.check_post(**{**(current or {}), **data},
                                             tags=tags or ())
    if rule_errors:  # the pages' own rules, and a body too complex to format
        raise invalid(rule_errors.items())
    if tags is None and current is not None:
        fields["tags"] = None  # an edit without tags keeps them
    return {**fields, "status": status}


def tags_problem(tags: object) -> str | None:
    """Why `tags` cannot be a post's tags as the request schema has them, or None.

    The API takes tags as they are stored (the pages tidy what people type)."""
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        return f"Must be an array of strings, not {json_type(tags)}."
    if len(tags) > storage.TAGS_MAX:
        return f"Must hold at most {storage.TAGS_MAX} tags (it has {len(tags)})."
    if len(set(tags)) < len(tags):
        return "Must not repeat a tag."
    for tag in tags:
        if not storage.TAG.fullmatch(tag):
            return (f"{json.dumps(tag)[:40]} is not a tag: 1 to 30 of a-z, 0-9 and "
                    "single hyphens between them.")
    return None


def read_filters() -> tuple[str | None, str | None]:
    """`?author=` (a member id) and `?tag=` (a tag as stored); empty means absent."""
    author, tag = request.args.get("author") or None, request.args.get("tag") or None
    errors = []
    if author is not None and not MEMBER_ID.fullmatch(author):
        errors.append(("author", "Not a member id: use an `author.id` of a post."))
    if tag is not None and not storage.TAG.fullmatch(tag):
        errors.append(("tag", "Not a tag: 1 to 30 of a-z, 0-9 and single hyphens "
                              "between them."))
    if errors:
        raise invalid(errors, 400)
    return author, tag


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
