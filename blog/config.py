"""Settings: defaults, validation of the BLOG_* variables, local mode's values."""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit

from flask import Flask

DEFAULTS = {
    "ADMIN_GROUP": "admins",
    "SESSION_TYPE": "filesystem",
    "SESSION_IDLE_TIMEOUT": 1800,
    "SESSION_ABSOLUTE_TIMEOUT": 43200,
    "SESSION_PERMANENT": True,
    "SESSION_REFRESH_EACH_REQUEST": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "MAX_CONTENT_LENGTH": 1024 * 1024,
}
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
STRING_SETTINGS = (
    "COGNITO_ISSUER",
    "COGNITO_CLIENT_ID",
    "COGNITO_CLIENT_SECRET",
    "COGNITO_DOMAIN",
    "COGNITO_METADATA_URL",
    "COGNITO_JWKS_URL",
    "BASE_URL",
    "SECRET_KEY",
    "ADMIN_GROUP",
    "SESSION_TABLE",
    "POSTS_TABLE",
)
REQUIRED_WITH_ISSUER = (
    "COGNITO_CLIENT_ID",
    "COGNITO_CLIENT_SECRET",
    "COGNITO_DOMAIN",
    "BASE_URL",
    "SECRET_KEY",
)


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message names the BLOG_ variable."""


def check(app: Flask) -> None:
    """Validate the settings, fill in derived values; raise `ConfigError` if wrong."""
    config = app.config
    for name in STRING_SETTINGS:
        # from_prefixed_env parses JSON, so an all-digit client id arrives as an int.
        if config.get(name) is not None and not isinstance(config[name], str):
            config[name] = str(config[name])
        if config.get(name) == "":
            config[name] = None
    from . import secretrefs  # here: secretrefs imports ConfigError from this module

    secretrefs.resolve(config)
    config["LOCAL_MODE"] = not config.get("COGNITO_ISSUER")
    if config["LOCAL_MODE"]:
        setup_local(app)
    else:
        for name in REQUIRED_WITH_ISSUER:
            if not config.get(name):
                raise ConfigError(
                    f"BLOG_{name} is required when BLOG_COGNITO_ISSUER is set"
                )
        config["BASE_URL"] = config["BASE_URL"].rstrip("/")
        config["COGNITO_DOMAIN"] = config["COGNITO_DOMAIN"].rstrip("/")
        config.setdefault("COGNITO_METADATA_URL", None)
        if not config["COGNITO_METADATA_URL"]:
            config["COGNITO_METADATA_URL"] = (
                config["COGNITO_ISSUER"] + "/.well-known/openid-configuration"
            )
    for name in (
        "COGNITO_ISSUER",
        "COGNITO_DOMAIN",
        "COGNITO_METADATA_URL",
        "COGNITO_JWKS_URL",
        "BASE_URL",
    ):
        if config.get(name):
            check_url(name, config[name])
    check_numbers(config)
    check_sessions(config)
    https = (config.get("BASE_URL") or "").startswith("https://")
    config["SESSION_COOKIE_SECURE"] = https
    # __Host- pins the cookie to this exact host, https and path /.
    config["SESSION_COOKIE_NAME"] = "__Host-session" if https else "session"
    config["PERMANENT_SESSION_LIFETIME"] = config["SESSION_ABSOLUTE_TIMEOUT"]


def check_url(name: str, url: str) -> None:
    """Refuse URLs that are not https, except plain http on a loopback host."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise ConfigError(
        f"BLOG_{name} must be an https:// URL (plain http only for "
        f"localhost, 127.0.0.1 or [::1]); got {url!r}"
    )


def check_numbers(config: dict) -> None:
    """Timeouts must be positive whole seconds."""
    for name in ("SESSION_IDLE_TIMEOUT", "SESSION_ABSOLUTE_TIMEOUT"):
        value = config.get(name)
        if isinstance(value, str) and value.isdigit():
            value = config[name] = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"BLOG_{name} must be a positive number of seconds")


def check_sessions(config: dict) -> None:
    """The session backend must be one we support, with its table when needed."""
    kind = config.get("SESSION_TYPE")
    if kind not in ("filesystem", "dynamodb", "cachelib"):
        raise ConfigError("BLOG_SESSION_TYPE must be 'filesystem' or 'dynamodb'")
    if kind == "dynamodb" and not config.get("SESSION_TABLE"):
        raise ConfigError(
            "BLOG_SESSION_TABLE is required when BLOG_SESSION_TYPE is 'dynamodb'"
        )


def setup_local(app: Flask) -> None:
    """Local mode: an instance folder holding a generated secret key."""
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = read_or_create_secret(
            os.path.join(app.instance_path, "secret_key")
        )
    if app.config.get("BASE_URL"):
        app.config["BASE_URL"] = app.config["BASE_URL"].rstrip("/")


def read_or_create_secret(path: str) -> str:
    """Return the secret kept in `path`, creating it (mode 600) on first use."""
    try:
        with open(path) as file:
            return file.read().strip()
    except FileNotFoundError:
        value = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(value)
        return value
