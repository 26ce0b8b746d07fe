"""Browser-test fixtures: one Chromium per session, a new context per person."""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Iterator

import pytest

from tests.support.localsite import LocalSite

from .browser import CHROMIUM
from .browser import CHROMIUM_ARGS
from .browser import Person
from .browser import expect
from .browser import sync_playwright


def unavailable(reason: str) -> None:
    """Skip on a person's machine; under CI the browser tests must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    """One headless Chromium for the session (Playwright's Browser)."""
    if sync_playwright is None:
        unavailable("the playwright package is missing: `make test` installs it "
                    "(requirements-dev.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no Chromium at {CHROMIUM}: install it with "
                    "`sudo apt-get install chromium`")
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(chromium, tmp_path) -> Iterator[LocalSite]:
    """The blog in local mode with alice, bob and mod (a moderator)."""
    site = LocalSite(tmp_path)
    site.add_user("alice@example.com")
    site.add_user("bob@example.com")
    site.add_user("mod@example.com", "admins")
    yield site
    site.close()


@pytest.fixture
def new_person(chromium, site) -> Iterator[Callable[[], Person]]:
    """Make people, each in a new context; fail on what their consoles showed."""
    people: list[Person] = []

    def make() -> Person:
        people.append(Person(chromium, site))
        return people[-1]

    yield make
    for person in people:
        person.close()
    problems = [problem for person in people for problem in person.problems]
    if problems:
        pytest.fail("console errors or CSP violations:\n" + "\n".join(problems),
                    pytrace=False)


@pytest.fixture
def person(new_person) -> Person:
    return new_person()
