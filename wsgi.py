"""Entry points: `app` for WSGI servers, `handler` for AWS Lambda behind API Gateway."""

from __future__ import annotations

from typing import Any

import awsgi

from blog import create_app
from blog import lambda_adapter
from blog import media

# These bodies go back base64-encoded: aws-wsgi would UTF-8-decode them (a 502).
BINARY_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif",
                "image/x-icon", "image/vnd.microsoft.icon", "font/woff2",
                "application/octet-stream", "application/pdf", "application/zip"}

app = create_app()  # once per Lambda container, reused by warm invocations
app.wsgi_app = lambda_adapter.fix_environ(app.wsgi_app)  # type: ignore[method-assign]


def handler(event: dict, context: Any) -> dict:
    """Serve one API Gateway event (REST, HTTP API payload 1.0 or 2.0), or run the
    daily image cleanup for serverless.yml's scheduled event."""
    if lambda_adapter.is_scheduled(event):
        return {"removed": len(media.clean_up(app))}
    v1 = lambda_adapter.v1_event(event)
    response = awsgi.response(app, v1, context, base64_content_types=BINARY_TYPES)
    return lambda_adapter.finish(response, event, v1)
