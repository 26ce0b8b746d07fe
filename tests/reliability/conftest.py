"""Fixtures of the reliability tests: an identity provider that can go down and back.

`idp` is overridden with an OutageIdP, so the `app`, `client` and `auth` fixtures of
tests/conftest.py work unchanged against it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fakeidp import OutageIdP

from . import CASES


@pytest.fixture
def idp() -> Iterator[OutageIdP]:
    """A fake Cognito of each test's own, which the test may take down."""
    server = OutageIdP()
    yield server
    server.close()


def pytest_terminal_summary(terminalreporter) -> None:
    if CASES:
        terminalreporter.write_sep("-", "reliability: generated cases run per property")
        for name, count in sorted(CASES.items()):
            terminalreporter.write_line(f"{count:>7}  {name}")
