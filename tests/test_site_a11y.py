"""The course's web site passes axe-core in a real browser (issue 27), and has a dark mode.

Every page ``course site`` builds (the landing page, every lesson, exercise and solution, their
index pages, the guides, the search page) is opened in Debian's Chromium, one after another in
one browser, and audited with axe-core (the copy the pinned ``axe-playwright-python`` ships:
nothing is fetched) against the WCAG 2.0 and 2.1 A and AA rules, experimental ones included, and
axe's best practices. A violation of impact *serious* or *critical* fails the test, naming the
page, the rule and the element; the *moderate* ones must be the ones the Accessibility section of
docs/authors.md lists with its reasons. Everything found goes to ``build/a11y/axe.json``.

The audit runs axe-core's own code, made faster without changing an answer (``faster_axe``); a
planted page checks that it still finds what it must (a contrast just under 4.5:1, a picture
without alt) and passes what it must (a contrast just over).

Dark mode: the colour-mode button is reachable by keyboard and turns a lesson dark, every figure
keeps an opaque light ground there (a transparent figure's black text cannot vanish), and the
dark page passes the same audit. Screenshots of the lesson in both modes go to build/screenshots/site/.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
from pathlib import Path

import pytest
import test_site_browser as browser_test
from conftest import skip_or_fail_in_ci

ROOT = browser_test.ROOT
REPORT = ROOT / "build" / "a11y" / "axe.json"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING = ("serious", "critical")
DARK_LESSON = "04_two_conv_net"  # a lesson with figures, code, math and folded cells

# The site, its server and the browser: the browser test's fixtures (one build, one Chromium).
site, server, browser = browser_test.site, browser_test.server, browser_test.browser

# axe's WCAG rules, experimental ones included (label-content-name-mismatch is one), and the best
# practices that are not experimental (hidden-content only asks for a human's review).
RULES = f"""axe.getRules({json.dumps(TAGS)})
    .filter(r => !(r.tags.includes('experimental') && !r.tags.some(t => t.startsWith('wcag'))))
    .map(r => r.ruleId)"""
AUDIT = f"""() => axe.run(document, {{runOnly: {{type: 'rule', values: {RULES}}}, resultTypes: ['violations']}})
    .then(r => r.violations.map(v => ({{rule: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({{target: n.target.join(' '), html: n.html.slice(0, 160)}}))}})))"""


# Two speed-ups of axe's colour code, where color-contrast spends most of the audit's time; neither
# changes an answer (axe's full results, passes and incomplete ones included, were the same on every page
# of the site with and without them), and together they took axe's time on the site's 50 pages from
# 130 s to 76 s on a 2-core machine.
# 1. Its Color class keeps r, g, b and their 0-255 copies in private fields, which its build turns
#    into WeakMaps: a Color costs seven WeakMap insertions, and color-contrast makes dozens for every
#    piece of text it checks. Instead, the same has/get/set/add on a symbol-keyed property of the Color.
SLOW_FIELDS = "Se=new WeakMap,_e=new WeakMap,Me=new WeakMap,Pe=new WeakMap,Ie=new WeakMap,Be=new WeakMap,je=new WeakSet"
OWN_FIELD = (
    "(() => { const k = Symbol(); return {has(o) { return k in o; }, get(o) { return o[k]; },"
    " set(o, v) { o[k] = v; }, add(o) { o[k] = true; }}; })()"
)
FAST_FIELDS = ",".join(f"{name}={OWN_FIELD}" for name in ("Se", "_e", "Me", "Pe", "Ie", "Be", "je"))
# 2. Color.parseString runs colorjs's parser and gamut mapping on every computed colour it reads,
#    mostly the same few strings: the answer for a string is the same every time, so it is kept.
PARSE_ONCE = """;(() => {
  const Color = axe.commons.color.Color, parse = Color.prototype.parseString, parsed = new Map();
  Color.prototype.parseString = function (text) {
    const known = parsed.get(text);
    if (known) { [this.r, this.g, this.b, this.alpha] = known; return this; }
    parse.call(this, text);  // a string it cannot parse throws, as before, and is not kept
    parsed.set(text, [this.r, this.g, this.b, this.alpha]);
    return this;
  };
})();"""


def faster_axe(script: str) -> str:
    """axe-core with the two speed-ups; the first only where its build has the fields as expected
    (test_the_audit_finds_what_it_must says when it does not)."""
    if script.count(SLOW_FIELDS) == 1:
        script = script.replace(SLOW_FIELDS, FAST_FIELDS)
    return script + PARSE_ONCE


@pytest.fixture(scope="module")
def axe_script() -> str:
    if importlib.util.find_spec("axe_playwright_python") is None:
        skip_or_fail_in_ci("the site's accessibility audit needs axe-core (pip install -r requirements-test.txt)")
    from axe_playwright_python.base import AXE_SCRIPT

    return faster_axe(AXE_SCRIPT)


def site_pages(site_root: Path) -> list[str]:
    """Every page the site has: the landing page, the lessons, exercises and solutions, the search
    and index pages (all but ``index.html``, which only redirects to the landing page)."""
    pages = [p.relative_to(site_root).as_posix() for p in site_root.rglob("*.html")]
    return sorted(p for p in pages if not p.startswith("_") and p != "index.html")


def audit(page, url: str) -> list[dict]:
    """The page's violations, once it has loaded and MathJax has typeset it."""
    page.goto(url, wait_until="load")
    if page.evaluate("() => !!document.querySelector('script[src*=mathjax]')"):
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
    return page.evaluate(AUDIT)


def accessibility_section() -> str:
    """The Accessibility section of the authors' guide, which lists the violations left and why."""
    guide = (ROOT / "docs" / "authors.md").read_text(encoding="utf-8")
    found = re.search(r"^#+ Accessibility\n(.*?)(?=^#+ |\Z)", guide, re.M | re.S)
    return found.group(1) if found else ""


def failures(found: dict[str, list[dict]]) -> list[str]:
    return [
        f"{page}: {v['rule']} ({v['impact']}: {v['help']}) at {n['target']}: {n['html']}"
        for page, violations in found.items()
        for v in violations
        if v["impact"] in FAILING
        for n in v["nodes"]
    ]


def test_every_page_passes_axe(site, server, browser, axe_script):
    pages = site_pages(site)
    course = [f"notebooks/{p.stem}.html" for p in browser_test.LESSONS] + browser_test.other_pages(site)
    assert set(course) <= set(pages), f"pages missing from the audit: {set(course) - set(pages)}"
    # One tab for every page, nothing recorded or routed (the browser test checks the pages work offline).
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(script=axe_script)  # every page gets axe before its own scripts run
    start = time.perf_counter()
    try:
        tab = context.new_page()
        found = {page: audit(tab, f"{server}/{page}") for page in pages}
    finally:
        context.close()
    seconds = time.perf_counter() - start
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"seconds": round(seconds, 1), "tags": TAGS, "pages": found}, indent=1) + "\n")
    print(f"axe-core audited {len(pages)} pages in {seconds:.0f}s; report in {REPORT}")

    problems = failures(found)
    assert not problems, f"{len(problems)} serious or critical accessibility violations:\n" + "\n".join(problems)
    moderate = sorted({v["rule"] for vs in found.values() for v in vs if v["impact"] == "moderate"})
    unlisted = [rule for rule in moderate if f"`{rule}`" not in accessibility_section()]
    assert not unlisted, f"moderate violations docs/authors.md's Accessibility section does not list: {unlisted}"


PLANTED = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Planted</title></head>
<body><main><h1>Planted</h1>
<p style="color: #777777; background: #ffffff">Grey on white, 4.48:1: too faint for body text.</p>
<p style="color: #767676; background: #ffffff">Grey on white, 4.54:1: just enough.</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="20" height="20">
</main></body></html>"""


def test_the_audit_finds_what_it_must(browser, axe_script, tmp_path):
    """The audit as test_every_page_passes_axe runs it, on a page with two planted violations: a
    contrast of 4.48:1 (serious) and a picture without alt (critical); the 4.54:1 paragraph passes."""
    from axe_playwright_python.base import AXE_SCRIPT

    assert AXE_SCRIPT.count(SLOW_FIELDS) == 1, "axe-core changed: update or drop faster_axe's first speed-up"
    page = tmp_path / "planted.html"
    page.write_text(PLANTED, encoding="utf-8")
    context = browser.new_context()
    context.add_init_script(script=axe_script)
    try:
        found = audit(context.new_page(), page.as_uri())
    finally:
        context.close()
    problems = failures({"planted": found})
    assert len(problems) == 2, problems
    assert any("color-contrast (serious" in p and "#777777" in p for p in problems), problems
    assert any("image-alt (critical" in p for p in problems), problems


def luminance(css_colour: str) -> tuple[float, float]:
    """(relative luminance, alpha) of a computed CSS colour ``rgb(...)`` or ``rgba(...)``."""
    parts = [float(x) for x in re.findall(r"[\d.]+", css_colour)]
    r, g, b = (c / 255 for c in parts[:3])
    alpha = parts[3] if len(parts) > 3 else 1.0
    return 0.2126 * r + 0.7152 * g + 0.0722 * b, alpha


def test_dark_mode_is_one_key_away_and_keeps_figures_readable(site, server, browser, axe_script):
    visit = browser_test.Visit(browser, server)
    visit.context.add_init_script(script=axe_script)
    page = visit.page
    try:
        visit.open(f"{server}/notebooks/{DARK_LESSON}.html")
        assert page.evaluate("() => document.documentElement.dataset.theme") == "light", "the site starts light"
        browser_test.shoot(visit, f"{DARK_LESSON}_light")  # the top of the page, a figure, a formula
        button = page.locator(".theme-switch-button:visible").first
        assert button.get_attribute("aria-label") == "Color mode"
        for _ in range(3):  # the button cycles the modes; pressed from the keyboard
            button.focus()
            page.keyboard.press("Enter")
            if page.evaluate("() => document.documentElement.dataset.theme") == "dark":
                break
        assert page.evaluate("() => document.documentElement.dataset.theme") == "dark", "no dark mode"
        grounds = page.evaluate(
            "() => [...document.querySelectorAll('article img')].map(i => [i.src, getComputedStyle(i).backgroundColor])"
        )
        assert grounds, f"{DARK_LESSON} shows no figure"
        dark = [(src, colour) for src, colour in grounds if luminance(colour)[1] < 1 or luminance(colour)[0] < 0.75]
        assert not dark, f"figures without an opaque light ground in dark mode: {dark}"
        browser_test.shoot(visit, f"{DARK_LESSON}_dark")
        visit.open(page.url)  # the choice is remembered
        assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
        visit.check_clean(f"{DARK_LESSON} in dark mode")
        # Last: axe reads the page's style sheets itself, and asks for the one the theme imports at the
        # wrong address (a 404 of axe's, not the site's).
        problems = failures({f"{DARK_LESSON} (dark)": page.evaluate(AUDIT)})
        assert not problems, "accessibility violations in dark mode:\n" + "\n".join(problems)
    finally:
        visit.close()
