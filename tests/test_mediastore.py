"""Where images live (the instance folder, or S3 on moto) and the cleanup rule.

docs/SECURITY.md, "Uploaded images": members only, short-lived S3 URLs from the one
origin the CSP allows, and no image readable for long once no post uses it.
"""

from __future__ import annotations

import io
import os
import time
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import boto3
import pytest
from moto import mock_aws
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from blog import mediastore
from blog.storage import Author
from blog.storage import get_store
from tests.support.clients import AuthActions
from tests.support.fakeaws import fake_credentials
from tests.support.images import image_bytes

BUCKET = "blog-dev-mediabucket-1a2b3c"
ORIGIN = f"https://{BUCKET}.s3.us-east-1.amazonaws.com"
DAY = 24 * 3600


def upload(client, auth) -> str:
    """A member uploads an image; its key."""
    file = FileStorage(io.BytesIO(image_bytes()), "p.png", "file", "image/png")
    boundary, body = encode_multipart(
        {"csrf_token": auth.csrf_token("/posts/new"), "file": file})
    response = client.post("/media", data=body, headers={"Accept": "application/json"},
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201, response.data
    return response.get_json()["url"].rsplit("/", 1)[1]


def publish(app, body: str, status: str = "published") -> str:
    from blog import markdown

    with app.app_context():
        author = Author(app.config["COGNITO_ISSUER"], "sub-alice")
        return get_store().create_post("T", body, markdown.prepare(body), author,
                                       "alice", status).id


def delete(app, post_id: str) -> None:
    with app.app_context():
        assert get_store().delete_post(post_id, None)


def status(client, key: str) -> int:
    response = client.get(f"/media/{key}")
    response.close()
    return response.status_code


@pytest.fixture
def s3(monkeypatch):
    fake_credentials(monkeypatch)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_unused_images_go_a_day_after_upload_and_with_their_post(app, client, auth):
    auth.login()
    kept, orphan, of_deleted, fresh, drafted = (upload(client, auth) for _ in range(5))
    publish(app, f"![a](/media/{kept}) and text")
    publish(app, f"Not ready: ![d](/media/{drafted})", status="draft")
    doomed = publish(app, f"Look: ![b](/media/{of_deleted})")
    folder = os.path.join(app.instance_path, "media")
    for key in (kept, orphan, of_deleted, drafted):
        os.utime(os.path.join(folder, key), (time.time() - 2 * DAY,) * 2)

    assert "Removed 1 unreferenced" in app.test_cli_runner().invoke(
        args=["media-cleanup"]).output
    assert [status(client, k) for k in (kept, orphan, of_deleted, fresh, drafted)] == [
        200, 404, 200, 200, 200]  # a draft's image stays too
    delete(app, doomed)
    assert "Removed 1 unreferenced" in app.test_cli_runner().invoke(
        args=["media-cleanup"]).output
    assert [status(client, k) for k in (kept, of_deleted, fresh)] == [200, 404, 200]


def test_s3_upload_redirect_csp_and_cleanup(make_app, idp, s3):
    app = make_app(MEDIA_BUCKET=BUCKET)
    client = app.test_client()
    auth = AuthActions(client, idp)
    auth.login()
    key = upload(client, auth)
    stored = s3.get_object(Bucket=BUCKET, Key="media/" + key)
    assert stored["ContentType"] == "image/png"
    assert stored["CacheControl"] == mediastore.CACHE
    assert not os.path.exists(os.path.join(app.instance_path, "media"))

    response = client.get(f"/media/{key}")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == ORIGIN
    assert location.path == f"/media/{key}"
    assert parse_qs(location.query)["X-Amz-Expires"] == ["900"]
    assert response.headers["Cache-Control"] == "private, max-age=600"
    csp = client.get("/posts/").headers["Content-Security-Policy"]
    assert f"img-src 'self' data: {ORIGIN};" in csp

    assert app.test_client().get(f"/media/{key}").status_code == 302  # to the login
    assert "amazonaws" not in app.test_client().get(
        f"/media/{key}").headers["Location"]

    publish(app, f"![x](/media/{key})")
    orphan = upload(client, auth)
    media = mediastore.get_media(app)
    with app.app_context():
        assert mediastore.cleanup(media, get_store().bodies()) == []  # all fresh
        assert mediastore.cleanup(media, get_store().bodies(),
                                  now=time.time() + 2 * DAY) == [orphan]
    names = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert names == ["media/" + key]


def test_without_a_bucket_the_csp_allows_only_this_site(client, auth):
    auth.login()
    csp = client.get("/posts/").headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in csp and "amazonaws" not in csp
