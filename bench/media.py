"""Uploading a 4 MB JPEG: time, and peak memory against the Lambda's 512 MB.

Time: `POST /media` (CSRF, session, multipart, Pillow's verify, decode and re-encode,
the file written to the instance folder) against the same request to a view that only
reads the file (so the ratio is Pillow's share). Memory: a fresh child process builds
the blog, serves a small upload, then one 4 MB upload; `VmHWM` before and after.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
import time

from . import harness
from .common import AuthActions
from .common import FakeIdP
from .common import Row
from .common import blog_app
from .common import compared
from .common import met

LAMBDA_MIB = 512
TARGET_MIB = 256  # "well under" the function's memory


def multipart(token: str, data: bytes) -> tuple[str, bytes]:
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    file = FileStorage(io.BytesIO(data), "photo.jpg", "file", "image/jpeg")
    return encode_multipart({"csrf_token": token, "file": file})


def uploader(app, idp, photo: bytes, path: str = "/media"):
    """A function that posts `photo` to `path` as a logged-in member."""
    client = app.test_client()
    auth = AuthActions(client, idp)
    auth.login()
    boundary, body = multipart(auth.csrf_token("/posts/new"), photo)

    def send(to: str = path, status: int = 201) -> None:
        response = client.post(to, data=body, headers={"Accept": "application/json"},
                               content_type=f"multipart/form-data; boundary={boundary}")
        assert response.status_code == status, response.data[:200]

    return send


def vm_hwm_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def child(path: str) -> None:
    """In a fresh process: VmHWM once warm (a small upload done), then after
    uploading the file at `path`; JSON on stdout."""
    from tests.support.images import image_bytes

    idp = FakeIdP()
    try:
        app = blog_app(idp)
        uploader(app, idp, image_bytes("JPEG"))()  # imports Pillow and the rest
        with open(path, "rb") as file:
            send = uploader(app, idp, file.read())
        before = vm_hwm_kib()
        started = time.perf_counter()
        send()
        print(json.dumps({"before_kib": before, "after_kib": vm_hwm_kib(),
                          "seconds": time.perf_counter() - started}))
    finally:
        idp.close()


def peak_memory(data: bytes) -> dict:
    """VmHWM of a fresh process before and after it serves the upload of `data`."""
    with tempfile.NamedTemporaryFile(suffix=".img") as file:
        file.write(data)
        file.flush()
        done = subprocess.run(
            [sys.executable, "-c",
             f"from bench.media import child; child({file.name!r})"],
            cwd=harness.ROOT, capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(idp, quick: bool) -> tuple[list[Row], dict]:
    app = blog_app(idp)

    from blog.auth import login_required

    @login_required
    def receive():  # the same request, only read
        from flask import request

        request.files["file"].read()
        return "", 201

    app.add_url_rule("/bench-receive", "bench_receive", receive, methods=["POST"])
    from tests.support.images import animation
    from tests.support.images import large_photo
    from tests.support.images import noisy_jpeg


    @app.url_value_preprocessor
    def same_limit(endpoint, values) -> None:  # as blog.media gives its uploads
        from flask import request

        from blog.media import REQUEST_MAX

        if endpoint == "bench_receive":
            request.max_content_length = REQUEST_MAX

    photo = noisy_jpeg()
    send = uploader(app, idp, photo)
    samples = harness.compare(
        {"upload": (lambda: send(), 2),
         "receive": (lambda: send("/bench-receive"), 2)},
        rounds=3 if quick else 7, warmup=1)
    largest = large_photo()
    memory = {"photo": peak_memory(photo), "largest": peak_memory(largest),
              "animation": peak_memory(animation(1581, 4))}

    def peak(name: str, label: str) -> Row:
        after = memory[name]["after_kib"] / 1024
        before = memory[name]["before_kib"] / 1024
        return Row(label, f"{after:.1f} MiB", f"{before:.1f} MiB",
                   f"+{after - before:.1f} MiB ({memory[name]['seconds']:.2f} s)",
                   f"≤ {TARGET_MIB} MiB of {LAMBDA_MIB}", met(after <= TARGET_MIB))

    rows = [
        compared(f"Upload of a {len(photo) / 1e6:.1f} MB JPEG (POST /media: checked, "
                 "re-encoded, stored) vs the same request only read", samples,
                 "upload", "receive"),
        peak("photo", "  peak memory (VmHWM) of a fresh process serving that upload "
             "vs warm before it"),
        peak("largest", "  same, a JPEG at the pixel limit (6250 × 4000, 25 megapixels,"
             f" {len(largest) / 1e6:.1f} MB)"),
        peak("animation", "  same, an animated GIF at the frame limit (4 × 1581², "
             "10 megapixels)"),
    ]
    return rows, {"samples": samples, "memory": memory}
