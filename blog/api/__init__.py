"""The JSON API under /api: posts for scripts, with Cognito access tokens."""

from __future__ import annotations

from . import cli  # noqa: F401 (registers `flask api-token` on bp)
from .views import bp

__all__ = ["bp"]
