"""A Flask blog whose members log in through Amazon Cognito."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the blog from BLOG_* environment variables (and `test_config` in tests)."""
    from . import api
    from . import auth
    from . import autosave
    from . import config
    from . import csrf
    from . import dates
    from . import errors
    from . import headers
    from . import logs
    from . import main
    from . import media
    from . import posts
    from . import sessions
    from . import storage

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(config.DEFAULTS)
    app.config.from_prefixed_env("BLOG")
    if test_config:
        app.config.update(test_config)
    if app.config.get("INSTANCE_PATH"):
        app.instance_path = app.config["INSTANCE_PATH"]
    config.check(app)

    sessions.init_app(app)
    storage.init_app(app)
    csrf.init_app(app)
    headers.init_app(app)
    logs.init_app(app)
    errors.init_app(app)
    dates.init_app(app)
    if app.config["LOCAL_MODE"]:
        from . import local

        local.init_app(app)
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(posts.bp)
    app.register_blueprint(autosave.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(media.bp)
    csrf.exempt(app, api.bp)  # bearer tokens only, never cookies: nothing to forge
    return app
