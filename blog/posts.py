"""PLACEHOLDER until the posts blueprint lands (being written now)."""

from __future__ import annotations

from flask import Blueprint

from .auth import login_required

bp = Blueprint("posts", __name__, url_prefix="/posts")


@bp.get("/")
@login_required
def index():
    return "posts"


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    return "new"
