"""Posts: list, read, write (publish, save a draft, preview), edit (the author), delete
(the author or a moderator); a draft is only its author's.

A post's address is `/posts/<id>/<slug>`, the slug made from its title when saved;
`/posts/<id>` and an out-of-date slug redirect there.
"""

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

from . import kept
from .auth import SessionEnded
from .auth import login_required
from .errors import render_error
from .members import bylines
from .storage import BODY_MAX
from .storage import DRAFT
from .storage import PUBLISHED
from .storage import Author
from .storage import Post
from .storage import PostChanged
from .storage import PostsUnavailable
from .storage import check_post
from .storage import get_store
from .storage import pages
from .storage import rfc3339
from .storage import split_tags
from .storage import utc

bp = Blueprint("posts", __name__, url_prefix="/posts")
PAGE_SIZE = 10
ACTIONS = {"publish": PUBLISHED, "draft": DRAFT, "preview": None}

bp.add_app_template_filter(rfc3339, "rfc3339")


@bp.app_template_global()
def post_url(post: Post, **values: Any) -> str:
    """The readable address of a post: `/posts/<id>/<slug>`."""
    return url_for("posts.read", post_id=post.id, slug=post.slug, **values)


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
                           pages=pages(posts, cursor, next_cursor),
                           page_size=PAGE_SIZE)


@bp.get("/drafts")
@login_required
def drafts() -> Any:
    """The member's own drafts, newest first, paged like the posts."""
    cursor = request.args.get("cursor") or None
    posts, next_cursor = get_store().list_drafts(author(), cursor, PAGE_SIZE)
    return render_template("posts/drafts.html", posts=posts,
                           pages=pages(posts, cursor, next_cursor),
                           page_size=PAGE_SIZE)


@bp.get("/<post_id>")
@login_required
def detail(post_id: str) -> Any:
    """A post's short address: redirects to its readable one."""
    return redirect(post_url(get_post(post_id, check_author=False)), 301)


@bp.get("/<post_id>/<slug>")
@login_required
def read(post_id: str, slug: str) -> Any:
    """One post, with Edit and Delete for those allowed to use them; a slug from an
    older title redirects to the current one."""
    post = get_post(post_id, check_author=False)
    if slug != post.slug:
        return redirect(post_url(post), 301)
    return render_template("posts/detail.html", post=post, names=bylines([post]),
                           can_edit=is_author(post), can_delete=may_delete(post))


@bp.route("/new", methods=("GET", "POST"))
@login_required
def create() -> Any:
    """Write a post: publish it, save it as a draft, or preview it."""
    if request.method == "POST":
        return write(None)
    return form_page(None, kept.take_kept() or {"title": "", "body": "", "tags": []})


@bp.route("/<post_id>/edit", methods=("GET", "POST"))
@login_required
def update(post_id: str) -> Any:
    """Edit a post or a draft; only its author may."""
    post = get_post(post_id)
    if request.method == "POST":
        return write(post)
    form = kept.take_kept() or {"title": post.title, "body": post.body,
                                "tags": list(post.tags), "version": post.updated_at}
    return form_page(post, form)


def write(post: Post | None) -> Any:
    """Save the sent form as `action` says (or preview it), over `post` if given."""
    action = request.form.get("action", "publish")
    if action not in ACTIONS:
        abort(400, "Choose Publish, Save draft or Preview.")
    form, errors = read_form(draft=action != "publish")
    form["version"] = request.form.get("version", "")
    status = ACTIONS[action]
    if errors or status is None:
        return form_page(post, form, errors, preview=form.get("rendered"))
    store = get_store()
    if post is None:
        saved = store.create_post(form["title"], form["body"], form["rendered"],
                                  author(), g.user["name"], status, form["tags"])
    else:
        try:  # conditional on the author and the version loaded, in the store itself
            saved = store.update_post(post.id, form["title"], form["body"],
                                      form["rendered"], author(),
                                      status if status != post.status else None,
                                      version=read_version(), tags=form["tags"])
        except PostChanged as changed:
            form["version"] = changed.current.updated_at  # sending again replaces it
            return form_page(post, form, {"conflict": changed.description}, 409)
        if saved is None:
            abort(404, "This post was deleted while you were editing it.")
    flash(saved_message(post, saved), "success")
    return redirect(post_url(saved))


def saved_message(before: Post | None, saved: Post) -> str:
    if saved.is_draft:
        return "Draft saved. Only you can see it."
    if before is None or before.is_draft:
        return "Post published."
    return "Post updated."


def form_page(post: Post | None, form: dict[str, Any], errors: dict | None = None,
              status: int | None = None, preview: Any = None) -> Any:
    """The write or edit page; with errors, a 400 (or `status`)."""
    page = render_template("posts/form.html", post=post, form=form, errors=errors or {},
                           preview=preview, writer=kept.writer_field(),
                           body_max=BODY_MAX,
                           can_delete=post is not None and may_delete(post))
    return page, status or (400 if errors else 200)


def read_version() -> int | None:
    """The `version` (updated_at) the form was loaded with, if it sent one."""
    raw = request.form.get("version", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 17 else None


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
    kept_for_login = not can_retry and kept.keep_sent_form()
    page = render_template("posts/unsaved.html", form=form, error=error,
                           can_retry=can_retry, kept=kept_for_login)
    return page, error.code


def get_post(post_id: str, check_author: bool = True) -> Post:
    """The post with this id; 404 if there is none, 403 if `check_author` fails."""
    post = get_store().get_post(post_id)
    if post is None or (post.is_draft and not is_author(post)):
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


def read_form(draft: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """The submitted title, body and tags, tidied, and an error message per bad
    field."""
    form, errors = check_post(request.form.get("title", ""),
                              request.form.get("body", ""), draft,
                              split_tags(request.form.get("tags", "")))
    if "tags" in errors:  # given back as typed, to be corrected
        form["tags"] = request.form.get("tags", "")
    return form, errors
