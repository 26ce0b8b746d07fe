"""Start-up validation of the BLOG_* settings (blog/config.py).

README.md, Configuration, lists them.
"""

from __future__ import annotations

import pytest

from blog import create_app
from blog import tokens
from blog.config import ConfigError

POOL = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyz"
FULL = {
    "BLOG_COGNITO_ISSUER": POOL,
    "BLOG_COGNITO_CLIENT_ID": "client",
    "BLOG_COGNITO_CLIENT_SECRET": "secret",
    "BLOG_COGNITO_DOMAIN": "https://blog.auth.us-east-1.amazoncognito.com",
    "BLOG_BASE_URL": "https://blog.example",
    "BLOG_SECRET_KEY": "k" * 32,
}


@pytest.fixture
def env(monkeypatch, tmp_path):
    """Set BLOG_* variables as an operator would; returns an app builder."""
    for name, value in FULL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "instance"))

    def build(**changes):
        for name, value in changes.items():
            if value is None:
                monkeypatch.delenv(f"BLOG_{name}", raising=False)
            else:
                monkeypatch.setenv(f"BLOG_{name}", value)
        return create_app()

    return build


def test_full_configuration_starts(env):
    app = env()
    assert app.config["LOCAL_MODE"] is False
    assert (
        app.config["COGNITO_METADATA_URL"] == POOL + "/.well-known/openid-configuration"
    )
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"


@pytest.mark.parametrize(
    "name",
    [
        "COGNITO_CLIENT_ID",
        "COGNITO_CLIENT_SECRET",
        "COGNITO_DOMAIN",
        "BASE_URL",
        "SECRET_KEY",
    ],
)
def test_missing_setting_names_the_variable(env, name):
    with pytest.raises(ConfigError, match=f"BLOG_{name} is required"):
        env(**{name: None})


@pytest.mark.parametrize(
    "name",
    [
        "COGNITO_ISSUER",
        "COGNITO_DOMAIN",
        "BASE_URL",
        "COGNITO_METADATA_URL",
        "COGNITO_JWKS_URL",
    ],
)
def test_plain_http_refused_outside_loopback(env, name):
    with pytest.raises(ConfigError, match=f"BLOG_{name} must be an https"):
        env(**{name: "http://example.com/x"})


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_plain_http_allowed_on_loopback(env, host):
    app = env(BASE_URL=f"http://{host}:5000")
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_NAME"] == "session"


def test_numeric_client_id_stays_a_string(env):
    assert (
        env(COGNITO_CLIENT_ID="1234567890").config["COGNITO_CLIENT_ID"] == "1234567890"
    )


@pytest.mark.parametrize("value", ["0", "-5", "soon", "true"])
def test_bad_timeouts_refused(env, value):
    with pytest.raises(ConfigError, match="BLOG_SESSION_IDLE_TIMEOUT"):
        env(SESSION_IDLE_TIMEOUT=value)


def test_timeouts_from_environment(env):
    app = env(SESSION_IDLE_TIMEOUT="600", SESSION_ABSOLUTE_TIMEOUT="3600")
    assert app.config["SESSION_IDLE_TIMEOUT"] == 600
    assert app.permanent_session_lifetime.total_seconds() == 3600


def test_unknown_session_type_refused(env):
    with pytest.raises(ConfigError, match="BLOG_SESSION_TYPE"):
        env(SESSION_TYPE="redis")


def test_dynamodb_sessions_need_a_table(env):
    with pytest.raises(ConfigError, match="BLOG_SESSION_TABLE"):
        env(SESSION_TYPE="dynamodb")


def test_one_leeway_of_at_most_a_minute():
    assert 0 < tokens.LEEWAY <= 60


def test_two_apps_keep_their_own_cognito_client(env):
    first = env(COGNITO_CLIENT_ID="first")
    second = env(COGNITO_CLIENT_ID="second")
    for app, expected in ((first, "first"), (second, "second")):
        with app.app_context():
            from blog.oauth_client import client

            assert client().client_id == expected


def test_local_mode_needs_no_settings(monkeypatch, tmp_path):
    for name in FULL:
        monkeypatch.delenv(name, raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["LOCAL_MODE"] is True
    assert len(app.config["SECRET_KEY"]) >= 32
    again = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_log_format_is_json_on_lambda_and_text_elsewhere(env, monkeypatch):
    assert env().config["LOG_FORMAT"] == "text"
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "blog-dev-web")
    assert env().config["LOG_FORMAT"] == "json"
    assert env(LOG_FORMAT="text").config["LOG_FORMAT"] == "text"


def test_unknown_log_format_refused(env):
    with pytest.raises(ConfigError, match="BLOG_LOG_FORMAT"):
        env(LOG_FORMAT="xml")


def test_guarded_pages_start_without_authlib_or_markdown(tmp_path):
    """authlib (about 50 ms of a cold start) is imported by the first sign-in only, and
    the Markdown parser (about 45 ms) by the first save."""
    import subprocess
    import sys

    script = (
        "import sys, blog; blog.create_app({'INSTANCE_PATH': sys.argv[1], "
        + ", ".join(f"'{k.removeprefix('BLOG_')}': {v!r}" for k, v in FULL.items())
        + "}); print(sorted(m for m in sys.modules "
        "if m.startswith(('authlib', 'markdown_it', 'nh3'))))"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("bucket", ["Blog_Media", "my.bucket.example", "ab",
                                    "-starts-with-hyphen"])
def test_a_media_bucket_name_that_is_not_one_stops_start_up(env, monkeypatch, bucket):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(ConfigError, match="BLOG_MEDIA_BUCKET must be an S3 bucket"):
        env(MEDIA_BUCKET=bucket)


def test_a_media_bucket_needs_its_region_and_sets_the_image_origin(env, monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(ConfigError, match="AWS_REGION"):
        env(MEDIA_BUCKET="blog-dev-media")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    app = env(MEDIA_BUCKET="blog-dev-media")
    assert app.config["MEDIA_ORIGIN"] == "https://blog-dev-media.s3.eu-west-3.amazonaws.com"
    assert env(MEDIA_BUCKET=None).config["MEDIA_ORIGIN"] is None


def test_site_name_and_description_default_and_are_trimmed(env):
    app = env()
    assert app.config["SITE_NAME"] == "Blog"
    assert app.config["SITE_DESCRIPTION"].startswith("A small blog")
    app = env(SITE_NAME="  Field Notes ", SITE_DESCRIPTION="\tWhat we saw.\n")
    assert (app.config["SITE_NAME"], app.config["SITE_DESCRIPTION"]) == (
        "Field Notes", "What we saw."
    )
    app = env(SITE_NAME="   ", SITE_DESCRIPTION="")
    assert app.config["SITE_NAME"] == "Blog"
    assert app.config["SITE_DESCRIPTION"].startswith("A small blog")
    assert env(SITE_NAME="2024").config["SITE_NAME"] == "2024"  # JSON-parsed, a string


@pytest.mark.parametrize(("name", "limit"), [("SITE_NAME", 60),
                                             ("SITE_DESCRIPTION", 200)])
def test_a_site_text_too_long_stops_start_up(env, name, limit):
    assert env(**{name: "x" * limit}).config[name] == "x" * limit
    with pytest.raises(ConfigError, match=f"BLOG_{name} must be at most {limit}"):
        env(**{name: "x" * (limit + 1)})
