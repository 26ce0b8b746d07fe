"""Library floors that close known token and OAuth CVEs.

docs/SECURITY.md: Out of scope (pip-audit).

pip-audit needs PyPI's vulnerability API, which this project's CI cannot reach, so the
floors are pinned and checked here instead (requirements.txt and what is installed).
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest

FLOORS = {  # package: (minimum, why)
    "PyJWT": (
        "2.13.0",
        "CVE-2022-29217, CVE-2024-53861, CVE-2026-32597, CVE-2026-48526",
    ),
    "Authlib": ("1.7.3", "CVE-2025-68158, CVE-2026-41425, CVE-2026-104056"),
    "Flask-Session": ("0.7.0", "regenerate() for new session ids at login"),
}
REQUIREMENTS = Path(__file__).parent.parent / "requirements.txt"


def as_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def pinned() -> dict[str, str]:
    pins = re.findall(
        r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s#]+)", REQUIREMENTS.read_text(), re.M
    )
    return {name.lower(): value for name, value in pins}


@pytest.mark.parametrize("package", FLOORS)
def test_pinned_version_meets_floor(package):
    minimum, why = FLOORS[package]
    assert as_tuple(pinned()[package.lower()]) >= as_tuple(minimum), why


@pytest.mark.parametrize("package", FLOORS)
def test_installed_version_meets_floor(package):
    assert as_tuple(version(package)) >= as_tuple(FLOORS[package][0])


def test_every_runtime_dependency_is_pinned():
    lines = [
        line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines()
    ]
    for line in filter(None, lines):
        assert "==" in line, f"unpinned requirement: {line}"
