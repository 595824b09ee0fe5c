"""The course's web site in a real browser: Debian's Chromium, driven by Playwright.

The site (``course site``) is built, or reused when nothing it is made of changed, served on
127.0.0.1, and every lesson page is opened: its title, every figure loaded, the math rendered by
the site's own MathJax, no console error, no request to another host (each one is recorded, and
blocked: the browser's only way to another host is a proxy that refuses every connection, and a
planted request shows both), and the "next" link leads to the next lesson. The other pages
(landing page, exercises, solutions) get the same offline and error checks. Screenshots go to
build/screenshots/site/.

Skips, saying why, where Chromium, Playwright or Jupyter Book is missing; under CI=true it fails
instead, so CI cannot pass without running it.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import CHROMIUM, missing_for_browser_tests, skip_or_fail_in_ci

from course_tools.site import lesson_notebooks, notebook_title

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "screenshots" / "site"
LESSONS = lesson_notebooks(ROOT)


def missing() -> list[str]:
    no_book = importlib.util.find_spec("jupyter_book") is None
    return missing_for_browser_tests() + (["Jupyter Book (pip install -r requirements-site.txt)"] if no_book else [])


@pytest.fixture(scope="module")
def site() -> Path:
    if reasons := missing():
        skip_or_fail_in_ci("the site's browser test needs " + " and ".join(reasons))
    from course_tools.site import build_site

    return build_site(ROOT, reuse=True)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reports what matters; no access log on stderr
        pass


@pytest.fixture(scope="module")
def server(site):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


HELD: list[socket.socket] = []  # the proxy's port, bound as long as the tests run


@functools.cache
def nowhere() -> str:
    """A proxy address nothing answers at: a port of 127.0.0.1 held bound and never listened on, so
    every connection to it is refused."""
    HELD.append(socket.socket())
    HELD[0].bind(("127.0.0.1", 0))
    return f"http://127.0.0.1:{HELD[0].getsockname()[1]}"


class Visit:
    """One browser tab in a fresh context, with every request and console error recorded.

    A request to another host is recorded when the page makes it, and blocked: the context sends
    everything but the site's own address to a proxy that refuses every connection. (Routing every
    request through Playwright would block it too, but it pauses each one and turns the cache off:
    pages took twice as long to load.)
    """

    def __init__(self, browser, server: str):
        self.host = urlsplit(server).netloc
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, proxy={"server": nowhere(), "bypass": self.host}
        )
        self.page = self.context.new_page()
        self.outside, self.errors, self.failed = [], [], []
        self.page.on("request", self.record)
        self.page.on("console", self.console)
        self.page.on("pageerror", lambda err: self.errors.append(f"uncaught: {err}"))
        self.page.on("requestfailed", lambda req: self.failed.append(f"{req.url} ({req.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} (HTTP {r.status})"))

    def forget(self):
        """Empty the records, for the next page in this tab."""
        self.outside.clear()
        self.errors.clear()
        self.failed.clear()

    def console(self, message):
        # Not the browser's own look for a site icon at /favicon.ico: the site has none, and no page links one
        if message.type == "error" and message.location.get("url") != f"http://{self.host}/favicon.ico":
            self.errors.append(message.text)

    def record(self, request):
        url = request.url
        if urlsplit(url).netloc != self.host and not url.startswith(("data:", "blob:", "about:")):
            self.outside.append(url)

    def open(self, url: str):
        self.page.goto(url, wait_until="load")
        self.settle()

    def settle(self):
        """Wait until MathJax (where the page loads it) has typeset the page."""
        self.page.wait_for_load_state("load")
        if self.page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')"):
            self.page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            self.page.evaluate("() => MathJax.startup.promise")

    def check_clean(self, what: str):
        problems = [f"request to another host: {u}" for u in self.outside]
        problems += [f"console error: {e}" for e in self.errors]
        problems += [f"failed request: {f}" for f in self.failed if urlsplit(f.split()[0]).netloc == self.host]
        assert not problems, f"{what}:\n" + "\n".join(problems)

    def check_figures_and_math(self, what: str) -> dict:
        found = self.page.evaluate(
            """() => ({
                images: document.querySelectorAll('article img').length,
                broken: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
                math: document.querySelectorAll('article .math').length,
                unrendered: [...document.querySelectorAll('article .math')]
                    .filter(m => !m.querySelector('mjx-container') && m.tagName !== 'MJX-CONTAINER').length,
                rendered: document.querySelectorAll('article mjx-container').length,
                errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent),
            })"""
        )
        assert not found["broken"], f"{what}: figures that did not load: {found['broken']}"
        assert not found["unrendered"], f"{what}: {found['unrendered']} of {found['math']} formulas not rendered"
        assert not found["errors"], f"{what}: MathJax could not typeset: {found['errors']}"
        return found

    def check_links(self, site: Path, what: str):
        """Every link of the page to the site itself leads to a file of the site."""
        hrefs = self.page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
        broken = []
        for href in hrefs:
            parts = urlsplit(href)
            if parts.netloc == self.host:
                path = parts.path.lstrip("/") or "index.html"
                if not (site / path).is_file() and not (site / path / "index.html").is_file():
                    broken.append(href)
        assert not broken, f"{what}: links to pages the site does not have: {broken}"

    def close(self):
        self.context.close()


def shoot(visit: Visit, name: str) -> None:
    """Screenshots: the top of the page, its first figure and its first formula."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = visit.page
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=SHOTS / f"{name}_top.png")
    for kind, selector in (("figure", "article .cell_output img"), ("math", "article mjx-container")):
        element = page.query_selector(selector)
        if element:
            element.scroll_into_view_if_needed()
            page.screenshot(path=SHOTS / f"{name}_{kind}.png")


def check_answers_fold(page, name: str) -> None:
    """The worked answers to "Questions to think about" arrive folded and open with one click."""
    answers = page.query_selector_all("article details")
    assert answers, f"{name}: no folded answers on the page"
    assert all(d.get_attribute("open") is None for d in answers), f"{name}: an answer is open before it is asked for"
    last = answers[-1]
    body = last.query_selector(":scope > :not(summary)")
    assert body is not None and not body.is_visible(), f"{name}: a folded answer's text shows"
    last.scroll_into_view_if_needed()
    last.query_selector("summary").click()
    assert last.get_attribute("open") is not None and body.is_visible(), f"{name}: the answer does not open"
    assert len(body.inner_text().split()) >= 10, f"{name}: the opened answer is not rendered as text"


@pytest.fixture(scope="module")
def tab(browser, server):
    """One tab for every lesson page, its records emptied before each: a fresh tab (a new renderer, a cold
    cache) cost about a second more a page than the next page in the same tab."""
    visit = Visit(browser, server)
    yield visit
    visit.close()


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_page(lesson, site, server, tab):
    visit = tab
    visit.forget()
    visit.open(f"{server}/notebooks/{lesson.stem}.html")
    page, title = visit.page, notebook_title(lesson)
    assert page.inner_text("article h1").strip().rstrip("#").strip() == title
    assert page.title().startswith(title)
    found = visit.check_figures_and_math(lesson.name)
    notebook = json.loads(lesson.read_text(encoding="utf-8"))
    figures = sum("image/png" in o.get("data", {}) for c in notebook["cells"] for o in c.get("outputs", []))
    assert found["images"] >= figures, f"{lesson.name}: {figures} figures in the notebook, {found['images']} shown"
    has_math = any(
        "$" in c["source"] if isinstance(c["source"], str) else "$" in "".join(c["source"])
        for c in notebook["cells"]
        if c["cell_type"] == "markdown"
    )
    assert not has_math or found["rendered"] > 0, f"{lesson.name}: the page has math but MathJax rendered none"
    assert "Executed" in page.inner_text(".course-executed")
    check_answers_fold(page, lesson.name)
    shoot(visit, lesson.stem)
    visit.check_links(site, lesson.name)
    visit.check_clean(lesson.name)

    # The "next" link: to the next lesson, or after the last one to the exercises.
    with page.expect_navigation(wait_until="load"):
        page.click("a.right-next")
    following = LESSONS.index(lesson) + 1
    if following < len(LESSONS):
        expected, heading = f"/notebooks/{LESSONS[following].stem}.html", notebook_title(LESSONS[following])
    else:
        expected, heading = "/exercises/index.html", "Exercises"
    assert urlsplit(page.url).path == expected
    assert page.inner_text("article h1").strip().rstrip("#").strip() == heading
    visit.settle()
    visit.check_clean(f"{lesson.name}'s next page")


class Counter(http.server.BaseHTTPRequestHandler):
    """Another host: it counts the requests that reach it."""

    arrived: list[str] = []

    def do_GET(self):
        self.arrived.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_request_to_another_host_is_recorded_and_never_arrives(site, server, browser):
    """The offline check itself: a page that asks another address for data and for a picture fails
    check_clean, naming both, and neither request reaches that address."""
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counter)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    elsewhere = f"http://127.0.0.1:{other.server_address[1]}"
    visit = Visit(browser, server)
    try:
        visit.open(f"{server}/README.html")
        visit.page.evaluate("url => fetch(url).catch(() => null)", f"{elsewhere}/data.json")
        visit.page.evaluate(
            "url => new Promise(done => { const i = new Image(); i.onload = i.onerror = done; i.src = url; })",
            f"{elsewhere}/figure.png",
        )
        assert visit.outside == [f"{elsewhere}/data.json", f"{elsewhere}/figure.png"]
        with pytest.raises(AssertionError, match="request to another host"):
            visit.check_clean("a page with two requests to another host")
        assert Counter.arrived == [], f"requests that reached another host: {Counter.arrived}"
    finally:
        visit.close()
        other.shutdown()
        other.server_close()


def other_pages(site_root: Path) -> list[str]:
    pages = ["README.html"]
    for folder in ("exercises", "solutions", "docs"):
        pages += sorted(f"{folder}/{p.name}" for p in (site_root / folder).glob("*.html"))
    return pages


def test_other_pages_are_offline_and_clean(site, server, browser):
    """The landing page, the exercises, the solutions and the guides: no outside request, no error, math and
    figures."""
    visit = Visit(browser, server)
    try:
        for page in other_pages(site):
            visit.open(f"{server}/{page}")
            visit.check_figures_and_math(page)
            visit.check_links(site, page)
            if not page.endswith("index.html") and not page.startswith("docs/"):  # every notebook's page
                assert visit.page.query_selector(".course-executed"), f"{page} does not say when it was executed"
            visit.check_clean(page)
            if page.startswith(("exercises/01", "solutions/01")):
                shoot(visit, page.replace("/", "_").removesuffix(".html"))
        # The site's address leads to the landing page (the README), whose link to lesson 1 works.
        with visit.page.expect_navigation(url="**/README.html", wait_until="load"):
            visit.page.goto(f"{server}/", wait_until="commit")
        visit.settle()
        assert visit.page.title().startswith("CNNs on MNIST")
        shoot(visit, "00_landing")
        with visit.page.expect_navigation(wait_until="load"):
            visit.page.click(f"article a[href$='{LESSONS[0].stem}.html']")
        assert urlsplit(visit.page.url).path == f"/notebooks/{LESSONS[0].stem}.html"
        visit.settle()
        visit.check_clean("lesson 1 from the landing page")
    finally:
        visit.close()
