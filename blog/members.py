"""Members as people see them: the display-name rule, the names of authors, and
the groups that count.

A member is named by their ID token's `name`, else `preferred_username`, else the
local part of a verified email, else "Member"; never by `sub`, a generated username
(`cognito:username` is a UUID on the deployed pool, `Google_<id>` for a member who
signed in with Google) or an unverified email.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flask import current_app

from .config import is_automatic_group
from .config import user_pool_id
from .storage import Author
from .storage import Post
from .storage import PostsUnavailable
from .storage import get_store

log = logging.getLogger(__name__)
FALLBACK = "Member"
NAME_MAX = 100  # characters shown; Cognito allows 2048


def display_name(claims: dict[str, Any]) -> str:
    """The name to show for a token's claims.

    The rule is in docs/SECURITY.md, "Identity and authorisation".
    """
    for claim in ("name", "preferred_username"):
        name = claims.get(claim)
        if isinstance(name, str) and name.split():
            return " ".join(name.split())[:NAME_MAX]
    email = claims.get("email")
    if email_verified(claims) and isinstance(email, str):
        local = email.rpartition("@")[0].strip()
        if local:
            return local[:NAME_MAX]
    return FALLBACK


def email_verified(claims: dict[str, Any]) -> bool:
    """Whether the token says the email is verified: JSON true, or the string "true"
    that an identity provider's attribute mapping may bring; nothing else."""
    value = claims.get("email_verified")
    return value is True or value == "true"  # never 1, "yes" or "True"


def groups(claims: dict[str, Any]) -> list[str]:
    """The member's `cognito:groups`, less the automatic groups of external providers
    (`<user pool id>_<provider>`), which everyone who signs in through one joins."""
    pool_id = user_pool_id(current_app.config)
    found = claims.get("cognito:groups")
    if not isinstance(found, list):
        return []
    return [group for group in found
            if isinstance(group, str) and not is_automatic_group(group, pool_id)]


def remember(author: Author, name: str, login: bool) -> None:
    """Record the member's current name (and the time, at a login).

    A busy store costs the record, not the sign-in: bylines fall back to the name
    each post saved.
    """
    try:
        get_store().save_member(author, name, login)
    except PostsUnavailable:
        log.warning("member record not saved")


def bylines(posts: Iterable[Post]) -> dict[str, str]:
    """Each post's author's current name, by post id, from one batch read."""
    posts = list(posts)
    recorded = get_store().member_names({post.author_id for post in posts})
    return {post.id: recorded.get(post.author_id) or post.author_name or FALLBACK
            for post in posts}


def current_name(author: Author, claims: dict[str, Any]) -> str:
    """The recorded name of `author`, else the rule applied to `claims`."""
    return (get_store().member_names([author.id]).get(author.id)
            or display_name(claims))
