"""Error pages in the site's layout."""

from __future__ import annotations

from flask import Flask
from flask import render_template
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    500: "Something went wrong",
    502: "Sign-in service error",
    503: "Temporarily unavailable",
}


def init_app(app: Flask) -> None:
    """Render every HTTP error with templates/errors/error.html."""
    app.register_error_handler(HTTPException, render_error)


def render_error(error: HTTPException) -> tuple[str, int]:
    """An error page that explains what happened, never a traceback."""
    if request_ctx.url_adapter is None:  # e.g. a Host werkzeug cannot bind: no url_for
        return error.get_response()  # type: ignore[return-value]
    code = error.code or 500
    title = TITLES.get(code, error.name)
    response = render_template(
        "errors/error.html", code=code, title=title, description=error.description
    )
    return response, code
