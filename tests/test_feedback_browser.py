"""Feedback pages (`course_tools.grading.feedback`) in a real browser: Debian's Chromium, driven by Playwright.

The pages of a grade with hostile written answers are written to a temporary folder and opened
from disk (file://): no request leaves the machine (every request is recorded, and any other
than a file:// one blocked), the hostile answer did not run (no dialog, no element made from it,
its text shown as text), the headings are there, and the index's link leads to the page. One
screenshot of each (the page in light mode, the index in dark mode) goes to
build/screenshots/feedback/.

Skips, saying why, where Chromium or Playwright is missing; under CI=true it fails instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CHROMIUM, missing_for_browser_tests, skip_or_fail_in_ci
from test_feedback import ALICE, BOB, HOSTILE, a_grade

from course_tools.grading.feedback import write_feedback
from course_tools.grading.records import Student

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "screenshots" / "feedback"


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    if reasons := missing_for_browser_tests():
        skip_or_fail_in_ci("the feedback pages' browser test needs " + " and ".join(reasons))
    out = tmp_path_factory.mktemp("feedback")
    mallory = Student("s666", HOSTILE, section=HOSTILE)
    write_feedback([a_grade(), a_grade("s666", feedback=[HOSTILE])], [ALICE, BOB, mallory], out)
    return out


@pytest.fixture(scope="module")
def browser(pages):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Visit:
    """A fresh browser context that records every request (blocking all but file://) and every dialog."""

    def __init__(self, browser, color_scheme: str):
        self.context = browser.new_context(viewport={"width": 1000, "height": 900}, color_scheme=color_scheme)
        self.page = self.context.new_page()
        self.requests, self.dialogs, self.errors = [], [], []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))
        self.page.route(
            "**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort()
        )

    def check(self, what: str) -> None:
        outside = [url for url in self.requests if not url.startswith("file://")]
        assert not outside, f"{what}: requests that left the machine: {outside}"
        assert not self.dialogs and not self.errors, f"{what}: script ran: {self.dialogs + self.errors}"
        made = self.page.evaluate("() => document.querySelectorAll('script, img, iframe, object, embed').length")
        assert made == 0, f"{what}: the hostile text became {made} element(s)"
        assert self.page.locator("h1").count() == 1, f"{what}: not one h1"


def test_a_page_and_the_index_load_nothing_and_run_nothing(pages, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    visit = Visit(browser, "light")
    try:
        page = visit.page
        page.goto((pages / "s666" / "shape_arithmetic.html").as_uri(), wait_until="load")
        visit.check("a student's page")
        text = page.inner_text("main")
        assert '<script>alert("x")</script>' in text and "onerror" in text  # shown as text
        assert page.locator("h2", has_text="Written answers").count() == 1
        assert page.locator("th[scope=row]", has_text="other_images").count() == 1
        page.screenshot(path=SHOTS / "page_light.png", full_page=True)
    finally:
        visit.context.close()

    visit = Visit(browser, "dark")
    try:
        page = visit.page
        page.goto((pages / "index.html").as_uri(), wait_until="load")
        visit.check("the index")
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(22, 22, 22)", f"the index is not dark in dark mode: {background}"
        page.screenshot(path=SHOTS / "index_dark.png", full_page=True)
        with page.expect_navigation(wait_until="load"):
            page.click('a[href="s001/shape_arithmetic.html"]')
        assert page.url.endswith("/s001/shape_arithmetic.html")
        visit.check("the page the index links to")
    finally:
        visit.context.close()
