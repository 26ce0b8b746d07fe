"""Markdown is rendered when a post is saved: the posts page no longer depends on it.

Two blogs side by side, each with ten posts: plain posts (the other sections' body),
and the worst case of issue 11 (`![` repeated to 50,000 characters, stored as an old
post of that body gets it). Saving that body again is refused at the time limit.
"""

from __future__ import annotations

from . import harness
from .common import BODY
from .common import AuthActions
from .common import Row
from .common import blog_app
from .common import compared
from .common import met

WORST = "![" * 25_000


def seed(app, body: str, count: int = 10) -> None:
    from blog import markdown
    from blog.storage import Author
    from blog.storage import get_store

    author = Author(app.config["COGNITO_ISSUER"], "sub-alice")
    rendered = markdown.prepare_or_plain(body)
    with app.app_context():
        for i in range(count):
            get_store().create_post(f"Post number {i}", body, rendered, author, "alice")


def member(app, idp):
    client = app.test_client()
    AuthActions(client, idp).login()
    return client


def run(idp, quick: bool) -> tuple[list[Row], dict]:
    plain_app, worst_app = blog_app(idp), blog_app(idp)
    seed(plain_app, BODY)
    seed(worst_app, WORST)
    plain, worst = member(plain_app, idp), member(worst_app, idp)
    for client in (plain, worst):
        page = client.get("/posts/")
        assert page.status_code == 200 and page.data.count(b'class="post-card"') == 10

    page = harness.compare(
        {"worst": (lambda: worst.get("/posts/"), 4 if quick else 8),
         "plain": (lambda: plain.get("/posts/"), 4 if quick else 8)},
        rounds=11 if quick else 21,
    )
    token = AuthActions(plain, idp).csrf_token("/posts/new")

    def save(body: str, status: int) -> None:
        response = plain.post("/posts/new", data={
            "csrf_token": token, "title": "T", "body": body})
        assert response.status_code == status, response.status

    saves = harness.compare(
        {"worst": (lambda: save(WORST, 400), 2),
         "plain": (lambda: save(BODY, 302), 2)},
        rounds=5 if quick else 11, warmup=1,
    )
    extra = harness.difference(saves, "worst", "plain")
    autosaves = harness.compare(
        {"autosave": (autosaver(plain, token), 4 if quick else 8),
         "page": (lambda: plain.get("/posts/"), 4 if quick else 8)},
        rounds=11 if quick else 21, warmup=1,
    )
    rows = [
        compared("Posts page: ten worst-case bodies (`![`×25,000) vs ten plain posts",
                 page, "worst", "plain", "≤ 1.2",
                 met(harness.ratio(page, "worst", "plain") <= 1.2)),
        compared("Saving the worst-case body (refused at the limit) vs a plain post",
                 saves, "worst", "plain", f"+≤ ~100 ms (+{extra * 1e3:.0f} ms)",
                 met(extra <= 0.11)),
    ]
    rows.append(compared(
        "One autosave (a draft's JSON update, plain body) vs a posts page view",
        autosaves, "autosave", "page", "≤ 2",
        met(harness.ratio(autosaves, "autosave", "page") <= 2)))
    return rows, {"worst_save_extra": extra}


def autosaver(client, token: str):
    """What writing.js sends every few seconds: the same draft, the version it saw."""
    first = client.post("/posts/autosave", json={"title": "T", "body": BODY},
                        headers={"X-CSRFToken": token})
    assert first.status_code == 201, first.status
    state = first.get_json()

    def save() -> None:
        response = client.post("/posts/autosave", headers={"X-CSRFToken": token},
                               json={"id": state["id"], "version": state["version"],
                                     "title": "T", "body": BODY})
        assert response.status_code == 200, response.status
        state["version"] = response.get_json()["version"]

    return save
