"""The site's own pages (blog/main.py): landing page, /healthz, error pages."""

from __future__ import annotations

import pytest


def test_landing_page_anonymous(client):
    page = client.get("/").get_data(as_text=True)
    assert "Log in or sign up" in page and "Log out" not in page


def test_landing_page_logged_in(auth, client):
    auth.login(username="carol")
    page = client.get("/").get_data(as_text=True)
    assert "carol" in page and "Log out" in page and "/posts/" in page


@pytest.mark.parametrize("path, method, code", [
    ("/no-such-page", "get", 404), ("/auth/logout", "get", 405),
    ("/auth/authorize?error=access_denied", "get", 400),
])
def test_error_pages_use_the_layout(client, path, method, code):
    response = getattr(client, method)(path)
    page = response.get_data(as_text=True)
    assert response.status_code == code
    assert '<a class="brand" href="/">Blog</a>' in page and "Traceback" not in page


def test_unexpected_error_is_a_500_page_without_details(app, client):
    app.testing = False  # as in production: exceptions become 500 pages

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page and "secret internals" not in page
    assert '<a class="brand" href="/">Blog</a>' in page


def test_403_page_in_layout(app, auth, client):
    with app.app_context():
        from blog.markdown import prepare
        from blog.storage import Author
        from blog.storage import get_store
        post = get_store().create_post("Mine", "body", prepare("body"),
                                       Author(app.config["COGNITO_ISSUER"],
                                              "sub-someone"), "someone")
    auth.login(username="mallory")
    response = client.get(f"/posts/{post.id}/edit")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_landing_page_trusts_no_redirect_parameter(client):
    for query in ("next=https://evil.example", "logout_uri=//evil.example", "url=/x"):
        response = client.get("/?" + query)
        assert response.status_code == 200 and "Location" not in response.headers
