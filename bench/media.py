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


def uploader(app, idp, path: str = "/media"):
    """A member's client and a function that posts the photo to `path`."""
    from tests.support.images import noisy_jpeg

    photo = noisy_jpeg()
    client = app.test_client()
    auth = AuthActions(client, idp)
    auth.login()
    boundary, body = multipart(auth.csrf_token("/posts/new"), photo)

    def send(to: str = path, status: int = 201) -> None:
        response = client.post(to, data=body, headers={"Accept": "application/json"},
                               content_type=f"multipart/form-data; boundary={boundary}")
        assert response.status_code == status, response.data[:200]

    return photo, send


def vm_hwm_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def child() -> None:
    """In a fresh process: VmHWM once warm, after one 4 MB upload of a photo, then
    after one of a JPEG at the 25-megapixel limit and an animation (JSON out)."""
    from tests.support.images import animation
    from tests.support.images import image_bytes
    from tests.support.images import large_photo

    idp = FakeIdP()
    try:
        app = blog_app(idp)
        photo, send = uploader(app, idp)
        client = app.test_client()
        auth = AuthActions(client, idp)
        auth.login()
        boundary, small = multipart(auth.csrf_token("/posts/new"), image_bytes("JPEG"))
        client.post("/media", data=small, content_type=(
            f"multipart/form-data; boundary={boundary}"))  # imports Pillow and all
        before = vm_hwm_kib()
        send()
        after = vm_hwm_kib()
        boundary, largest = multipart(auth.csrf_token("/posts/new"), large_photo())
        response = client.post("/media", data=largest, content_type=(
            f"multipart/form-data; boundary={boundary}"))
        assert response.status_code == 201, response.status
        largest_kib = vm_hwm_kib()
        boundary, moving = multipart(auth.csrf_token("/posts/new"),
                                     animation(1581, 4))  # 10 megapixels of frames
        started = time.perf_counter()
        response = client.post("/media", data=moving, content_type=(
            f"multipart/form-data; boundary={boundary}"))
        assert response.status_code == 201, response.status
        print(json.dumps({"before_kib": before, "after_kib": after,
                          "after_largest_kib": largest_kib,
                          "after_animation_kib": vm_hwm_kib(),
                          "animation_seconds": time.perf_counter() - started,
                          "photo_bytes": len(photo)}))
    finally:
        idp.close()


def peak_memory() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", "from bench.media import child; child()"],
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

    @app.url_value_preprocessor
    def same_limit(endpoint, values) -> None:  # as blog.media gives its uploads
        from flask import request

        from blog.media import REQUEST_MAX

        if endpoint == "bench_receive":
            request.max_content_length = REQUEST_MAX

    photo, send = uploader(app, idp)
    samples = harness.compare(
        {"upload": (lambda: send(), 2),
         "receive": (lambda: send("/bench-receive"), 2)},
        rounds=3 if quick else 7, warmup=1)
    memory = peak_memory()
    peak, before = memory["after_kib"] / 1024, memory["before_kib"] / 1024
    largest = memory["after_largest_kib"] / 1024
    animated = memory["after_animation_kib"] / 1024
    rows = [
        compared(f"Upload of a {len(photo) / 1e6:.1f} MB JPEG (POST /media: checked, "
                 "re-encoded, stored) vs the same request only read", samples,
                 "upload", "receive"),
        Row("  peak memory (VmHWM) of a fresh process: after the upload vs warm "
            "before it", f"{peak:.1f} MiB", f"{before:.1f} MiB",
            f"+{peak - before:.1f} MiB", f"≤ {TARGET_MIB} MiB of {LAMBDA_MIB}",
            met(peak <= TARGET_MIB)),
        Row("  then a JPEG at the pixel limit (6250 × 4000, 25 megapixels): peak vs "
            "warm", f"{largest:.1f} MiB", f"{before:.1f} MiB",
            f"+{largest - before:.1f} MiB", f"≤ {TARGET_MIB} MiB of {LAMBDA_MIB}",
            met(largest <= TARGET_MIB)),
        Row("  then an animated GIF at the frame limit (4 × 1581², 10 megapixels; "
            f"{memory['animation_seconds']:.1f} s): peak vs warm",
            f"{animated:.1f} MiB", f"{before:.1f} MiB", f"+{animated - before:.1f} MiB",
            f"≤ {TARGET_MIB} MiB of {LAMBDA_MIB}", met(animated <= TARGET_MIB)),
    ]
    return rows, {"samples": samples, "memory": memory}
