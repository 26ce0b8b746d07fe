"""Autosave: static/writing.js sends the write form here every few seconds, as JSON.

It only ever keeps drafts: the first save of a new post creates one draft and answers
its id, later saves send that id and the `version` (updated_at) they last saw, and a
draft that moved since (another tab) is refused with 409, never overwritten. The CSRF
token comes in the `X-CSRFToken` header, which Flask-WTF reads.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import g
from flask import request
from flask import url_for
from werkzeug.exceptions import HTTPException

from .auth import login_required
from .posts import author
from .storage import DRAFT
from .storage import Post
from .storage import PostChanged
from .storage import check_post
from .storage import get_store
from .storage import is_post_id

bp = Blueprint("autosave", __name__, url_prefix="/posts")


@bp.post("/autosave")
@login_required
def autosave() -> Any:
    """Save the sent title and body as a draft: a new one, or the draft `id`."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not all(
            isinstance(data.get(name), str) for name in ("title", "body")):
        return problem(400, "Send the title and body as JSON.")
    form, errors = check_post(data["title"], data["body"], draft=True)
    if errors:
        return {"error": " ".join(errors.values()), "errors": errors}, 400
    store, post_id, version = get_store(), data.get("id"), data.get("version")
    if post_id is None:
        post = store.create_post(form["title"], form["body"], form["rendered"],
                                 author(), g.user["name"], DRAFT)
        return saved(post), 201
    if not is_post_id(post_id) or type(version) is not int:
        return problem(400, "Send the draft's id and the version you loaded.")
    post = store.get_post(post_id)
    if post is None or post.author != author():
        return problem(404, "This draft was deleted.")
    if not post.is_draft:
        return problem(409, "This post is published now, so it is not saved "
                            "automatically: use Save changes.", post.updated_at)
    try:
        post = store.update_post(post.id, form["title"], form["body"],
                                 form["rendered"], author(), version=version)
    except PostChanged as changed:
        return problem(409, changed.description + " Copy your text, then reload the "
                       "page to see the saved version.", changed.current.updated_at)
    if post is None:
        return problem(404, "This draft was deleted.")
    return saved(post)


def saved(post: Post) -> dict[str, Any]:
    return {"id": post.id, "version": post.updated_at,
            "edit_url": url_for("posts.update", post_id=post.id)}


def problem(status: int, message: str, version: int | None = None) -> Any:
    answer: dict[str, Any] = {"error": message}
    if version is not None:
        answer["version"] = version
    return answer, status


@bp.errorhandler(HTTPException)
def as_json(error: HTTPException) -> Any:
    """Errors as JSON for the script: an ended session, a stale CSRF token, a 503."""
    return problem(error.code or 500, error.description or error.name)
