"""Accessible names: the built pages' controls made to say what they show (WCAG 2.5.3)."""

from __future__ import annotations

import re
from pathlib import Path

# Controls whose accessible name (aria-label) leaves out the text they show, which a speech-input
# user says to press them (WCAG 2.5.3, axe's label-content-name-mismatch); each loses what hides
# its visible text. The site's axe audit (tests/test_site_a11y.py) fails if the theme changes them.
ACCESSIBLE_NAMES = [
    # a hidden cell's fold (myst-nb): its name becomes what it shows, "Show code cell source"
    ('<summary aria-label="Toggle hidden content">', "<summary>"),
    # the search field (pydata theme): named by what it shows, "Search Ctrl+K"
    (
        'search-button-field search-button__button pst-js-only" title="Search" aria-label="Search"',
        'search-button-field search-button__button pst-js-only" title="Search"',
    ),
]
# The colour-mode button (named "Color mode") shows an icon whose title ("Light", "Dark") Font
# Awesome turns into visible text; without the title the icon is decorative (aria-hidden).
THEME_ICON_TITLE = re.compile(r'(<i class="theme-switch [^"]*" data-mode="\w+")\s+title="[^"]*"')


def fix_accessible_names(site: Path) -> None:
    """Make every page's controls say what they show (see ``ACCESSIBLE_NAMES``)."""
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        fixed = THEME_ICON_TITLE.sub(r"\1", html)
        for before, after in ACCESSIBLE_NAMES:
            fixed = fixed.replace(before, after)
        if fixed != html:
            page.write_text(fixed, encoding="utf-8")
