"""API errors as `application/problem+json` (RFC 9457)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Response
from flask import current_app
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

MEDIA_TYPE = "application/problem+json"


class Problem(HTTPException):
    """An API failure; `errors` lists `{"field", "message"}` for validation failures."""

    def __init__(self, code: int, detail: str, errors: list[dict] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.code, self.errors, self.extra_headers = code, errors, headers or {}

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        return problem_response(self.code, self.description, self.errors,
                                self.extra_headers.items())


def problem_response(code: int, detail: str | None, errors: list[dict] | None = None,
                     headers: Any = ()) -> Response:
    """A problem document with the status's own title (`type` is about:blank)."""
    body: dict[str, Any] = {"type": "about:blank", "title": HTTP_STATUS_CODES[code],
                            "status": code, "detail": detail or HTTP_STATUS_CODES[code]}
    if errors:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body), code, mimetype=MEDIA_TYPE)
    response.headers.extend(headers)
    return response


def as_problem(error: HTTPException) -> Response:
    """Any HTTP error of the API (werkzeug's, the store's, ours) as a problem."""
    if isinstance(error, Problem):
        return error.get_response()
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return problem_response(error.code or 500, error.description, headers=headers)


def invalid(errors: Iterable[tuple[str, str]], code: int = 422) -> Problem:
    """A validation failure from (field, message) pairs.

    A field is a body member or a query parameter; '' stands for the whole body.
    """
    return Problem(code, "The request is not valid: see errors.",
                   [{"field": field, "message": message} for field, message in errors])
