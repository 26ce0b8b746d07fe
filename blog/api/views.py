"""The JSON API: posts for scripts and services, with Cognito access tokens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import jsonify
from flask import request
from flask import url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from ..members import bylines
from ..members import current_name
from ..storage import DRAFT
from ..storage import PUBLISHED
from ..storage import Author
from ..storage import BadCursor
from ..storage import Post
from ..storage import get_store
from ..storage import is_post_id
from ..storage import rfc3339
from . import schema
from .bearer import authenticate
from .bearer import is_admin
from .inputs import bad_cursor
from .inputs import read_cursor
from .inputs import read_filters
from .inputs import read_limit
from .inputs import read_post
from .inputs import read_status
from .problems import Problem
from .problems import as_problem

bp = Blueprint("api", __name__, url_prefix="/api", cli_group=None)
bp.register_error_handler(HTTPException, as_problem)
PAGE_SIZE, MAX_PAGE_SIZE = 20, 100


@bp.get("/posts")
def list_posts() -> Any:
    """A page of published posts (or, `?status=draft`, the caller's own drafts),
    newest first, of one `?author=` and/or with one `?tag=`; `next_cursor` fetches
    the following page."""
    claims = authenticate()
    cursor, limit = read_cursor(), read_limit(PAGE_SIZE, MAX_PAGE_SIZE)
    drafts = read_status() == DRAFT
    author_id, tag = read_filters()
    try:
        if drafts and author_id not in (None, author(claims).id):
            posts, next_cursor = [], None  # nobody sees another member's drafts
        elif drafts:
            posts, next_cursor = get_store().list_drafts(author(claims), cursor, limit,
                                                         tag=tag)
        else:
            posts, next_cursor = get_store().list_posts(cursor, limit,
                                                        author_id=author_id, tag=tag)
    except BadCursor:
        raise bad_cursor() from None
    names = bylines(posts)
    return {"items": [post_json(post, names[post.id]) for post in posts],
            "next_cursor": next_cursor}


@bp.post("/posts")
def create_post() -> Any:
    """Publish a post (or save a draft) as the token's user."""
    claims = authenticate(write=True)
    fields = read_post()
    # Access tokens rarely carry a name: the one recorded at the member's last page
    # login, else the rule on what this token has ("Member" for a bare one).
    name = current_name(author(claims), claims)
    post = get_store().create_post(fields["title"], fields["body"], fields["rendered"],
                                   author(claims), name,
                                   fields["status"] or PUBLISHED, fields["tags"])
    response = jsonify(post_json(post, name))
    response.headers["Location"] = url_for(".get_post", post_id=post.id)
    return response, 201


@bp.get("/posts/<post_id>")
def get_post(post_id: str) -> Any:
    """One post."""
    claims = authenticate()
    post = find_post(post_id, claims)
    return post_json(post, bylines([post])[post.id])


@bp.patch("/posts/<post_id>")
def update_post(post_id: str) -> Any:
    """Change the title, body, tags and/or status; the author only."""
    claims = authenticate(write=True)
    post = find_post(post_id, claims)
    if post.author != author(claims):
        raise Problem(403, "Only the author of this post can edit it.")
    fields = read_post(current={"title": post.title, "body": post.body})
    status = fields["status"] if fields["status"] != post.status else None
    # Conditional on the author in the store itself, so a race cannot slip by.
    updated = get_store().update_post(post.id, fields["title"], fields["body"],
                                      fields["rendered"], author(claims), status,
                                      tags=fields["tags"])
    if updated is None:
        raise Problem(404, "This post was deleted while you were editing it.")
    return post_json(updated, bylines([updated])[updated.id])


@bp.delete("/posts/<post_id>")
def delete_post(post_id: str) -> Any:
    """Delete a post; its author or a member of the admin group."""
    claims = authenticate(write=True)
    post = find_post(post_id, claims)
    is_author = post.author == author(claims)
    if not is_author and not is_admin(claims):
        raise Problem(403, "Only the author of this post or a moderator can delete it.")
    if not get_store().delete_post(post.id, author(claims) if is_author else None):
        raise Problem(404, "This post has already been deleted.")
    return "", 204


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 description of this API (public, like any API reference)."""
    return served_document()


@bp.get("/docs")
def docs() -> Any:
    """The same description as a page for people (public too)."""
    from . import reference  # brings the Markdown parser: kept off cold starts

    return reference.page(served_document())


def served_document() -> dict[str, Any]:
    """The document of this app, as both /api/openapi.json and /api/docs show it."""
    return schema.document(current_app.config["API_WRITE_SCOPE"], request.script_root)


def find_post(post_id: str, claims: dict[str, Any]) -> Post:
    """The post with this id, or a 404 problem (also for ids no post can have, and
    for someone else's draft)."""
    post = get_store().get_post(post_id) if is_post_id(post_id) else None
    if post is None or (post.is_draft and post.author != author(claims)):
        raise Problem(404, "There is no post with this id.")
    return post


def author(claims: dict[str, Any]) -> Author:
    """The token's user as an author: issuer and subject together."""
    return Author(claims["iss"], claims["sub"])


def post_json(post: Post, author_name: str) -> dict[str, Any]:
    """A post as the API shows it (HTML as stored when it was saved), by the name its
    author has now."""
    return {
        "id": post.id, "title": post.title, "body": post.body,
        "body_html": post.body_html, "tags": list(post.tags),
        "author": {"id": post.author_id, "name": author_name},
        "created_at": rfc3339(post.created_at), "updated_at": rfc3339(post.updated_at),
        "status": post.status,
        "published_at": None if post.published_at is None else rfc3339(
            post.published_at),
    }


@bp.after_request
def no_store(response: Response) -> Response:
    """API answers depend on the token: no cache may keep them."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.before_app_request
def routing_problems() -> Any:
    """Unknown paths and methods under /api/ get problems too (no view of ours runs)."""
    error = request.routing_exception
    if (error is not None and not isinstance(error, RequestRedirect)
            and (request.path + "/").startswith(bp.url_prefix + "/")):
        return as_problem(error)
    return None
