"""The servers of a load run, all on 127.0.0.1: the blog under gunicorn, moto_server.

The moto server and its tables are the tests' (tests/support/fakeaws.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.fakeaws import clean_env
from tests.support.fakeaws import count_items
from tests.support.fakeaws import dynamodb_env
from tests.support.fakeaws import free_port
from tests.support.fakeaws import moto_server
from tests.support.fakeaws import stopping
from tests.support.fakeaws import wait_for

__all__ = [
    "PASSWORD",
    "add_users",
    "count_items",
    "dynamodb_env",
    "gunicorn",
    "moto_server",
]

PASSWORD = "Str0ng-Passw0rd!"


def add_users(instance: str, names: list[str]) -> None:
    """Create confirmed users in the local Cognito of `instance` (before gunicorn)."""
    from blog import create_app
    from blog.localcognito import accounts
    from blog.localcognito import keys

    app = create_app({"INSTANCE_PATH": instance})
    with app.app_context():
        for name in names:
            accounts.create_user(f"{name}@example.com", name, PASSWORD, confirmed=True)
        keys.load_keys(
            app
        )  # the signing key, made once here rather than by racing workers


@contextmanager
def gunicorn(
    instance: str, workers: int, threads: int, env: dict[str, str] | None = None
) -> Iterator[str]:
    """The blog in local mode under gunicorn (gthread); yields its base URL.

    The login callback calls the local Cognito on the same server, so there must be
    more than one worker and thread, or the callback waits for itself.
    """
    port = free_port()
    os.makedirs(instance, exist_ok=True)
    log_path = os.path.join(instance, "gunicorn.log")
    log = open(log_path, "ab")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--worker-class",
            "gthread",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--keep-alive",
            "10",
            "--log-level",
            "warning",
            "blog:create_app()",
        ],
        env=clean_env(BLOG_INSTANCE_PATH=instance, **(env or {})),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with stopping(process):
            wait_for(url + "/healthz", process)
            yield url
    finally:
        log.close()
