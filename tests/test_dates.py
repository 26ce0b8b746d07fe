"""Dates people read (blog/dates.py): relative times and the `when` filter."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from html.parser import HTMLParser

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from blog.dates import DAY
from blog.dates import HOUR
from blog.dates import MINUTE
from blog.dates import relative

SECOND = 1000


def at(text: str) -> int:
    """Epoch milliseconds of an ISO time in UTC, e.g. "2025-03-10 14:05"."""
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


NOW = at("2025-03-10 14:05")


@pytest.mark.parametrize(
    ("then", "now", "shown"),
    [
        (NOW, NOW, "just now"),
        (NOW - MINUTE + 1, NOW, "just now"),
        (NOW + 1, NOW, "just now"),  # a clock a little ahead
        (NOW + 3 * DAY, NOW, "just now"),
        (NOW - MINUTE, NOW, "1 minute ago"),
        (NOW - 2 * MINUTE + 1, NOW, "1 minute ago"),
        (NOW - 2 * MINUTE, NOW, "2 minutes ago"),
        (NOW - HOUR + 1, NOW, "59 minutes ago"),
        (NOW - HOUR, NOW, "1 hour ago"),
        (NOW - 2 * HOUR, NOW, "2 hours ago"),
        (NOW - DAY + 1, NOW, "23 hours ago"),
        (NOW - DAY, NOW, "yesterday"),
        # under 24 hours stays in hours, even across midnight
        (at("2025-03-09 23:30"), at("2025-03-10 00:30"), "1 hour ago"),
        # from 24 hours on, calendar days (UTC)
        (at("2025-03-09 00:00"), at("2025-03-10 23:59"), "yesterday"),
        (at("2025-03-08 23:30"), at("2025-03-10 00:30"), "2 days ago"),
        (at("2025-03-04 00:00"), NOW, "6 days ago"),
        (at("2025-03-03 23:59"), NOW, "3 March 2025"),
        (at("2024-12-31 23:59"), at("2025-01-01 00:00") + DAY * 10, "31 December 2024"),
        (0, NOW, "1 January 1970"),
    ],
)
def test_relative_times_at_their_boundaries(then, now, shown):
    assert relative(then, now) == shown


def calendar_days(then: int, now: int) -> int:
    return (
        datetime.fromtimestamp(now / 1000, UTC).date()
        - datetime.fromtimestamp(then / 1000, UTC).date()
    ).days


@given(
    now=st.integers(min_value=at("2000-01-01 00:00"), max_value=at("2100-01-01 00:00")),
    age=st.one_of(
        st.integers(min_value=-DAY, max_value=3 * DAY),
        st.integers(min_value=-DAY, max_value=400 * DAY),
    ),
)
def test_what_is_shown_is_true_of_the_age(now, age):
    """Each wording holds for exactly one range of ages, worked out another way."""
    then = now - age
    shown = relative(then, now)
    amount = re.fullmatch(r"(\d+) (minute|hour|day)s? ago", shown)
    if shown == "just now":
        assert age < MINUTE
    elif amount:
        n, unit = int(amount.group(1)), amount.group(2)
        assert shown.endswith("s ago") == (n != 1)
        if unit == "minute":
            assert 1 <= n <= 59 and n == age // (60 * SECOND)
        elif unit == "hour":
            assert 1 <= n <= 23 and n == age // (3600 * SECOND)
        else:
            assert age >= DAY and 2 <= n <= 6 and n == calendar_days(then, now)
    elif shown == "yesterday":
        assert age >= DAY and calendar_days(then, now) == 1
    else:
        date = datetime.fromtimestamp(then / 1000, UTC)
        assert shown == f"{date.day} {date:%B %Y}"
        assert calendar_days(then, now) >= 7


class TimeElements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[dict, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "time":
            self.found.append((dict(attrs), ""))

    def handle_data(self, data):
        if self.found:
            attrs, text = self.found[-1]
            self.found[-1] = (attrs, text + data)


def test_when_renders_a_time_element_with_the_exact_time(app):
    template = app.jinja_env.from_string("<p>Posted {{ created|when }}</p>")
    with time_machine.travel(datetime(2025, 3, 3, 17, 30, tzinfo=UTC), tick=False):
        page = template.render(created=at("2025-03-03 14:05") + 678)
    parser = TimeElements()
    parser.feed(page)
    assert parser.found == [(
        {"datetime": "2025-03-03T14:05:00.678Z", "title": "3 March 2025, 14:05 UTC"},
        "3 hours ago",
    )]  # fmt: skip
    assert "&lt;" not in page  # markup, not escaped text
