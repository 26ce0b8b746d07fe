"""The JSON API under /api: posts for scripts, with Cognito access tokens."""

from __future__ import annotations

from .token_command import api_token
from .views import bp

bp.cli.add_command(api_token)

__all__ = ["bp"]
