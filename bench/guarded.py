"""A guarded page vs the same page unguarded, per request through the WSGI app.

The unguarded twins are routes registered on this benchmark's own app instance: the
posts index view without `login_required`, and a one-line view with and without it.
"""

from __future__ import annotations

from . import harness
from .common import AuthActions
from .common import Row
from .common import blog_app
from .common import compared
from .common import met
from .common import seed_posts


def ping() -> str:
    return "ok"


def run(idp, quick: bool) -> tuple[list[Row], dict]:
    from blog import jwks
    from blog import posts
    from blog.auth import login_required

    app = blog_app(idp)
    app.add_url_rule("/bench/posts/", "bench_posts_unguarded", posts.index.__wrapped__)
    app.add_url_rule("/bench/ping", "bench_ping", ping)
    app.add_url_rule("/bench/guarded-ping", "bench_guarded_ping", login_required(ping))
    seed_posts(app)
    anonymous, member = app.test_client(), app.test_client()
    AuthActions(member, idp).login()

    jwks.clear()
    idp.requests.clear()
    guarded_page = check(member, "/posts/")  # the first guarded request: one JWKS fetch
    unguarded_page = check(anonymous, "/bench/posts/")
    assert (
        guarded_page.count(b'class="post-card"')
        == unguarded_page.count(b'class="post-card"')
        == 10
    )
    check(member, "/bench/guarded-ping")
    first = idp.count("/jwks.json")

    guarded_total = 0

    def guarded(path: str) -> None:
        nonlocal guarded_total
        guarded_total += 1
        member.get(path)

    page = harness.compare(
        {
            "guarded": (lambda: guarded("/posts/"), 4 if quick else 8),
            "unguarded": (lambda: anonymous.get("/bench/posts/"), 4 if quick else 8),
        },
        rounds=11 if quick else 21,
    )
    steady, rounds = (2_000, 10) if quick else (10_000, 20)
    tiny = harness.compare(
        {
            "guarded": (lambda: guarded("/bench/guarded-ping"), steady // rounds),
            "session": (lambda: member.get("/bench/ping"), steady // rounds),
            "anonymous": (lambda: anonymous.get("/bench/ping"), steady // rounds),
        },
        rounds=rounds,
        warmup=0,
    )
    later = idp.count("/jwks.json") - first
    assert (
        check(member, "/bench/guarded-ping") == b"ok"
    )  # still logged in after all that

    rows = [
        compared(
            "Guarded posts page vs the same page unguarded (anonymous)",
            page,
            "guarded",
            "unguarded",
            "≤ 1.5",
            met(harness.ratio(page, "guarded", "unguarded") <= 1.5),
        ),
        compared(
            "Guarded one-line view vs unguarded, anonymous (worst case)",
            tiny,
            "guarded",
            "anonymous",
        ),
        compared(
            "  of which: session load (logged-in, unguarded vs anonymous)",
            tiny,
            "session",
            "anonymous",
        ),
        compared(
            "  of which: ID-token check (guarded vs logged-in unguarded)",
            tiny,
            "guarded",
            "session",
        ),
        Row(
            f"JWKS requests: first guarded request / next {guarded_total:,} guarded",
            f"{first} / {later}",
            "",
            "",
            "0 after the first",
            met(first == 1 and later == 0),
        ),
    ]
    extra = {
        "page_overhead": harness.difference(page, "guarded", "unguarded"),
        "tiny_overhead": harness.difference(tiny, "guarded", "anonymous"),
        "session_cost": harness.difference(tiny, "session", "anonymous"),
        "token_cost": harness.difference(tiny, "guarded", "session"),
        "discovery_fetches": idp.count("/openid-configuration"),
        "jwks_cache_fetches": jwks.get_cache(idp.jwks_url).fetches,
    }
    return rows, extra


def check(client, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status, response.location)
    return response.data
