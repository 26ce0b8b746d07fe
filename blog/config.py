"""Settings: defaults, validation of the BLOG_* variables, local mode's values."""

from __future__ import annotations

import os
import re
import secrets
from urllib.parse import urlsplit

from flask import Flask

from . import secretrefs

DEFAULTS = {
    "ADMIN_GROUP": "admins",
    "COGNITO_IDENTITY_PROVIDERS": "",  # none besides the pool's own sign-in
    "SESSION_TYPE": "filesystem",
    "SESSION_IDLE_TIMEOUT": 1800,
    "SESSION_ABSOLUTE_TIMEOUT": 43200,
    "SESSION_PERMANENT": True,
    "SESSION_REFRESH_EACH_REQUEST": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "SITE_NAME": "Blog",
    "SITE_DESCRIPTION": "A small blog whose members sign in with Amazon Cognito.",
}
SITE_TEXT_MAX = {"SITE_NAME": 60, "SITE_DESCRIPTION": 200}  # characters
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
    "MEDIA_BUCKET",
    "LOG_FORMAT",
    "SITE_NAME",
    "SITE_DESCRIPTION",
)
URL_SETTINGS = (
    "COGNITO_ISSUER",
    "COGNITO_DOMAIN",
    "COGNITO_METADATA_URL",
    "COGNITO_JWKS_URL",
    "BASE_URL",
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
    """Validate the settings and fill in derived values; raise `ConfigError` if wrong.

    Every rule about a BLOG_* setting lives in this module, one step per concern.
    """
    config = app.config
    normalise_strings(config)
    resolve_secrets(config)
    config["LOCAL_MODE"] = not config.get("COGNITO_ISSUER")
    if config["LOCAL_MODE"]:
        setup_local(app)
    else:
        require_remote(config)
    check_urls(config)
    check_numbers(config)
    check_sessions(config)
    check_api(config)
    check_identity_providers(config)
    check_admin_group(config)
    check_media(config)
    check_site(config)
    check_log_format(config)
    derive_cookies(config)


def normalise_strings(config: dict) -> None:
    """String settings as strings, an empty one as unset."""
    for name in STRING_SETTINGS:
        # from_prefixed_env parses JSON, so an all-digit client id arrives as an int.
        if config.get(name) is not None and not isinstance(config[name], str):
            config[name] = str(config[name])
        if config.get(name) == "":
            config[name] = None


def resolve_secrets(config: dict) -> None:
    """Replace `secretsmanager:`/`ssm:` references by the secrets they name."""
    try:
        secretrefs.resolve(config)
    except secretrefs.UnreadableSecret as error:
        raise ConfigError(
            f"BLOG_{error.name} names {error.reference!r}, which could not be read: "
            f"{error.reason}"
        ) from None


def require_remote(config: dict) -> None:
    """With an issuer, the client, domain, base URL and secret key are required."""
    for name in REQUIRED_WITH_ISSUER:
        if not config.get(name):
            raise ConfigError(
                f"BLOG_{name} is required when BLOG_COGNITO_ISSUER is set"
            )
    config["BASE_URL"] = config["BASE_URL"].rstrip("/")
    config["COGNITO_DOMAIN"] = config["COGNITO_DOMAIN"].rstrip("/")
    if not config.get("COGNITO_METADATA_URL"):
        config["COGNITO_METADATA_URL"] = (
            config["COGNITO_ISSUER"] + "/.well-known/openid-configuration"
        )


def check_urls(config: dict) -> None:
    """Every URL setting that is set must be https (plain http only on loopback)."""
    for name in URL_SETTINGS:
        if config.get(name):
            check_url(name, config[name])


def check_api(config: dict) -> None:
    """Normalise BLOG_API_CLIENT_IDS to a list and BLOG_API_WRITE_SCOPE to one scope."""
    ids = config.get("API_CLIENT_IDS")
    if isinstance(ids, (str, int)) and not isinstance(ids, bool):
        ids = str(ids).split(",")
    if ids is not None and (
        not isinstance(ids, list)
        or not all(isinstance(i, (str, int)) and not isinstance(i, bool) for i in ids)
    ):
        raise ConfigError(
            "BLOG_API_CLIENT_IDS must be app client ids, comma-separated "
            "or as a JSON list"
        )
    config["API_CLIENT_IDS"] = [str(i).strip() for i in ids or () if str(i).strip()]
    scope = config.get("API_WRITE_SCOPE")
    scope = "" if scope is None else str(scope)
    if scope and (scope.split() != [scope] or '"' in scope or "\\" in scope):
        raise ConfigError("BLOG_API_WRITE_SCOPE must be one scope name, without spaces")
    config["API_WRITE_SCOPE"] = scope or None


PROVIDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,31}")


def check_identity_providers(config: dict) -> None:
    """BLOG_COGNITO_IDENTITY_PROVIDERS: the pool's external providers offered at
    sign-in, comma-separated names as configured in the pool, as a tuple."""
    raw = config.get("COGNITO_IDENTITY_PROVIDERS") or ""
    if isinstance(raw, list):
        raw = ",".join(str(name) for name in raw)
    names = tuple(name.strip() for name in str(raw).split(",") if name.strip())
    for name in names:
        if not PROVIDER_NAME.fullmatch(name) or name.upper() == "COGNITO":
            raise ConfigError(
                f"BLOG_COGNITO_IDENTITY_PROVIDERS: {name!r} is not a provider name: "
                "1 to 32 letters, digits, dots or hyphens, as in the user pool "
                "(COGNITO, the pool's own sign-in, is always offered)")
    if len(set(names)) < len(names):
        raise ConfigError("BLOG_COGNITO_IDENTITY_PROVIDERS names a provider twice")
    config["COGNITO_IDENTITY_PROVIDERS"] = names


# Cognito's automatic group of an external provider's users: <user pool id>_<name>,
# a pool id being <region>_<id> (e.g. us-east-1_AbC123xyz_Google).
AUTOMATIC_GROUP = re.compile(r"[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+_.+")


def user_pool_id(config: dict) -> str | None:
    """The user pool's id: the issuer's last path segment, or the local Cognito's
    (LOCAL_COGNITO_USER_POOL_ID, set once local mode's Cognito is mounted)."""
    if config.get("LOCAL_MODE"):
        return config.get("LOCAL_COGNITO_USER_POOL_ID") or None
    path = urlsplit(config.get("COGNITO_ISSUER") or "").path.rstrip("/")
    return path.rpartition("/")[2] or None


def is_automatic_group(group: str, pool_id: str | None) -> bool:
    """Whether `group` is (or looks like) the group Cognito puts every user of an
    external provider in: anyone who signs in with Google is a member."""
    return bool(AUTOMATIC_GROUP.fullmatch(group)) or bool(
        pool_id and group.startswith(pool_id + "_")
    )


def check_admin_group(config: dict) -> None:
    """BLOG_ADMIN_GROUP must not be a provider's automatic group, which would make
    every member who signs in through that provider a moderator. Local mode checks
    again once its pool id is known (`local.init_app`)."""
    group = config.get("ADMIN_GROUP")
    if group and is_automatic_group(group, user_pool_id(config)):
        raise ConfigError(
            f"BLOG_ADMIN_GROUP {group!r} looks like the group Cognito makes for an "
            "external identity provider (<user pool id>_<provider>), which everyone "
            "who signs in with that provider joins: name a group of your own, such "
            "as admins"
        )


def check_media(config: dict) -> None:
    """BLOG_MEDIA_BUCKET: an S3 bucket name, whose region comes from AWS_REGION (set on
    Lambda) or AWS_DEFAULT_REGION; it fixes the one image origin the CSP allows."""
    bucket = config.get("MEDIA_BUCKET")
    config["MEDIA_ORIGIN"] = None
    if not bucket:
        return
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", bucket):
        raise ConfigError(
            "BLOG_MEDIA_BUCKET must be an S3 bucket name of 3-63 lowercase letters, "
            "digits and hyphens (no dots: they break https to the bucket)"
        )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region or not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise ConfigError(
            "BLOG_MEDIA_BUCKET needs the bucket's region in AWS_REGION or "
            "AWS_DEFAULT_REGION (e.g. us-east-1)"
        )
    config["MEDIA_REGION"] = region
    config["MEDIA_ORIGIN"] = f"https://{bucket}.s3.{region}.amazonaws.com"


def check_site(config: dict) -> None:
    """The site's name and description, shown on every page: trimmed, a default when
    empty, and short enough for a title and a header."""
    for name, limit in SITE_TEXT_MAX.items():
        value = (config.get(name) or "").strip() or DEFAULTS[name]
        if len(value) > limit:
            raise ConfigError(f"BLOG_{name} must be at most {limit} characters")
        config[name] = value


def check_log_format(config: dict) -> None:
    """`text` or `json`; unset means `json` on Lambda and `text` anywhere else."""
    if not config.get("LOG_FORMAT"):
        on_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
        config["LOG_FORMAT"] = "json" if on_lambda else "text"
    if config["LOG_FORMAT"] not in ("text", "json"):
        raise ConfigError("BLOG_LOG_FORMAT must be 'text' or 'json'")


def derive_cookies(config: dict) -> None:
    """Cookie settings that follow from the base URL and the timeouts."""
    https = (config.get("BASE_URL") or "").startswith("https://")
    config["SESSION_COOKIE_SECURE"] = https
    # __Host- pins the cookie to this exact host, https and path /.
    config["SESSION_COOKIE_NAME"] = "__Host-session" if https else "session"
    config["PERMANENT_SESSION_LIFETIME"] = config["SESSION_ABSOLUTE_TIMEOUT"]


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, lowercased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


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


def local_cognito_settings(base_url: str, client: dict[str, str]) -> dict[str, str]:
    """Local mode's Cognito settings: the local provider served under `base_url`."""
    issuer = base_url + "/_cognito"
    return {
        "BASE_URL": base_url,
        "COGNITO_ISSUER": issuer,
        "COGNITO_DOMAIN": issuer,
        "COGNITO_METADATA_URL": issuer + "/.well-known/openid-configuration",
        "COGNITO_CLIENT_ID": client["client_id"],
        "COGNITO_CLIENT_SECRET": client["client_secret"],
    }


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
