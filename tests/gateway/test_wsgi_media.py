"""Images through wsgi.handler: a 4 MB upload as API Gateway's base64 event fits
Lambda's 6 MB request payload and arrives intact; the daily schedule cleans up.

docs/SECURITY.md, "Uploaded images"; docs/ARCHITECTURE.md, "The same request on Lambda".
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from urllib.parse import urlencode

import boto3
import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from blog import images
from blog import media
from tests.support.clients import csrf_from
from tests.support.clients import query_of
from tests.support.images import noisy_jpeg

from .events import HOST
from .events import SHAPES
from .events import Gateway
from .events import text

BUCKET = "blog-dev-mediabucket-1a2b3c"
LAMBDA_PAYLOAD_MAX = 6 * 1024 * 1024  # a synchronous invocation's request, in bytes
SCHEDULED = {"version": "0", "id": "e1", "detail-type": "Scheduled Event",
             "source": "aws.events", "account": "123456789012",
             "time": "2026-11-30T03:00:00Z", "region": "us-east-1",
             "resources": ["arn:aws:events:us-east-1:123456789012:rule/blog"],
             "detail": {}}


@pytest.fixture
def gateway_for(cold_start, aws, idp, monkeypatch):
    """A container with serverless.yml's bucket (on moto), and a logged-in member."""
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("BLOG_MEDIA_BUCKET", BUCKET)

    def open_gateway(shape: str) -> Gateway:
        stage = "/dev" if shape == "rest" else ""
        gateway = Gateway(cold_start(f"https://{HOST}{stage}"), shape)
        login = gateway.get(gateway.base + "/auth/login")
        params = query_of(login["headers"]["Location"])
        idp.token_response = {
            "id_token": idp.id_token(nonce=params["nonce"], sub="sub-alice"),
            "access_token": "opaque-access", "refresh_token": "refresh-1",
            "token_type": "Bearer", "expires_in": 3600}
        gateway.get(params["redirect_uri"] + "?" + urlencode(
            {"code": "the-code", "state": params["state"]}))
        return gateway

    return open_gateway


def upload_event(gateway: Gateway, data: bytes) -> dict:
    """POST /media as API Gateway delivers a multipart body: base64-encoded."""
    token = csrf_from(text(gateway.get(gateway.base + "/posts/new")))
    file = FileStorage(io.BytesIO(data), "photo.jpg", "file", "image/jpeg")
    boundary, body = encode_multipart({"csrf_token": token, "file": file})
    event = gateway.event("POST", "/media", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Accept": "application/json", "Origin": f"https://{HOST}",
        "Referer": gateway.base + "/posts/new"})
    event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = True
    return event


@pytest.mark.parametrize("shape", SHAPES)
def test_a_4_mb_photo_fits_through_the_gateway_and_arrives_intact(
        gateway_for, shape, monkeypatch):
    gateway = gateway_for(shape)
    photo = noisy_jpeg()
    assert len(photo) > 4_000_000
    seen: list[bytes] = []
    reencode = images.reencode
    monkeypatch.setattr(images, "reencode", lambda data: seen.append(data) or
                        reencode(data))
    event = upload_event(gateway, photo)
    assert len(json.dumps(event).encode()) < LAMBDA_PAYLOAD_MAX

    response = gateway.handler(event, None)
    assert response["statusCode"] == 201, text(response)
    assert hashlib.sha256(seen[0]).digest() == hashlib.sha256(photo).digest()
    url = json.loads(text(response))["url"]
    key = "media/" + url.rsplit("/", 1)[1]
    stored = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert Image.open(io.BytesIO(stored)).size == Image.open(io.BytesIO(photo)).size
    shown = gateway.get(gateway.base + url.removeprefix(gateway.stage))
    assert shown["statusCode"] == 302
    assert shown["headers"]["Location"].startswith(
        f"https://{BUCKET}.s3.us-east-1.amazonaws.com/{key}?")


def test_the_largest_request_an_upload_may_make_fits_a_lambda_payload():
    encoded = base64.b64encode(b"\0" * media.REQUEST_MAX)
    assert len(encoded) < LAMBDA_PAYLOAD_MAX - 200_000  # room for headers and cookies


def test_the_daily_schedule_runs_the_cleanup_not_a_request(gateway_for, monkeypatch):
    gateway = gateway_for("http1")
    runs = []
    monkeypatch.setattr(media, "cleanup", lambda store, bodies: runs.append(
        (type(store).__name__, list(bodies))) or ["old.png"])
    assert gateway.handler(dict(SCHEDULED), None) == {"removed": 1}
    assert runs == [("S3Media", [])]
    request = gateway.event("GET", "/healthz")
    request["source"] = "aws.events"  # a request is never taken for the schedule
    assert gateway.handler(request, None)["statusCode"] == 200
