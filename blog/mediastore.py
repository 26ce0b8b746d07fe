"""Where uploaded images live: the instance folder, or the S3 bucket BLOG_MEDIA_BUCKET.

Keys are random (128 bits) plus the extension of the re-encoded format, so a key is
unguessable, holds no part of what the uploader sent, and fixes the content type.
The cleanup rule (docs/SECURITY.md, "Uploaded images"): an image that no post's body
references and that was uploaded more than `GRACE` seconds ago is deleted, by
`flask media-cleanup` or, on Lambda, by the daily scheduled event (`wsgi.handler`).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from typing import Any
from typing import Protocol

from flask import Flask
from flask import Response
from flask import current_app
from flask import redirect
from flask import send_file
from werkzeug.exceptions import NotFound
from werkzeug.exceptions import ServiceUnavailable

from .backends import AWS
from .backends import failures_as

log = logging.getLogger(__name__)
FILE_MAX = 4 * 1024 * 1024  # bytes of one upload
TOO_LARGE = f"Images may be at most {FILE_MAX // 1024 // 1024} MB."
TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif",
         "webp": "image/webp"}
KEY = re.compile(r"[A-Za-z0-9_-]{22}\.(?:png|jpg|gif|webp)")
REFERENCE = re.compile(r"/media/(" + KEY.pattern + ")")  # in a post's Markdown
PREFIX = "media/"  # the objects' prefix in the bucket (the role reaches only these)
CACHE = "private, max-age=31536000, immutable"  # a key's bytes never change
URL_LIFETIME = 900  # seconds a presigned URL works
REDIRECT_CACHE = 600  # seconds a browser may reuse the redirect: less than the above
GRACE = 24 * 3600  # an unreferenced image is kept this long after its upload
EXTENSION = "blog.media"  # app.extensions key: this app's MediaStore


class MediaUnavailable(ServiceUnavailable):
    description = "Images cannot be stored or read right now. Please try again soon."


class MediaStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def serve(self, key: str) -> Response: ...
    def keys(self) -> Iterator[tuple[str, float]]: ...  # (key, uploaded at, epoch s)
    def delete(self, key: str) -> None: ...


def new_key(extension: str) -> str:
    """A fresh random key for an image of that extension."""
    return f"{secrets.token_urlsafe(16)}.{extension}"


class LocalMedia:
    """Images as files in `<instance>/media`."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def path(self, key: str) -> str:
        if not KEY.fullmatch(key):  # never a path from outside: no traversal
            raise NotFound()
        return os.path.join(self.folder, key)

    def put(self, key: str, data: bytes) -> None:
        os.makedirs(self.folder, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(partial, self.path(key))

    def serve(self, key: str) -> Response:
        path = self.path(key)
        if not os.path.isfile(path):
            raise NotFound("There is no such image (it may have been removed).")
        response = send_file(path, mimetype=TYPES[key.rsplit(".", 1)[1]],
                             conditional=True, etag=True)
        response.headers["Cache-Control"] = CACHE
        return response

    def keys(self) -> Iterator[tuple[str, float]]:
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return
        for name in names:
            if KEY.fullmatch(name):
                yield name, os.stat(os.path.join(self.folder, name)).st_mtime

    def delete(self, key: str) -> None:
        try:
            os.remove(self.path(key))
        except FileNotFoundError:
            pass


class S3Media:
    """Images as private objects `media/<key>` of the bucket; read by presigned URL."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client, self.bucket = client, bucket

    def put(self, key: str, data: bytes) -> None:
        with failures_as(MediaUnavailable, "media"):
            self.client.put_object(
                Bucket=self.bucket, Key=PREFIX + key, Body=data,
                ContentType=TYPES[key.rsplit(".", 1)[1]], CacheControl=CACHE)

    def serve(self, key: str) -> Response:
        if not KEY.fullmatch(key):
            raise NotFound()
        url = self.client.generate_presigned_url(  # signed locally: no AWS call
            "get_object", Params={"Bucket": self.bucket, "Key": PREFIX + key},
            ExpiresIn=URL_LIFETIME)
        response = redirect(url, 302)
        response.headers["Cache-Control"] = f"private, max-age={REDIRECT_CACHE}"
        return response

    def keys(self) -> Iterator[tuple[str, float]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=PREFIX)
        for page in pages:
            for item in page.get("Contents", ()):
                key = item["Key"][len(PREFIX):]
                if KEY.fullmatch(key):
                    yield key, item["LastModified"].timestamp()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=PREFIX + key)


def s3_client(region: str) -> Any:
    """A boto3 S3 client whose presigned URLs name the bucket's regional endpoint
    (the origin the CSP allows)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", region_name=region, endpoint_url=f"https://s3.{region}.amazonaws.com",
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"},
                      connect_timeout=2, read_timeout=5,
                      retries={"mode": "standard", "max_attempts": 3}))


def get_media(app: Flask | None = None) -> MediaStore:
    """This app's image store, made on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if EXTENSION not in app.extensions:
        bucket = app.config.get("MEDIA_BUCKET")
        if bucket:
            resources = app.extensions.setdefault(AWS, {})
            if "s3" not in resources:
                resources["s3"] = s3_client(app.config["MEDIA_REGION"])
            app.extensions[EXTENSION] = S3Media(resources["s3"], bucket)
        else:
            app.extensions[EXTENSION] = LocalMedia(
                os.path.join(app.instance_path, "media"))
    return app.extensions[EXTENSION]


def referenced(bodies: Iterator[str]) -> set[str]:
    """The image keys that these Markdown bodies point at."""
    return {key for body in bodies for key in REFERENCE.findall(body)}


def cleanup(media: MediaStore, bodies: Iterator[str], now: float | None = None,
            grace: float = GRACE) -> list[str]:
    """Delete the images no body references that are older than `grace` seconds."""
    now = time.time() if now is None else now
    keep = referenced(bodies)
    removed = [key for key, uploaded in list(media.keys())
               if key not in keep and now - uploaded > grace]
    for key in removed:
        media.delete(key)
    log.info("media cleanup: %d removed, %d referenced", len(removed), len(keep))
    return removed
