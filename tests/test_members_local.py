"""Display names over real HTTP in local mode: the local Cognito's tokens, the
header, bylines, and the API's author before and after a page login."""

from __future__ import annotations

import re
from collections.abc import Iterator

import jwt
import pytest
import requests

from blog.storage import member_id
from tests.support.localsite import BrowsedSite as Site
from tests.support.localsite import api_token
from tests.support.localsite import started
from tests.support.members import by


@pytest.fixture
def site(tmp_path) -> Iterator[Site]:
    with started(Site, tmp_path, "alice@example.com") as site:
        yield site


def test_a_script_author_is_named_after_their_first_page_login(site) -> None:
    token = api_token(site, "alice@example.com")
    claims = jwt.decode(token, options={"verify_signature": False})
    headers = {"Authorization": f"Bearer {token}"}
    created = requests.post(site.url("/api/posts"), headers=headers, timeout=10,
                            json={"title": "From a script", "body": "b"}).json()
    assert created["author"]["name"] == "Member"
    page = site.login("alice@example.com", f"/posts/{created['id']}")
    assert re.search(r'<span class="who" title="Signed in">Alice\b', page.text)
    assert by("Alice").search(page.text)
    again = requests.get(site.url(f"/api/posts/{created['id']}"), headers=headers,
                         timeout=10).json()
    assert again["author"] == {"id": member_id(claims["iss"], claims["sub"]),
                               "name": "Alice"}
    assert claims["sub"] not in page.text
    assert claims["username"] not in page.text  # the generated username
