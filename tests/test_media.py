"""Uploading and showing images, with the local store (the instance folder).

docs/SECURITY.md, "Uploaded images".
"""

from __future__ import annotations

import io
import os
import re

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from blog import images
from tests.support.images import HOSTILE
from tests.support.images import SECRET
from tests.support.images import animation
from tests.support.images import image_bytes
from tests.support.images import noisy_jpeg
from tests.support.images import photo_with_location
from tests.support.images import pixel_bomb

JSON = {"Accept": "application/json"}
KEY = re.compile(r"/media/[A-Za-z0-9_-]{22}\.(png|jpg|gif|webp)")


@pytest.fixture
def member(client, auth):
    auth.login()
    return client


@pytest.fixture
def token(member, auth) -> str:
    return auth.csrf_token("/posts/new")


def send(client, token, data, name="picture.png", kind="image/png", headers=JSON):
    """POST /media as a browser does (the multipart body built in memory: the test
    client's own spooling of large bodies leaves a temporary file open)."""
    file = FileStorage(io.BytesIO(data), name, "file", kind)
    boundary, body = encode_multipart({"csrf_token": token, "file": file})
    return client.post("/media", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


def fetch(client, url):
    """GET `url`, read it and close it (a served file stays open until then)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def stored_files(app) -> list[str]:
    folder = os.path.join(app.instance_path, "media")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.mark.parametrize("kind, extension", [
    ("PNG", "png"), ("JPEG", "jpg"), ("GIF", "gif"), ("WEBP", "webp")])
def test_an_upload_answers_its_url_and_markdown_and_is_shown_to_members(
        app, member, token, kind, extension):
    sent = image_bytes(kind)
    response = send(member, token, sent, name="My holiday.bin", kind="text/html")
    assert response.status_code == 201
    answer = response.get_json()
    assert KEY.fullmatch(answer["url"]) and answer["url"].endswith("." + extension)
    assert answer["markdown"] == f"![My holiday]({answer['url']})"
    shown = fetch(member, answer["url"])
    assert shown.status_code == 200
    assert shown.content_type == images.CONTENT_TYPES[extension]
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert shown.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert Image.open(io.BytesIO(shown.data)).format == kind
    assert stored_files(app) == [answer["url"].rsplit("/", 1)[1]]


def test_the_write_page_offers_an_upload_form_without_javascript(member, token):
    page = member.get("/posts/new").get_data(as_text=True)
    form = re.search(r'<form class="form image-upload"[^>]*>', page).group(0)
    assert 'action="/media"' in form and 'enctype="multipart/form-data"' in form
    assert 'name="file" type="file"' in page and "media.js" in page
    response = send(member, token, image_bytes(), headers={"Accept": "text/html"})
    assert response.status_code == 201 and response.content_type.startswith("text/html")
    markdown = re.search(r'id="image-markdown" value="([^"]+)"',
                         response.get_data(as_text=True)).group(1)
    assert re.fullmatch(r"!\[picture\]\(" + KEY.pattern + r"\)", markdown)


def test_images_are_for_members_only(app, client, member, token):
    url = send(member, token, image_bytes()).get_json()["url"]
    other = app.test_client()
    response = other.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=/media/")
    assert other.post("/media", data={"csrf_token": token}, headers=JSON
                      ).status_code == 401


def test_an_upload_without_the_csrf_token_is_refused(app, member):
    response = send(member, "not-the-token", image_bytes())
    assert response.status_code == 400 and stored_files(app) == []


def test_an_upload_without_a_session_is_refused_as_json(app, token):
    response = send(app.test_client(), token, image_bytes())
    assert response.status_code == 401
    assert "session has ended" in response.get_json()["error"]


@pytest.mark.parametrize("case", HOSTILE)
def test_what_is_not_one_of_the_four_image_formats_is_refused(app, member, token, case):
    name, declared, data = HOSTILE[case]
    response = send(member, token, data, name=name, kind=declared)
    assert response.status_code == 400
    assert response.get_json() == {"error": images.NOT_AN_IMAGE}
    assert stored_files(app) == []
    page = send(member, token, data, name=name, kind=declared,
                headers={"Accept": "text/html"})
    assert page.status_code == 400
    assert images.NOT_AN_IMAGE in page.get_data(as_text=True)


def test_a_file_over_4_mb_is_refused_with_413(app, member, token):
    big = noisy_jpeg(images.FILE_MAX + 1000)
    response = send(member, token, big + b"\0" * 20_000, name="big.jpg")
    assert response.status_code == 413
    assert response.get_json() == {"error": "Images may be at most 4 MB."}
    page = send(member, token, b"\0" * (5 * 1024 * 1024),
                headers={"Accept": "text/html"})
    assert page.status_code == 413
    assert "Images may be at most 4 MB." in page.get_data(as_text=True)
    assert stored_files(app) == []


def test_a_4_mb_photo_is_accepted(member, token):
    response = send(member, token, noisy_jpeg(), name="big.jpg", kind="image/jpeg")
    assert response.status_code == 201


def test_other_forms_keep_their_1_mb_limit(member, token):
    response = member.post("/posts/new", data={
        "csrf_token": token, "title": "t", "body": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


@pytest.mark.parametrize("bomb", [
    pixel_bomb, lambda: pixel_bomb(6000),  # Pillow's error, then its warning
    lambda: animation(1300, 6)])  # 10.1 megapixels of frames in a tiny file
def test_a_decompression_bomb_is_refused(app, member, token, bomb):
    response = send(member, token, bomb(), name="bomb.gif")
    assert response.status_code == 413
    assert "too many pixels" in response.get_json()["error"]
    assert stored_files(app) == []


def test_an_animation_keeps_its_frames(member, token):
    url = send(member, token, animation(100, 3)).get_json()["url"]
    assert Image.open(io.BytesIO(fetch(member, url).data)).n_frames == 3


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_location_and_other_metadata_are_not_kept(app, member, token, kind):
    url = send(member, token, photo_with_location(kind)).get_json()["url"]
    kept = fetch(member, url).data
    assert SECRET not in kept
    image = Image.open(io.BytesIO(kept))
    assert not image.getexif() and image.size == (48, 64)  # turned upright, not tagged


def test_keys_are_random_and_ignore_the_file_name(app, member, token):
    urls = {send(member, token, image_bytes(), name="../../secret_key.png"
                 ).get_json()["url"] for _ in range(3)}
    assert len(urls) == 3 and all(KEY.fullmatch(url) for url in urls)
    assert not any("secret" in url for url in urls)


@pytest.mark.parametrize("path", [
    "/media/..%2Fsecret_key", "/media/secret_key", "/media/%2e%2e",
    "/media/AAAAAAAAAAAAAAAAAAAAAA.png", "/media/AAAAAAAAAAAAAAAAAAAAAA.svg"])
def test_no_other_file_can_be_reached(member, path):
    response = member.get(path)
    assert response.status_code == 404
    assert b"secret" not in response.data.lower().replace(b"secret_key", b"")
