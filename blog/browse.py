"""Finding posts: a member's page (`/authors/<id>`) and a tag's (`/tags/<tag>`), each
their published posts newest first, paged like the posts list."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from .auth import login_required
from .members import FALLBACK
from .members import bylines
from .posts import PAGE_SIZE
from .posts import author as signed_in_author
from .storage import TAG
from .storage import get_store
from .storage import normalise_tags
from .storage import pages

bp = Blueprint("browse", __name__)
MEMBER_ID_LENGTH = 24  # storage.member_id


@bp.app_template_global()
def my_author_id() -> str:
    """The signed-in member's id, for the "My posts" link."""
    return signed_in_author().id


@bp.get("/authors/<author_id>")
@login_required
def author(author_id: str) -> Any:
    """A member's name and published posts; 404 for an id no one has."""
    if len(author_id) != MEMBER_ID_LENGTH or not author_id.isalnum():
        abort(404, "There is no such member.")
    store, cursor = get_store(), request.args.get("cursor") or None
    member = store.get_member(author_id)
    posts, next_cursor = store.list_posts(cursor, PAGE_SIZE, author_id=author_id)
    if member is None and not posts and cursor is None:
        abort(404, "There is no such member.")
    names = bylines(posts)
    name = member.name if member else (names[posts[0].id] if posts else FALLBACK)
    return render_template("browse/author.html", author_id=author_id, name=name,
                           member=member, posts=posts, names=names,
                           pages=pages(posts, cursor, next_cursor),
                           page_size=PAGE_SIZE)


@bp.get("/tags/<tag>")
@login_required
def tag(tag: str) -> Any:
    """The published posts with this tag; a tag typed in another form redirects to
    the one stored (`/tags/Python` → `/tags/python`)."""
    if not TAG.fullmatch(tag):
        tidy, error = normalise_tags([tag])
        if error or not tidy:
            abort(404, "There is no such tag: tags are letters, digits and hyphens.")
        return redirect(url_for("browse.tag", tag=tidy[0], **request.args), 301)
    cursor = request.args.get("cursor") or None
    posts, next_cursor = get_store().list_posts(cursor, PAGE_SIZE, tag=tag)
    return render_template("browse/tag.html", tag=tag, posts=posts,
                           names=bylines(posts),
                           pages=pages(posts, cursor, next_cursor),
                           page_size=PAGE_SIZE)
