"""Tables of measurements in the docs, written by the commands that measure them.

A measured table in a docs page sits between two comments, ``<!-- NAME: written by ... -->`` and
``<!-- /NAME -->``. The command that measures rewrites what lies between them from the JSON it
commits, so no one pastes a table and no test has to compare a pasted table with its JSON:

- ``bench`` (docs/authors.md, Performance): ``course bench --docs --out benchmarks/NAME.json``
  measures and writes ``course bench``'s report of that run there; ``course bench --from
  benchmarks/NAME.json --docs`` writes it again from a run already committed (``course_tools.bench``);
- ``test-times`` (docs/authors.md, the test suite's time budget): ``course test-times``, after a
  ``make test``, copies that run's seconds per file (``build/test-durations.json``, written by
  ``course_tools.suite_plan``) over the committed ``tests/test-durations.json``, which orders the
  next parallel run on a clean clone, and writes the table of them.

    course test-times                # after `make test`; then commit tests/test-durations.json and docs/authors.md
    course test-times --from FILE    # another run's seconds per file
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

AUTHORS_GUIDE = Path("docs") / "authors.md"  # where both tables live, from the course's root
OWN_ROW_SECONDS = 10.0  # a file that takes this long gets a row of its own; the rest are added up


class DocTableError(ValueError):
    """A page has no markers for the table, or the measurements to write are missing."""


def replace_table(text: str, name: str, content: str) -> str:
    """``text`` with what lies between the ``name`` markers replaced by ``content``."""
    found = re.search(rf"(<!-- {re.escape(name)}: [^\n]*-->\n)(.*?)(<!-- /{re.escape(name)} -->)", text, re.S)
    if not found:
        raise DocTableError(
            f"no `<!-- {name}: written by ... -->` and `<!-- /{name} -->` markers: put them back around the table"
        )
    return text[: found.start(2)] + content.strip("\n") + "\n" + text[found.end(2) :]


def write_table(page: Path, name: str, content: str) -> bool:
    """Write ``content`` between the ``name`` markers of ``page``; True when the page changed."""
    text = page.read_text(encoding="utf-8")
    try:
        updated = replace_table(text, name, content)
    except DocTableError as err:
        raise DocTableError(f"{page}: {err}") from None
    if updated != text:
        page.write_text(updated, encoding="utf-8")
    return updated != text


def kind_of(path: str) -> str:
    """Which part of the suite a file is: the lessons, the solutions or the tests."""
    return {"notebooks": "lessons", "solutions": "solutions"}.get(path.split("/")[0], "tests")


def durations_table(seconds: dict[str, float]) -> str:
    """The test suite's seconds per file as a Markdown table: the long files, the rest, the sums."""
    ranked = sorted(seconds.items(), key=lambda item: (-item[1], item[0]))
    long = [(path, s) for path, s in ranked if s >= OWN_ROW_SECONDS]
    short = [s for _, s in ranked if s < OWN_ROW_SECONDS]
    total = sum(seconds.values())
    lines = ["| file | seconds |", "|---|---:|"]
    lines += [f"| `{path}` | {s:,.0f} |" for path, s in long]
    if short:
        lines.append(f"| {len(short)} other files (under {OWN_ROW_SECONDS:.0f} s each) | {sum(short):,.0f} |")
    for kind in ("lessons", "solutions", "tests"):
        part = [s for path, s in seconds.items() if kind_of(path) == kind]
        if part:
            files = f"{len(part)} file" + ("s" if len(part) > 1 else "")
            lines.append(f"| *{kind} ({files})* | *{sum(part):,.0f}* |")
    lines.append(f"| **sum of the files** | **{total:,.0f}** |")
    balanced = f"**{total / 2:,.0f}** ({total / 120:.1f} min)"
    lines.append(f"| **two workers, perfectly balanced (half the sum)** | {balanced} |")
    return "\n".join(lines)


def refresh_test_times(source: str | None = None, root: Path | None = None) -> int:
    """``course test-times``: commit the last run's seconds per file and write their table in the docs."""
    from . import repo_root

    root = Path(root) if root else repo_root()
    run = Path(source) if source else root / "build" / "test-durations.json"
    if not run.is_file():
        print(f"error: {run} does not exist: run `make test` first (it writes each file's seconds)", file=sys.stderr)
        return 2
    try:
        measured = json.loads(run.read_text(encoding="utf-8"))
        kept = {path: float(s) for path, s in measured.items() if (root / path).is_file()}
    except (ValueError, AttributeError, TypeError) as err:
        print(f"error: {run} is not a JSON object of file: seconds ({err}); run `make test` again", file=sys.stderr)
        return 2
    try:
        changed = write_table(root / AUTHORS_GUIDE, "test-times", durations_table(kept))
    except (DocTableError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    committed = root / "tests" / "test-durations.json"
    committed.write_text(json.dumps(dict(sorted(kept.items())), indent=1) + "\n")
    print(f"wrote {committed} ({len(kept)} files, {sum(kept.values()):,.0f} s)")
    print(f"{'rewrote' if changed else 'kept'} the table in {root / AUTHORS_GUIDE}")
    return 0
