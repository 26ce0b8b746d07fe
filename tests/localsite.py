"""The blog in local mode on a free loopback port, with its local Cognito, for tests."""

from __future__ import annotations

import threading
from pathlib import Path

import requests
from werkzeug.serving import make_server

from blog import create_app

PASSWORD = "Str0ng-Passw0rd!"


class LocalSite:
    """Serves create_app() in local mode on 127.0.0.1 from a real threaded server."""

    def __init__(self, tmp_path: Path, **config) -> None:
        self.app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), **config})
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def add_user(self, name: str, *groups: str) -> None:
        """A confirmed user, made with `flask local-cognito add-user`."""
        args = [
            "local-cognito",
            "add-user",
            name,
            "--email",
            f"{name}@example.com",
            "--password",
            PASSWORD,
        ]
        for group in groups:
            args += ["--group", group]
        result = self.app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 0, result.output

    def code_for(self, name: str) -> str:
        """The newest code "emailed" to `name`, read from the outbox over HTTP."""
        mails = requests.get(self.url("/_cognito/outbox"), timeout=10).json()
        return [mail for mail in mails if mail["username"] == name][-1]["code"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
