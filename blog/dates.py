"""Dates as people read them: "5 minutes ago", "yesterday", "3 March 2025" (UTC)."""

from __future__ import annotations

import time

from flask import Flask
from markupsafe import Markup

from .storage import rfc3339
from .storage import utc

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
RECENT_DAYS = 6  # "6 days ago" is the oldest relative day; a week back is a date


def relative(ms: int, now_ms: int) -> str:
    """How long before `now_ms` the moment `ms` was (both epoch milliseconds, UTC).

    Under a minute, or in the future (clock skew), is "just now"; then minutes and
    hours; from 24 hours on, the calendar day: "yesterday", "3 days ago" up to 6
    days, then the date, e.g. "3 March 2025".
    """
    age = now_ms - ms
    if age < MINUTE:
        return "just now"
    if age < HOUR:
        return counted(age // MINUTE, "minute")
    if age < DAY:
        return counted(age // HOUR, "hour")
    days = now_ms // DAY - ms // DAY  # calendar days apart, UTC
    if days == 1:
        return "yesterday"
    if days <= RECENT_DAYS:
        return f"{days} days ago"
    return day(ms)


def counted(n: int, unit: str) -> str:
    return f"1 {unit} ago" if n == 1 else f"{n} {unit}s ago"


def day(ms: int) -> str:
    """The UTC date of `ms`, e.g. "3 March 2025"."""
    moment = utc(ms)
    return f"{moment.day} {moment:%B %Y}"


def exact(ms: int) -> str:
    """The UTC time of `ms` to the minute, e.g. "3 March 2025, 14:05 UTC"."""
    return f"{day(ms)}, {utc(ms):%H:%M} UTC"


def when(ms: int, now_ms: int | None = None) -> Markup:
    """A `<time>` element: the relative time, the exact time as its title."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        rfc3339(ms), exact(ms), relative(ms, now_ms)
    )


def init_app(app: Flask) -> None:
    """Register the `when` filter: `{{ post.created_at|when }}`."""
    app.add_template_filter(when, "when")
