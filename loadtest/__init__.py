"""A bounded load test of the blog in local mode under gunicorn (docs/RELIABILITY.md).

`run()` starts everything on 127.0.0.1 in a temporary folder, lets N virtual users work
for a fixed time, then checks that every write is still there and reports latencies.
"""

from __future__ import annotations

import html
import os
import platform
import re
import tempfile
import threading
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass
from dataclasses import field

from . import servers
from .user import AUTHOR
from .user import Browser
from .user import Failed
from .user import Record
from .user import VirtualUser

__all__ = ["Report", "run"]


@dataclass
class Report:
    users: int
    duration: float
    store: str
    workers: int
    threads: int
    think: float
    ramp: float
    requests: int = 0
    errors: int = 0  # 5xx answers and transport failures
    elapsed: float = 0.0
    latency: dict[str, float] = field(default_factory=dict)
    routes: list[tuple[str, int, float, float, float]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    checked_posts: int = 0
    server_tracebacks: int = 0
    server_log: Counter = field(default_factory=Counter)
    table_items: dict[str, int] = field(default_factory=dict)  # DynamoDB runs only

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors and not self.server_tracebacks

    def text(self) -> str:
        lines = [
            f"store={self.store} users={self.users} duration={self.duration:g}s "
            f"gunicorn={self.workers}x{self.threads} (gthread) think={self.think:g}s "
            f"ramp={self.ramp:g}s "
            f"machine: {os.cpu_count()} cpus, Python {platform.python_version()}",
            f"requests={self.requests} errors(5xx/transport)={self.errors} "
            f"throughput={self.requests / max(self.elapsed, 1e-9):.1f} req/s "
            f"over {self.elapsed:.1f}s",
            "latency ms: "
            + " ".join(f"{k}={v * 1000:.0f}" for k, v in self.latency.items()),
            "work: "
            + " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
            + f" posts_verified_afterwards={self.checked_posts}",
            f"{'route':<34}{'n':>7}{'p50':>8}{'p95':>8}{'p99':>8}  (ms)",
        ]
        lines += [
            f"{r:<34}{n:>7}{a * 1000:>8.0f}{b * 1000:>8.0f}{c * 1000:>8.0f}"
            for r, n, a, b, c in self.routes
        ]
        if self.table_items:
            lines.append(
                "DynamoDB items afterwards: "
                + " ".join(f"{k}={v}" for k, v in self.table_items.items())
            )
        lines.append(f"server tracebacks in gunicorn log: {self.server_tracebacks}")
        lines += [
            f"  server log x{n}: {line[:150]}"
            for line, n in self.server_log.most_common(5)
        ]
        lines.append(
            "RESULT: "
            + ("PASS" if self.ok else f"FAIL ({len(self.failures)} failed checks)")
        )
        lines += [f"  - {f}" for f in self.failures[:20]]
        return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    """The `q`-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[
        min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    ]


def run(
    users: int = 5,
    duration: float = 10.0,
    store: str = "sqlite",
    workers: int = 2,
    threads: int = 8,
    think: float = 1.0,
    ramp: float | None = None,
) -> Report:
    """Drive `users` concurrent users for `duration` seconds; return the report.

    Users start evenly over `ramp` seconds (default: a fifth of a second each, at most
    10 s) and pause `think` seconds on average before each page.
    """
    ramp = min(10.0, users / 5) if ramp is None else ramp
    report = Report(users, duration, store, workers, threads, think, ramp)
    names = [f"load{i:03d}" for i in range(users)]
    with tempfile.TemporaryDirectory(prefix="blog-load-") as folder:
        instance = os.path.join(folder, "instance")
        servers.add_users(instance, [*names, "checker"])
        with (
            servers.moto_server() if store == "dynamodb" else nullcontext() as endpoint
        ):
            env = servers.dynamodb_env(endpoint) if endpoint else {}
            with servers.gunicorn(instance, workers, threads, env) as base:
                record = drive(base, names, duration, think, ramp, report)
                report.checked_posts = verify(base, record)
            if endpoint:
                report.table_items = servers.count_items(endpoint)
        with open(os.path.join(instance, "gunicorn.log"), errors="replace") as log:
            lines = log.read().splitlines()
        report.server_tracebacks = sum(line.startswith("Traceback") for line in lines)
        report.server_log = Counter(line for line in lines if line and line[0] != " ")
    summarise(record, report)
    return report


def drive(
    base: str,
    names: list[str],
    duration: float,
    think: float,
    ramp: float,
    report: Report,
) -> Record:
    record = Record()
    started = time.monotonic()
    deadline = started + ramp + duration
    people = [
        VirtualUser(base, name, record, deadline, think, seed=i)
        for i, name in enumerate(names)
    ]
    threads = [
        threading.Thread(
            target=person.run, daemon=True, args=(started + ramp * i / len(people),)
        )
        for i, person in enumerate(people)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 120)  # a session in progress finishes after the deadline
    report.elapsed = time.monotonic() - started
    if any(thread.is_alive() for thread in threads):
        record.fail("some virtual users were still running 120 s after the deadline")
    return record


def verify(base: str, record: Record) -> int:
    """Page through every post as another user: each write is there, as last saved."""
    try:
        listed = listing(base)
    except Failed as failure:
        record.fail(f"verification: {failure}")
        return 0
    compare(listed, record)
    return len(listed)


def listing(base: str) -> dict[str, tuple[str, str, str]]:
    """Every post on the index pages: id -> (author, title, card HTML)."""
    browser = Browser(base, None)
    page = browser.request("GET", "/posts/")
    browser.submit(page, username="checker@example.com", password=servers.PASSWORD)
    listed: dict[str, tuple[str, str, str]] = {}
    path: str | None = "/posts/"
    while path:
        page = browser.request("GET", path)
        for card in re.findall(
            r'<article class="post-card".*?</article>', page.text, re.S
        ):
            post_id = re.search(r'href="/posts/([0-9a-f-]{36})/', card).group(1)
            title = re.search(r'<a href="[^"]+">([^<]*)</a>', card).group(1)
            author = AUTHOR.search(card).group(1)
            listed[post_id] = (html.unescape(author), html.unescape(title), card)
        older = re.search(r'href="(/posts/\?cursor=[^"]+)" rel="next"', page.text)
        path = html.unescape(older.group(1)) if older else None
    return listed


def compare(listed: dict[str, tuple[str, str, str]], record: Record) -> None:
    """Record a failure for each write that is missing or not as last saved."""
    for post_id, (who, title, body) in record.written.items():
        if post_id not in listed:
            record.fail(f"lost write: post {post_id} by {who} is not listed")
        elif listed[post_id][:2] != (who, title):
            record.fail(
                f"lost edit: post {post_id} lists {listed[post_id][:2]}, "
                f"last saved {(who, title)}"
            )
        elif body.split(".")[0] not in listed[post_id][2]:
            record.fail(
                f"lost edit: post {post_id}'s excerpt is not the last saved body"
            )


def summarise(record: Record, report: Report) -> None:
    report.requests = len(record.timings)
    report.errors = sum(1 for _, status, _ in record.timings if status >= 500)
    report.failures = record.failures
    report.counts = dict(record.counts)
    everything = [seconds for _, _, seconds in record.timings]
    if everything:
        report.latency = {f"p{q}": percentile(everything, q) for q in (50, 95, 99)}
        report.latency["max"] = max(everything)
    routes: dict[str, list[float]] = {}
    for route, _, seconds in record.timings:
        routes.setdefault(route, []).append(seconds)
    report.routes = sorted(
        (
            (r, len(v), percentile(v, 50), percentile(v, 95), percentile(v, 99))
            for r, v in routes.items()
        ),
        key=lambda row: -row[1],
    )
