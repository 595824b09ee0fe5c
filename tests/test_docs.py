"""The README and the guides in docs/: short README, links that work on GitHub, tables the measuring commands write.

The site's side of the guides (their pages, the navigation, links rewritten for the site) is in
tests/test_site.py and tests/test_site_browser.py; the Performance tables' writer (`course bench
--docs`) in tests/test_bench.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course_tools import doc_tables
from course_tools.cli import main

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and the site: MyST's heading anchors) gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)  # no code blocks
    return {github_anchor(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def test_the_readme_is_short_and_starts_with_the_two_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 150, "the README is the landing page: move the details into a guide in docs/"
    first_block = re.search(r"^```\w*\n(.*?)^```", readme, re.M | re.S).group(1)
    assert [line.split("#")[0].strip() for line in first_block.splitlines()] == ["make run", "make test"]
    for guide in ("students", "instructors", "researchers", "authors", "security"):
        assert f"(docs/{guide}.md)" in readme, f"the README links no guide for {guide}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_leads_to_a_file_and_a_heading_that_exist(page):
    """What GitHub shows; the site rewrites the same links (course_tools.site.rewrite_links)."""
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page.name}: broken links: {broken}"


# ---------------------------------------------------------------------------- tables written by their commands
PAGE = "# Authors\n\nBefore.\n\n<!-- times: written by a command -->\n| old |\n<!-- /times -->\n\nAfter.\n"


def test_a_table_is_replaced_between_its_markers_and_nowhere_else():
    replaced = doc_tables.replace_table(PAGE, "times", "| new |\n|---|")
    assert replaced == PAGE.replace("| old |\n", "| new |\n|---|\n")
    assert doc_tables.replace_table(replaced, "times", "| new |\n|---|") == replaced  # the same table: no change
    with pytest.raises(doc_tables.DocTableError, match=r"<!-- /bench -->.*put them back"):
        doc_tables.replace_table(PAGE, "bench", "| new |")


def test_the_durations_table_lists_the_long_files_and_adds_up_the_rest():
    seconds = {"notebooks/05_a.ipynb": 200.0, "tests/test_x.py": 30.4, "tests/test_y.py": 2, "solutions/01.ipynb": 5.5}
    table = doc_tables.durations_table(seconds)
    assert table.splitlines() == [
        "| file | seconds |",
        "|---|---:|",
        "| `notebooks/05_a.ipynb` | 200 |",
        "| `tests/test_x.py` | 30 |",
        "| 2 other files (under 10 s each) | 8 |",
        "| *lessons (1 file)* | *200* |",
        "| *solutions (1 file)* | *6* |",
        "| *tests (2 files)* | *32* |",
        "| **sum of the files** | **238** |",
        "| **two workers, perfectly balanced (half the sum)** | **119** (2.0 min) |",
    ]


def course_with_a_run(tmp_path: Path, seconds: dict) -> Path:
    for path in ("notebooks/01_a.ipynb", "tests/test_a.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "authors.md").write_text(PAGE.replace("times", "test-times"))
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "test-durations.json").write_text(json.dumps(seconds))
    return tmp_path


def test_test_times_commits_the_last_runs_seconds_and_writes_their_table(tmp_path, capsys):
    run = {"notebooks/01_a.ipynb": 61.2, "tests/test_a.py": 3.0, "tests/test_deleted.py": 9.0}
    root = course_with_a_run(tmp_path, run)
    assert doc_tables.refresh_test_times(root=root) == 0
    committed = json.loads((root / "tests" / "test-durations.json").read_text())
    assert committed == {"notebooks/01_a.ipynb": 61.2, "tests/test_a.py": 3.0}  # a deleted file is dropped
    page = (root / "docs" / "authors.md").read_text()
    assert "| `notebooks/01_a.ipynb` | 61 |" in page and "| **sum of the files** | **64** |" in page
    assert page.startswith("# Authors\n\nBefore.\n") and page.endswith("After.\n") and "| old |" not in page


def test_test_times_refuses_what_it_cannot_use_and_changes_nothing(tmp_path, capsys):
    root = course_with_a_run(tmp_path, {"tests/test_a.py": 3.0})
    (root / "tests" / "test-durations.json").write_text('{"tests/test_a.py": 1.0}\n')
    assert doc_tables.refresh_test_times(str(root / "build" / "missing.json"), root=root) == 2
    assert "run `make test` first" in capsys.readouterr().err
    (root / "build" / "test-durations.json").write_text("[1, 2]")
    assert doc_tables.refresh_test_times(root=root) == 2
    assert "not a JSON object of file: seconds" in capsys.readouterr().err
    (root / "build" / "test-durations.json").write_text('{"tests/test_a.py": 3.0}')
    (root / "docs" / "authors.md").write_text("# Authors\n")
    assert doc_tables.refresh_test_times(root=root) == 2
    assert "<!-- /test-times -->" in capsys.readouterr().err
    assert (root / "tests" / "test-durations.json").read_text() == '{"tests/test_a.py": 1.0}\n'


def test_the_test_times_command_says_what_is_missing(tmp_path, capsys):
    assert main(["test-times", "--from", str(tmp_path / "none.json")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'none.json'} does not exist")
