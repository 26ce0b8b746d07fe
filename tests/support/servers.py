"""Serving a WSGI app on 127.0.0.1 from a real server thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server


@contextmanager
def serve(
    wsgi_app: Callable[..., Any], port: int = 0, poll_interval: float = 0.5
) -> Iterator[str]:
    """Serve `wsgi_app` on 127.0.0.1 (a free port unless `port` is given), threaded.

    Yields the base URL (`http://127.0.0.1:PORT`); stops the server when the block ends.
    """
    server = make_server("127.0.0.1", port, wsgi_app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, args=(poll_interval,), daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
