"""Server-side sessions through Flask-Session, chosen by BLOG_SESSION_TYPE."""

from __future__ import annotations

import os

from cachelib import FileSystemCache
from flask import Flask
from flask_session import Session


def init_app(app: Flask) -> None:
    """Bind Flask-Session to `app` with the configured backend."""
    kind = app.config["SESSION_TYPE"]
    if kind == "filesystem":
        # Flask-Session 0.8's own "filesystem" type is deprecated; cachelib's is not.
        app.config["SESSION_TYPE"] = "cachelib"
        app.config["SESSION_CACHELIB"] = FileSystemCache(
            os.path.join(app.instance_path, "sessions"), threshold=10_000)
    Session().init_app(app)
