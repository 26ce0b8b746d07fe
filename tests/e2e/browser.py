"""People using the blog (served in local mode) in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.localsite import PASSWORD
from tests.support.localsite import LocalSite
from tests.support.localsite import display_name

try:
    from playwright.sync_api import Browser
    from playwright.sync_api import ConsoleMessage
    from playwright.sync_api import WebError
    from playwright.sync_api import expect
    from playwright.sync_api import sync_playwright
except ImportError:  # the browser fixture skips (or fails under CI) with a hint
    Browser = ConsoleMessage = WebError = expect = sync_playwright = None  # type: ignore

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1000, "height": 700}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# axe-core, from package.json's devDependencies (`npm ci`, as `make test` runs it).
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# Reported by a securitypolicyviolation listener that runs before any page script.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""



class Person:
    """One person at one browser: a fresh context whose pages are watched.

    Console errors, uncaught page errors and CSP violations are collected in `problems`;
    a 4xx or 5xx page the test asks for with `expect_status` is not a problem.
    """

    def __init__(self, chromium: Browser, site: LocalSite) -> None:
        self.site = site
        self.problems: list[str] = []
        self.expected_failures: set[tuple[str, int]] = set()
        self.context = chromium.new_context(base_url=site.base, viewport=VIEWPORT)
        self.context.on("console", self._console)
        self.context.on("weberror", self._page_error)
        self.context.expose_binding("reportCspViolation", self._csp)
        self.context.add_init_script(CSP_LISTENER)
        self.page = self.context.new_page()

    def _console(self, message: ConsoleMessage) -> None:
        text, url = message.text, message.location.get("url", "")
        status = re.search(r"status of (\d{3})", text)
        if status and (url, int(status.group(1))) in self.expected_failures:
            return
        if message.type == "error" or "Content Security Policy" in text:
            self.problems.append(f"console {message.type} on {url}: {text}")

    def _page_error(self, error: WebError) -> None:
        self.problems.append(f"uncaught page error: {error.error}")

    def _csp(self, source: dict, text: str) -> None:
        self.problems.append(f"CSP violation on {source['frame'].url}: {text}")

    def expect_status(self, path: str, status: int) -> None:
        """Let `path` answer `status` without it counting as a console error."""
        self.expected_failures.add((self.site.url(path), status))

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        """Fill in and submit the Hosted UI's sign-in form."""
        page = self.page
        expect(page).to_have_url(re.compile(r"/_cognito/login\?"))
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()

    def login(self, email: str, path: str = "/posts/") -> None:
        """Open `path`, sign in on the hosted page, and be back on `path`."""
        self.page.goto(path)
        self.sign_in(email)
        expect(self.page).to_have_url(self.site.url(path))
        expect(self.page.locator(".who")).to_contain_text(display_name(email))

    def publish(self, title: str, body: str) -> str:
        """Write a post through the form; return its URL."""
        page = self.page
        page.get_by_role("link", name="Write", exact=True).click()
        page.get_by_label("Title").fill(title)
        page.get_by_label("Body").fill(body)
        page.get_by_role("button", name="Publish").click()
        expect(page.get_by_role("status")).to_have_text("Post published.")
        expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
        return page.url

    def accessibility_problems(self) -> list[str]:
        """What axe-core (WCAG 2 A and AA rules) finds on the page, one line a rule."""
        found = self.page.evaluate(
            "async () => {" + AXE.read_text() + """
            const result = await axe.run(document, {runOnly: ["wcag2a", "wcag2aa"]});
            return result.violations.map(v =>
                `${v.id}: ${v.help} (${v.nodes.map(n => n.target).join(", ")})`);
            }""")
        return [f"{self.page.url}: {problem}" for problem in found]

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{name}.png")

    def close(self) -> None:
        self.context.close()
