"""Posts: list, read, write, edit (the author), delete (the author or a moderator)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .auth import SessionEnded
from .auth import login_required
from .errors import render_error
from .members import bylines
from .storage import Author
from .storage import Post
from .storage import PostsUnavailable
from .storage import check_post
from .storage import get_store
from .storage import rfc3339
from .storage import utc

bp = Blueprint("posts", __name__, url_prefix="/posts")
PAGE_SIZE = 10

bp.add_app_template_filter(rfc3339, "rfc3339")


@bp.app_template_filter("humantime")
def humantime(ms: int) -> str:
    """Epoch milliseconds as e.g. '3 March 2025, 14:05 UTC'."""
    moment = utc(ms)
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


@bp.get("/")
@login_required
def index() -> Any:
    """A page of posts, newest first; `?cursor=` comes from an "Older posts" link."""
    cursor = request.args.get("cursor") or None
    posts, next_cursor = get_store().list_posts(cursor, PAGE_SIZE)
    return render_template("posts/index.html", posts=posts, names=bylines(posts),
                           cursor=cursor, next_cursor=next_cursor)


@bp.get("/<post_id>")
@login_required
def detail(post_id: str) -> Any:
    """One post, with Edit and Delete for those allowed to use them."""
    post = get_post(post_id, check_author=False)
    return render_template("posts/detail.html", post=post, names=bylines([post]),
                           can_edit=is_author(post), can_delete=may_delete(post))


@bp.route("/new", methods=("GET", "POST"))
@login_required
def create() -> Any:
    """Write a post."""
    form, errors = {"title": "", "body": ""}, {}
    if request.method == "POST":
        form, errors = read_form()
        if not errors:
            post = get_store().create_post(form["title"], form["body"],
                                           form["rendered"], author(),
                                           g.user["name"])
            flash("Post published.", "success")
            return redirect(url_for("posts.detail", post_id=post.id))
    page = render_template("posts/form.html", post=None, form=form, errors=errors)
    return page, 400 if errors else 200


@bp.route("/<post_id>/edit", methods=("GET", "POST"))
@login_required
def update(post_id: str) -> Any:
    """Edit a post; only its author may."""
    post = get_post(post_id)
    form, errors = {"title": post.title, "body": post.body}, {}
    if request.method == "POST":
        form, errors = read_form()
        if not errors:
            # Conditional on the author in the store itself, so a race cannot slip by.
            if get_store().update_post(post.id, form["title"], form["body"],
                                       form["rendered"], author()) is None:
                abort(404, "This post was deleted while you were editing it.")
            flash("Post updated.", "success")
            return redirect(url_for("posts.detail", post_id=post.id))
    page = render_template("posts/form.html", post=post, form=form, errors=errors,
                           can_delete=may_delete(post))
    return page, 400 if errors else 200


@bp.route("/<post_id>/delete", methods=("GET", "POST"))
@login_required
def delete(post_id: str) -> Any:
    """Ask for confirmation (GET), then delete (POST); the author or a moderator."""
    post = get_post(post_id, check_author=False)
    if not may_delete(post):
        abort(403, "Only the author of this post or a moderator can delete it.")
    if request.method == "GET":
        return render_template("posts/delete.html", post=post, names=bylines([post]))
    # None: a moderator's delete
    if not get_store().delete_post(post.id, author() if is_author(post) else None):
        abort(404, "This post has already been deleted.")
    flash("Post deleted.", "success")
    return redirect(url_for("posts.index"))


@bp.errorhandler(PostsUnavailable)
@bp.errorhandler(CSRFError)
@bp.errorhandler(SessionEnded)
def unsaved(error: HTTPException) -> Any:
    """A post that could not be saved: give back what was typed rather than lose it."""
    if request.method != "POST" or not (request.form.get("title")
                                         or request.form.get("body")):
        return render_error(error)
    form = {
        "title": request.form.get("title", ""),
        "body": request.form.get("body", ""),
    }
    can_retry = isinstance(error, PostsUnavailable) and g.get("user")
    page = render_template("posts/unsaved.html", form=form, error=error,
                           can_retry=can_retry)
    return page, error.code


def get_post(post_id: str, check_author: bool = True) -> Post:
    """The post with this id; 404 if there is none, 403 if `check_author` fails."""
    post = get_store().get_post(post_id)
    if post is None:
        abort(404, "There is no such post. It may have been deleted.")
    if check_author and not is_author(post):
        abort(403, "Only the author of this post can edit it.")
    return post


def author() -> Author:
    """The logged-in member as an author: their token's issuer and subject."""
    return Author(g.user.get("iss") or "", g.user["sub"])


def is_author(post: Post) -> bool:
    return post.author == author()


def may_delete(post: Post) -> bool:
    groups = g.user.get("groups") or ()
    return is_author(post) or current_app.config["ADMIN_GROUP"] in groups


def read_form() -> tuple[dict[str, Any], dict[str, str]]:
    """The submitted title and body, tidied, and an error message per bad field."""
    return check_post(request.form.get("title", ""), request.form.get("body", ""))
