"""Answers that look alike across students: ``course similarity SUBMISSION... [--solutions DIR]
[--roster roster.csv] [--out similarity.html] [--threshold 0.9]``.

The report is a list for a person to read, never a penalty: the solution a lesson teaches can
lead students to the same code, and nothing here changes a grade. It runs no student code.

What is compared. The submissions are found as ``course grade`` finds them (`roster.collect`:
files, and folders searched recursively; with ``--roster``, each file matched to its student,
and a student's latest submission of an exercise taken; unmatched files are compared too, named
by their path). Each submission's solution is found as the grader finds it (`find_solution`),
and each answer cell of the solution (metadata ``course.role == "answer"``) is matched to the
student's cell by cell id (`assemble._match`); the code cells the student added right after it
count as part of the answer. That code is normalized:

- parsed with ``ast`` (IPython magics blanked), docstrings and other bare strings, comments and
  blank lines dropped, the layout made canonical by ``ast.unparse``;
- the names the student defines (variables, functions, classes, arguments, loop and ``with``
  targets) renamed to placeholders in order of first appearance; attribute names, keyword
  names, imports, library calls and literals kept;
- the lines of the exercise's stub (the ``def`` lines the exercise hands out) left out, so the
  comparison is of what the student wrote;
- code that does not parse is compared as its text with the whitespace normalized.

An answer identical to the stub (nothing written) or of fewer than ``MIN_TOKENS`` tokens of its
own is left out: a one-line formula is what everyone writes. Two students' answers to the same
cell are **identical** when their normalized tokens are equal (the same code but for names,
comments and layout), **near** when the similarity of the two token sequences reaches
``--threshold`` (default 0.9): twice the length of their longest common subsequence over the sum
of their lengths (RapidFuzz's Indel similarity, from ``requirements-instructors.txt``; difflib's
ratio estimates the same). For it every placeholder is the same token, so a variable added near
the top does not renumber, and so change, every later name. A pair is ``like_solution`` when both
answers are at least that alike to the course's own solution of the cell: often the lesson's code,
a reason to read the pair with care, not for suspicion.

Output: ``similarity.html`` (the pairs unlike the solution, then those like it, each most similar
first, and each pair's two cells side by side as written; no script, and no request leaves the
page) and beside it ``similarity.csv``, one row a pair, most similar first:
``student_a, student_b, exercise, task, cell, similarity, kind, like_solution, submission_a,
submission_b``. The page shows at most ``SHOWN_PAIRS`` pairs of each group; the CSV has them all.
Both are written whole or not at all (a new file renamed onto the name), and only over a report
of this command's: an existing file of the same name that is something else (``--out
gradebook.html`` beside a ``gradebook.csv``, or ``written_answers.html`` beside the hand scores)
is refused, one line, before anything is read.

Speed: identical answers are bucketed by hash first and only one of each bucket is compared; a
pair is compared only when its lengths could reach the threshold. ``python
benchmarks/similarity_class.py`` (150 synthetic students, exercise 7's five answer cells, about
680 answers and 21,700 pairs listed, most answers near one another): 1.2 s to read and normalize,
0.13 s to compare, 2.6 s for the whole command, on a 2-core machine.
"""

from __future__ import annotations

import ast
import csv
import html
import importlib.util
import io
import re
import sys
import tokenize
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import nbformat

from ..notebook_transforms import MarkerError, code_stub, strip_solution, without_markers
from .assemble import _course, _match, _parse, exercise_id, find_solution
from .files import _replace
from .roster import RosterError, collect, read_roster

MIN_TOKENS = 12  # fewer tokens of the student's own: too short to say anything (e.g. `return a * b + 1`)
DEFAULT_THRESHOLD = 0.9
SHOWN_PAIRS = 200  # the page shows at most this many pairs of each group; the CSV has them all
PLACEHOLDER = "_v"  # the names a student defines become _v1, _v2... (see `normalize`)
_NUMBERED = re.compile(r"_v[0-9]+")
_TEXT_TOKEN = re.compile(r"\w+|\S")  # the words and symbols of code that does not parse
_LAYOUT_TOKENS = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.ENDMARKER}

Line = tuple[int, tuple[str, ...]]  # (indentation depth, the tokens of one logical line)


# ---------------------------------------------------------------------------------------------
# Normalizing one answer


class _DefinedNames(ast.NodeVisitor):
    """Collects the names a piece of code defines (binds), not those it only uses."""

    def __init__(self):
        self.names: set[str] = set()

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Store | ast.Del):
            self.names.add(node.id)

    def visit_arg(self, node):
        self.names.add(node.arg)
        self.generic_visit(node)

    def _define(self, node):
        if getattr(node, "name", None):
            self.names.add(node.name)
        self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_ExceptHandler = _define
    visit_MatchAs = visit_MatchStar = _define


class _Renamer(ast.NodeTransformer):
    """Renames the defined names to ``_v1, _v2...`` in the order the tree is walked (the same
    structure gives the same placeholders, whatever the student called things)."""

    def __init__(self, defined: set[str]):
        self.defined, self.placeholders = defined, {}

    def _new(self, name: str) -> str:
        if name not in self.defined:
            return name
        return self.placeholders.setdefault(name, f"_v{len(self.placeholders) + 1}")

    def visit_Name(self, node):
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self._new(node.arg)
        return self.generic_visit(node)

    def _rename(self, node):
        if getattr(node, "name", None):
            node.name = self._new(node.name)
        return self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_ExceptHandler = _rename
    visit_MatchAs = visit_MatchStar = _rename

    def visit_Global(self, node):
        node.names = [self._new(name) for name in node.names]
        return node

    visit_Nonlocal = visit_Global


def _drop_bare_strings(tree: ast.AST) -> None:
    """Remove docstrings and other string statements (comments in all but name) from every body."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if not isinstance(body, list) or not body or not isinstance(body[0], ast.stmt):
                continue
            kept = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
            kept = [s for s in kept if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.JoinedStr))]
            setattr(node, field, kept or ([ast.Pass()] if field == "body" else []))


def _logical_lines(code: str) -> list[Line]:
    """The (depth, tokens) of each logical line of canonical code (`ast.unparse`'s output)."""
    lines, current, depth = [], [], 0
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.INDENT:
            depth += 1
        elif token.type == tokenize.DEDENT:
            depth -= 1
        elif token.type == tokenize.NEWLINE and current:
            lines.append((depth, tuple(current)))
            current = []
        elif token.type not in _LAYOUT_TOKENS:
            current.append(token.string)
    return lines + ([(depth, tuple(current))] if current else [])


def normalize(source: str) -> list[Line]:
    """The normalized lines of a code cell (see the module docstring): equal for two cells that
    differ only in names, comments, docstrings, blank lines and layout."""
    tree = _parse(source)[0]
    if tree is not None:
        try:
            _drop_bare_strings(tree)
            collector = _DefinedNames()
            collector.visit(tree)
            return _logical_lines(ast.unparse(_Renamer(collector.names).visit(tree)))
        except (RecursionError, ValueError, SyntaxError, tokenize.TokenError):
            pass  # absurdly deep code: compared as text
    lines = (line.strip() for line in source.split("\n"))
    return [(0, tuple(_TEXT_TOKEN.findall(line))) for line in lines if line]


def anonymous(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The tokens with every placeholder the same (``_v``): a variable added near the top does not
    renumber every later one, so a changed line stays one changed line."""
    return tuple(PLACEHOLDER if _NUMBERED.fullmatch(token) else token for token in tokens)


def own_lines(lines: list[Line], stub: list[Line]) -> list[Line]:
    """The lines that are not the stub's (each stub line discounted once, placeholders not told apart)."""
    left = Counter((depth, anonymous(tokens)) for depth, tokens in stub)
    kept = []
    for depth, tokens in lines:
        if left[(depth, anonymous(tokens))]:
            left[(depth, anonymous(tokens))] -= 1
        else:
            kept.append((depth, tokens))
    return kept


def flat(lines: list[Line]) -> tuple[str, ...]:
    return tuple(token for _, tokens in lines for token in tokens)


def stub_of(cell) -> str:
    """What the exercise gives for a solution's answer cell (`course_tools.notebook_transforms`)."""
    info = _course(cell)
    try:
        return strip_solution(cell.source, code_stub(info.get("task"), info.get("title", "")))
    except MarkerError:
        return ""


# ---------------------------------------------------------------------------------------------
# One answer per student and answer cell


@dataclass(frozen=True)
class Answer:
    """One student's answer to one answer cell of an exercise."""

    student: str  # the roster's student id, else the submission's path
    submission: str
    exercise: str  # the exercise id
    task: object  # the task number of the solution's cell
    cell: str  # the solution's cell id
    source: str  # the student's code as written: the answer cell and the cells added after it
    tokens: tuple[str, ...]  # the normalized tokens of the student's own lines (`own_lines`): equal = identical
    shape: tuple[str, ...]  # the same, placeholders not told apart (`anonymous`): what `ratio` compares
    solution_similarity: float = 0.0  # how close to the course's solution of the cell (`ratio`)


@dataclass(frozen=True)
class Pair:
    """Two students' answers to one cell, at or above the threshold."""

    a: Answer
    b: Answer
    similarity: float
    kind: str  # "identical" or "near"
    like_solution: bool  # both answers at least as close to the course's solution as the threshold asks


@dataclass
class _Cell:
    """A solution's answer cell, prepared once: its stub's lines and the solution's own tokens."""

    index: int
    cell: object
    stub: list[Line]
    solution: tuple[str, ...]


def _answer_cells(solution) -> list[_Cell]:
    cells = []
    for index, cell in enumerate(solution.cells):
        if cell.cell_type == "code" and _course(cell).get("role") == "answer":
            stub = normalize(stub_of(cell))
            try:
                solution_code = without_markers(cell.source)
            except MarkerError:
                solution_code = cell.source
            cells.append(_Cell(index, cell, stub, anonymous(flat(own_lines(normalize(solution_code), stub)))))
    return cells


def _written(solution, student) -> dict[int, str]:
    """{solution cell index: the student's code} for each answer cell, with the code cells the
    student added right after it."""
    matches = _match(solution, student)
    matched = {id(cell): index for index, cell in matches.items()}
    written, anchor = {}, None
    for cell in student.cells:
        if id(cell) in matched:
            anchor = matched[id(cell)]
            if _course(solution.cells[anchor]).get("role") == "answer" and cell.cell_type == "code":
                written[anchor] = [cell.source]
            else:
                anchor = None
        elif anchor is not None and cell.cell_type == "code":
            written[anchor].append(cell.source)
    return {index: "\n\n".join(sources) for index, sources in written.items()}


def ratio(a: tuple[str, ...], b: tuple[str, ...], cutoff: float = 0.0) -> float:
    """The similarity of two token sequences: 2 * their longest common subsequence / (len(a) + len(b)),
    1.0 for the same; 0.0 when it is under ``cutoff`` (then computed only as far as needed)."""
    from rapidfuzz.distance import Indel

    return Indel.normalized_similarity(a, b, score_cutoff=cutoff)


@dataclass
class Found:
    """What `read_answers` found: the answers, and one line for each file left out."""

    answers: list[Answer]
    skipped: list[str]
    left_out: Counter  # reason -> how many answers ("stub only", "too short")


def read_answers(submissions: list[tuple[str, Path]], solutions_dir: Path) -> Found:
    """The answers of ``submissions`` ([(student, path)]), each student's last submission of an
    exercise winning; files that are no notebook or match no solution are listed in ``skipped``."""
    solutions, prepared = {}, {}
    latest = {}  # (student, exercise) -> (path, notebook, solution path): a later file replaces it
    skipped, left_out = [], Counter()
    for student, path in submissions:
        try:
            notebook = nbformat.reads(path.read_bytes().decode("utf-8"), as_version=4)
            notebook.cells  # noqa: B018 - a JSON file that is no notebook fails here
        except Exception as err:
            skipped.append(f"{path}: not a notebook ({type(err).__name__}), left out")
            continue
        solution_path = find_solution(path, notebook, solutions_dir)
        if solution_path is None:
            skipped.append(f"{path}: no matching solution notebook in {solutions_dir}, left out")
            continue
        if solution_path not in solutions:
            solutions[solution_path] = nbformat.read(solution_path, as_version=4)
            prepared[solution_path] = _answer_cells(solutions[solution_path])
        exercise = exercise_id(solutions[solution_path].metadata) or solution_path.stem
        latest[(student, exercise)] = (path, notebook, solution_path)
    answers = []
    for (student, exercise), (path, notebook, solution_path) in latest.items():
        written = _written(solutions[solution_path], notebook)
        for cell in prepared[solution_path]:
            if cell.index not in written:
                continue
            lines = normalize(written[cell.index])
            tokens = flat(own_lines(lines, cell.stub))
            if lines == cell.stub or not tokens:
                left_out["stub only"] += 1
            elif len(tokens) < MIN_TOKENS:
                left_out["too short"] += 1
            else:
                task, cell_id = _course(cell.cell).get("task"), cell.cell.get("id", str(cell.index))
                shape = anonymous(tokens)
                like = ratio(shape, cell.solution)
                source = written[cell.index]
                answers.append(Answer(student, str(path), exercise, task, cell_id, source, tokens, shape, like))
    return Found(answers, skipped, left_out)


# ---------------------------------------------------------------------------------------------
# Comparing


def similar_pairs(answers: list[Answer], threshold: float = DEFAULT_THRESHOLD) -> list[Pair]:
    """Every pair of different students' answers to one cell at or above ``threshold``, most
    similar first. Identical answers share a bucket and one comparison; two answers whose lengths
    alone keep the ratio under the threshold are never compared."""
    by_cell = defaultdict(lambda: defaultdict(list))  # (exercise, cell) -> tokens -> answers
    for answer in answers:
        by_cell[(answer.exercise, answer.cell)][answer.tokens].append(answer)
    pairs = []
    for buckets in by_cell.values():
        for members in buckets.values():
            pairs += _pairs(members, members, 1.0, "identical", threshold)
        groups = sorted(buckets.values(), key=lambda members: len(members[0].shape))
        for index, longer in enumerate(groups):
            shortest = len(longer[0].shape) * threshold / (2 - threshold) - 1e-9  # 2*short/(short+long) >= threshold
            for shorter in reversed(groups[:index]):
                if len(shorter[0].shape) < shortest:
                    break
                similarity = ratio(shorter[0].shape, longer[0].shape, threshold)
                if similarity >= threshold:
                    pairs += _pairs(shorter, longer, similarity, "near", threshold)
    return sorted(pairs, key=_order)


def _pairs(group_a, group_b, similarity, kind, threshold) -> list[Pair]:
    """The pairs of different students across two buckets (within one when they are the same)."""
    if group_a is group_b:
        couples = combinations(group_a, 2)
    else:
        couples = ((a, b) for a in group_a for b in group_b)
    pairs = []
    for a, b in couples:
        if a.student != b.student:
            a, b = sorted((a, b), key=lambda answer: answer.student)
            like = min(a.solution_similarity, b.solution_similarity) >= threshold
            pairs.append(Pair(a, b, round(similarity, 4), kind, like))
    return pairs


def _order(pair: Pair):
    return (-pair.similarity, pair.kind != "identical", pair.a.exercise, str(pair.a.task), pair.a.cell,
            pair.a.student, pair.b.student)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The report

CSV_COLUMNS = [
    "student_a",
    "student_b",
    "exercise",
    "task",
    "cell",
    "similarity",
    "kind",
    "like_solution",
    "submission_a",
    "submission_b",
]


def write_csv(pairs: list[Pair], out: Path) -> None:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for p in pairs:
        writer.writerow([p.a.student, p.b.student, p.a.exercise, p.a.task, p.a.cell, f"{p.similarity:.3f}",
                         p.kind, "yes" if p.like_solution else "no", p.a.submission, p.b.submission])  # fmt: skip
    _replace(out, text.getvalue())


HTML_TITLE = "<title>Similar answers</title>"  # what every page `render_html` writes holds


def _not_ours(path: Path) -> bool:
    """Whether ``path`` exists and is no file this command wrote (so not to be written over)."""
    if not path.exists():
        return False
    try:
        with open(path, encoding="utf-8", newline="") as f:
            start = f.read(4096)
    except (OSError, UnicodeDecodeError):
        return True
    if path.suffix.lower() == ".csv":
        return start.split("\r\n", 1)[0].split("\n", 1)[0] != ",".join(CSV_COLUMNS)
    return HTML_TITLE not in start


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; line-height: 1.45; color: #1b1b1b; background: #fff; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #8a8a8a; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
.cells { width: 100%; table-layout: fixed; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.85rem; }
.note { border-left: 0.35rem solid #0b5cad; padding: 0.5rem 1rem; background: #eef4fb; max-width: 60rem; }
a { color: #0b4f94; }
@media (prefers-color-scheme: dark) {
  body { color: #eee; background: #161616; } .note { background: #1d2a38; } a { color: #9cc8ff; }
}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _name(student: str, names: dict[str, str]) -> str:
    return f"{names[student]} ({student})" if student in names else student


def _heading(student: str, submission: str) -> str:
    """A student's name over their file's path (once, where the path names the student)."""
    return _e(student) if student == submission else f"{_e(student)}<br><small>{_e(submission)}</small>"


def _row(number: int, p: Pair, names: dict[str, str]) -> str:
    a, b = _name(p.a.student, names), _name(p.b.student, names)
    return (
        f'<tr><th scope="row"><a href="#pair-{number}">{number}</a></th><td>{_e(a)}</td><td>{_e(b)}</td>'
        f"<td>{_e(p.a.exercise)}</td><td>{_e(p.a.task)}</td><td>{p.similarity:.0%}</td><td>{p.kind}</td></tr>"
    )


def _side_by_side(number: int, p: Pair, names: dict[str, str]) -> str:
    a, b = _name(p.a.student, names), _name(p.b.student, names)
    title = f"{number}. {a} and {b}: {p.a.exercise}, task {p.a.task}, {p.kind} ({p.similarity:.0%})"
    return (
        f'<section id="pair-{number}" aria-labelledby="pair-{number}-title">'
        f'<h3 id="pair-{number}-title">{_e(title)}</h3>'
        f'<table class="cells"><caption>The two answers as written (cell {_e(p.a.cell)})</caption>'
        f'<thead><tr><th scope="col">{_heading(a, p.a.submission)}</th>'
        f'<th scope="col">{_heading(b, p.b.submission)}</th></tr></thead>'
        f"<tbody><tr><td><pre><code>{_e(p.a.source)}</code></pre></td>"
        f"<td><pre><code>{_e(p.b.source)}</code></pre></td></tr></tbody></table></section>"
    )


def _table(caption: str, rows: list[str]) -> str:
    head = "".join(
        f'<th scope="col">{column}</th>'
        for column in ("Pair", "Student A", "Student B", "Exercise", "Task", "Similarity", "Kind")
    )
    return f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_html(pairs: list[Pair], found: Found, threshold: float, names: dict[str, str]) -> str:
    """The report page: the caveat, how it compares, the pairs (those unlike the course's solution
    first, at most ``SHOWN_PAIRS`` of each kind) and each shown pair's cells side by side."""
    left_out = ", ".join(f"{count} {reason}" for reason, count in sorted(found.left_out.items())) or "none"
    students = len({a.student for a in found.answers})
    groups = (
        ("Pairs unlike the course's solution", [p for p in pairs if not p.like_solution]),
        ("Pairs whose two answers are both close to the course's solution", [p for p in pairs if p.like_solution]),
    )
    tables, sections, number = [], [], 0
    for title, group in groups:
        shown = group[:SHOWN_PAIRS]
        rows = []
        for p in shown:
            number += 1
            rows.append(_row(number, p, names))
            sections.append(_side_by_side(number, p, names))
        more = f", the first {len(shown)} shown here (the CSV lists all)" if len(shown) < len(group) else ""
        caption = f"{title}: {len(group)}{more}; most similar first"
        tables.append(_table(caption, rows) if rows else f"<p>{title}: none.</p>")
    kinds = Counter(p.kind for p in pairs)
    summary = (
        f"<h2>{len(pairs)} pair{'s' * (len(pairs) != 1)} ({kinds['identical']} identical, {kinds['near']} near)</h2>"
        + "".join(tables)
        if pairs
        else f"<h2>No pairs</h2><p>No two students' answers reach the threshold of {threshold:.0%}.</p>"
    )
    skipped = "".join(f"<li>{_e(line)}</li>" for line in found.skipped)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
{HTML_TITLE}
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>Similar answers across students</h1>
<div class="note">
<p><strong>A list for a person to read, not a verdict.</strong> Nothing on this page changes a grade
and no penalty follows from it. The solution a lesson teaches can legitimately lead students to the
same code: pairs whose two answers are both that close to the course's own solution are listed apart.</p>
</div>
<h2>How answers were compared</h2>
<p>Each answer cell of each student ({students} students with answers compared) was normalized:
comments, docstrings and blank lines dropped, the names the student defined replaced by placeholders,
the lines of the exercise's stub left out; code that does not parse was compared as text. Answers equal
after that are <em>identical</em>; answers whose token sequences are at least {threshold:.0%} alike
(twice their longest common subsequence over their total length) are <em>near</em>. Left out: answers
identical to the stub or with fewer than {MIN_TOKENS} tokens of the student's own ({_e(left_out)}).</p>
{f"<p>Files left out:</p><ul>{skipped}</ul>" if skipped else ""}
{summary}
{f"<h2>The answers side by side</h2>{''.join(sections)}" if sections else ""}
</main>
</body>
</html>
"""


def similarity_main(
    submissions, solutions=None, roster=None, out="similarity.html", threshold: float = DEFAULT_THRESHOLD
) -> int:
    """``course similarity``: write the report and its CSV; 0 when written, 2 for bad input."""
    from .. import course_folder

    out = Path(out)
    if importlib.util.find_spec("rapidfuzz") is None:
        return _error("course similarity needs RapidFuzz: pip install -r requirements-instructors.txt")
    if not 0 < threshold <= 1:
        return _error(f"--threshold {threshold} is outside (0, 1]; give e.g. 0.9 for 90 % alike")
    if out.suffix.lower() not in (".html", ".htm"):
        return _error(f"--out {out}: give an .html file (the CSV is written beside it)")
    solutions_dir = Path(solutions) if solutions else course_folder("solutions")
    if not any(solutions_dir.glob("*.ipynb")):
        return _error(f"no solution notebooks in {solutions_dir}; give --solutions DIR")
    try:
        students = read_roster(roster) if roster else None
        collection = collect(submissions, students)
    except RosterError as err:
        return _error(str(err))
    files = [(s.student_id or str(s.path), s.path) for s in collection.submissions]
    files += [(str(path), path) for path in collection.unmatched]  # unmatched: compared, named by their path
    if not files:
        return _error("no notebooks found in the submissions given")
    csv_out = out.with_suffix(".csv")
    protected = {path.resolve() for _, path in files}
    for target in (out, csv_out):
        if target.resolve() in protected:
            return _error(f"{target} is one of the submissions; give another --out")
        if _not_ours(target):
            return _error(
                f"{target} exists and is not a similarity report; give another --out (the CSV is named after "
                "it) or move that file away"
            )
    found = read_answers(files, solutions_dir)
    for line in found.skipped:
        print(f"note: {line}", file=sys.stderr)
    pairs = similar_pairs(found.answers, threshold)
    names = {s.student_id: s.name for s in students or [] if s.name}
    out.parent.mkdir(parents=True, exist_ok=True)
    _replace(out, render_html(pairs, found, threshold, names))
    write_csv(pairs, csv_out)
    kinds = Counter(p.kind for p in pairs)
    print(
        f"{len(pairs)} pairs ({kinds['identical']} identical, {kinds['near']} near) among {len(files)} submissions; "
        f"report: {out}, table: {csv_out}. A list to read, not a verdict: see the page's note."
    )
    return 0


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


__all__ = ["Answer", "Pair", "normalize", "own_lines", "read_answers", "similar_pairs", "similarity_main"]
