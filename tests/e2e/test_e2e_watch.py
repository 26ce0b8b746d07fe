"""The console and CSP watch itself, and what it found."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

INJECT_INLINE_SCRIPT = """() => new Promise((resolve) => {
  document.addEventListener("securitypolicyviolation", async () => {
    await window.reportCspViolation("probe done");  // after the watch's own report
    resolve();
  }, {once: true});
  const script = document.createElement("script");
  script.textContent = "document.title = 'injected'";
  document.body.append(script);
})"""


def test_watch_reports_a_csp_violation(site, person):
    person.page.goto("/")
    person.page.evaluate(INJECT_INLINE_SCRIPT)
    found, person.problems[:] = list(person.problems), []
    assert any("script-src" in problem for problem in found), found
    assert person.page.title() != "injected"


def test_hosted_pages_log_no_console_errors(site, person):
    person.page.goto("/auth/login")
    person.page.wait_for_load_state("networkidle")  # the icon is fetched after load
    found, person.problems[:] = list(person.problems), []
    assert found == []
