"""Images: members upload them from the write page (`POST /media`) and see them in
posts (`GET /media/<key>`). docs/SECURITY.md, "Uploaded images".
"""

from __future__ import annotations

import logging
import re
from typing import Any

import click
from flask import Blueprint
from flask import Flask
from flask import g
from flask import jsonify
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import RequestEntityTooLarge

from .auth import SessionEnded
from .auth import login_required
from .errors import render_error
from .logs import user_hash
from .mediastore import FILE_MAX
from .mediastore import TOO_LARGE
from .mediastore import cleanup
from .mediastore import get_media
from .mediastore import new_key
from .storage import get_store

bp = Blueprint("media", __name__, url_prefix="/media", cli_group=None)
log = logging.getLogger(__name__)
# A 4 MB file plus the multipart envelope and the CSRF field; other routes keep 1 MB.
REQUEST_MAX = FILE_MAX + 64 * 1024


@bp.url_value_preprocessor
def room_for_an_image(endpoint: str | None, values: Any) -> None:
    """Raise the body limit for uploads only; runs before the CSRF check reads it."""
    if endpoint == "media.upload":
        request.max_content_length = REQUEST_MAX


def wants_json() -> bool:
    """A script's fetch (Accept: application/json), not a browser's form post."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json"


@bp.errorhandler(HTTPException)
def refused(error: HTTPException) -> Any:
    """Errors as JSON `{"error": message}` for scripts, as the site's page otherwise."""
    if isinstance(error, RequestEntityTooLarge):  # the body was over REQUEST_MAX
        error = RequestEntityTooLarge(TOO_LARGE)
    if isinstance(error, CSRFError) and not session.get("user"):
        error = SessionEnded()  # no session, so no token: say what to do about it
    if not wants_json():
        return render_error(error)
    response = jsonify(error=error.description)
    response.status_code = error.code or 500
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="blog"'
    return response


@bp.post("")
@login_required
def upload() -> Any:
    """Check, re-encode and keep one image; answer its URL and Markdown (201)."""
    from . import images  # Pillow: imported by the first upload, not at start-up

    file = request.files.get("file")
    if file is None:
        return problem(400, "Choose an image file to upload (form field “file”).")
    try:
        image = images.reencode(file.stream.read(FILE_MAX + 1))
    except images.Refused as error:
        return problem(error.status, error.message)
    key = new_key(image.extension)
    get_media().put(key, image.data)
    log.info("image uploaded key=%s size=%d user=%s", key, len(image.data),
             user_hash(g.user["sub"]))
    url = url_for("media.show", key=key)
    markdown = f"![{alt_text(file.filename)}]({url})"
    if wants_json():
        return jsonify(url=url, markdown=markdown), 201, {"Location": url}
    page = render_template("media/uploaded.html", url=url, markdown=markdown)
    return page, 201, {"Location": url}


def problem(status: int, message: str) -> Any:
    if wants_json():
        return jsonify(error=message), status
    return render_template("errors/error.html", code=status,
                           title="Image not uploaded", description=message), status


def alt_text(filename: str | None) -> str:
    """The file's name as plain words for the image's alt text (Markdown-safe)."""
    stem = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    words = " ".join(re.sub(r"[^\w -]+", " ", stem).replace("_", " ").split())
    return words[:80] or "image"


@bp.get("/<key>")
@login_required
def show(key: str) -> Any:
    """The image itself (local folder) or a redirect to a short-lived S3 URL."""
    return get_media().serve(key)


def clean_up(app: Flask) -> list[str]:
    """Run the cleanup rule on this app's images; the removed keys."""
    with app.app_context():
        return cleanup(get_media(app), get_store().bodies())


@bp.cli.command("media-cleanup")
def media_cleanup_command() -> None:
    """Delete images that no post references, uploaded over a day ago."""
    from flask import current_app

    removed = clean_up(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"Removed {len(removed)} unreferenced image(s).")
