"""``course similarity``: answers alike across students, listed as pairs for a person to read.

A small class answers exercise 3 (shape arithmetic); no kernel runs, the code is only read.
"""

import csv
import html
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from course_tools import cli
from course_tools.grading import similarity
from course_tools.grading.similarity import (
    MIN_TOKENS,
    Answer,
    anonymous,
    normalize,
    similar_pairs,
)

REPO = Path(__file__).resolve().parents[1]
EXERCISE = REPO / "exercises" / "03_shape_arithmetic_exercises.ipynb"

SHAPES = """\
def feature_shapes(kernel_size, padding, image=28):
    out = []
    side = image
    for ch in [10, 20]:
        side = conv_output_size(side, kernel_size, padding=padding)
        out.append((ch, side, side))
        side = side // 2
        out.append((ch, side, side))
    return out


def flat_features(kernel_size, padding):
    last = feature_shapes(kernel_size, padding)[-1]
    return last[0] * last[1] * last[2]
"""

RENAMED = '''\
def feature_shapes(kernel_size, padding, image=28):
    """My own docstring."""
    # a comment of my own
    result   = []

    n = image  # the side of the square image
    for c in [10, 20]:
        n = conv_output_size(n, kernel_size, padding=padding)
        result.append((c, n, n))
        n = n // 2   # pooling halves it
        result.append((c, n, n))
    return result

def flat_features(kernel_size, padding):
    final = feature_shapes(kernel_size, padding)[-1]
    return final[0] * final[1] * final[2]
'''

ONE_LINE_CHANGED = SHAPES.replace("side = side // 2", "side = conv_output_size(side, 2, stride=2)")

DIFFERENT = """\
def feature_shapes(kernel_size, padding, image=28):
    conv1 = image + 2 * padding - kernel_size + 1
    pool1 = conv1 // 2
    conv2 = pool1 + 2 * padding - kernel_size + 1
    pool2 = conv2 // 2
    return [(10, conv1, conv1), (10, pool1, pool1), (20, conv2, conv2), (20, pool2, pool2)]


def flat_features(kernel_size, padding):
    import math
    return math.prod(feature_shapes(kernel_size, padding)[3])
"""

HOSTILE = """\
def receptive_field(layers):
    note = "</td><script>alert(1)</script>"
    field, jump = 1, 1
    for kernel, stride in layers:
        field += (kernel - 1) * jump
        jump *= stride
    return field
"""

CLASS = {  # student id -> {answer cell id: code}; s1005 hands in the exercise untouched
    "s1001": {"task2-answer": SHAPES, "task4-answer": HOSTILE},
    "s1002": {"task2-answer": RENAMED, "task4-answer": HOSTILE.replace("field", "f").replace("jump", "j")},
    "s1003": {"task2-answer": ONE_LINE_CHANGED},
    "s1004": {"task2-answer": DIFFERENT},
    "s1005": {},
    "s1006": {"task1-answer": "def conv_output_size(size, kernel_size, stride=1, padding=0):\n    return size - 1"},
    "s1007": {"task1-answer": "def conv_output_size(size, kernel_size, stride=1, padding=0):\n    return size - 1"},
}
NAMES = {"s1001": "Ada <b>Quill</b>"}


def submit(folder: Path, answers: dict) -> Path:
    notebook = nbformat.read(EXERCISE, as_version=4)
    for cell in notebook.cells:
        if cell.get("id") in answers:
            cell.source = answers[cell["id"]]
    folder.mkdir(parents=True)
    path = folder / EXERCISE.name
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The class's report: (exit status, the page, the CSV's rows, the submissions folder)."""
    root = tmp_path_factory.mktemp("similarity")
    for student, answers in CLASS.items():
        submit(root / "submissions" / student, answers)
    roster = root / "roster.csv"
    lines = [f"{s},{NAMES.get(s, 'Student ' + s)},{s}@example.edu,A" for s in CLASS]
    roster.write_text("student_id,name,email,section\n" + "\n".join(lines) + "\n", encoding="utf-8")
    out = root / "report" / "similarity.html"
    status = cli.main(["similarity", str(root / "submissions"), "--roster", str(roster), "--out", str(out)])
    with open(out.with_suffix(".csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return status, out.read_text(encoding="utf-8"), rows, root / "submissions"


def pair(rows, a, b, cell):
    found = [r for r in rows if {r["student_a"], r["student_b"]} == {a, b} and r["cell"] == cell]
    return found[0] if found else None


def test_renamed_names_changed_comments_and_layout_are_identical(report):
    status, _, rows, _ = report
    assert status == 0
    row = pair(rows, "s1001", "s1002", "task2-answer")
    assert row["kind"] == "identical" and float(row["similarity"]) == 1.0
    assert row["exercise"] == "shape_arithmetic" and row["task"] == "2"
    assert normalize(SHAPES) == normalize(RENAMED)


def test_one_changed_line_is_near(report):
    rows = report[2]
    assert pair(rows, "s1001", "s1003", "task2-answer")["kind"] == "near"
    assert pair(rows, "s1002", "s1003", "task2-answer")["kind"] == "near"
    assert 0.9 <= float(pair(rows, "s1001", "s1003", "task2-answer")["similarity"]) < 1


def test_a_different_approach_the_stub_and_short_answers_are_not_listed(report):
    rows = report[2]
    listed = {r["student_a"] for r in rows} | {r["student_b"] for r in rows}
    assert "s1004" not in listed  # another approach
    assert "s1005" not in listed  # the exercise as handed out: every cell its stub
    assert "s1006" not in listed and "s1007" not in listed  # identical, but under MIN_TOKENS of their own
    assert len(rows) == 4  # the task-2 trio and the task-4 pair


def test_pairs_close_to_the_course_s_solution_are_told_apart(report):
    _, page, rows, _ = report
    assert pair(rows, "s1001", "s1002", "task4-answer")["like_solution"] == "yes"  # the solution, renamed
    assert pair(rows, "s1001", "s1002", "task2-answer")["like_solution"] == "no"
    unlike, like = page.index("Pairs unlike the course's solution: 3;"), page.index("the course's solution: 1;")
    assert unlike < like


def test_the_page_shows_at_most_so_many_pairs_and_says_so(monkeypatch):
    def answer(student):
        return Answer(student, student, "ex", 1, "c", "code", ("x",) * MIN_TOKENS, ("x",) * MIN_TOKENS)

    monkeypatch.setattr(similarity, "SHOWN_PAIRS", 2)
    pairs = similar_pairs([answer(f"s{i}") for i in range(4)])
    page = similarity.render_html(pairs, similarity.Found([], [], Counter()), 0.9, {})
    assert len(pairs) == 6 and page.count("<section") == 2
    assert "Pairs unlike the course's solution: 6, the first 2 shown here (the CSV lists all)" in page
    assert "both close to the course's solution: none." in page


def test_the_page_says_no_penalty_and_shows_both_cells_escaped(report):
    _, page, rows, _ = report
    assert "not a verdict" in page and "no penalty" in page
    assert "<script" not in page.lower() and "://" not in page  # no script, nothing fetched from elsewhere
    assert html.escape('note = "</td><script>alert(1)</script>"') in page
    assert "Ada &lt;b&gt;Quill&lt;/b&gt; (s1001)" in page  # a name from the roster, escaped too
    assert page.count("<section") == len(rows)
    assert '<th scope="col">Similarity</th>' in page and "<caption>" in page
    assert html.escape("n = n // 2   # pooling halves it") in page  # the cells as the students wrote them


def test_the_submissions_are_left_untouched(report, tmp_path):
    folder = report[3]
    for student, answers in CLASS.items():
        expected = submit(tmp_path / student, answers).read_bytes()
        assert (folder / student / EXERCISE.name).read_bytes() == expected


def test_code_that_does_not_parse_is_compared_as_text():
    broken = "def f(x:\n    return   x  +  1\n"
    assert normalize(broken) == normalize("def f(x:\n\n        return x + 1")
    assert normalize(broken) != normalize("def f(y:\n    return y + 1\n")  # no AST: names are not renamed


def test_a_new_variable_does_not_make_every_later_name_differ():
    more = "def f(a):\n    unused = 0\n    b = a + 1\n    c = b * 2\n    return c + b + a\n"
    less = "def f(a):\n    b = a + 1\n    c = b * 2\n    return c + b + a\n"
    shape = [anonymous(tokens) for _, tokens in normalize(more)]
    assert shape[2:] == [anonymous(tokens) for _, tokens in normalize(less)][1:]


def test_identical_answers_are_compared_once_and_every_pair_listed():
    def answer(student, tokens):
        return Answer(student, student, "ex", 1, "c", "", tokens, anonymous(tokens))

    same = tuple(f"t{i}" for i in range(MIN_TOKENS * 2))
    answers = [answer(f"s{i}", same) for i in range(5)] + [answer("other", tuple(reversed(same)))]
    pairs = similar_pairs(answers)
    assert len(pairs) == 10 and {p.kind for p in pairs} == {"identical"}


@pytest.mark.parametrize(
    ("option", "message"),
    [(["--threshold", "1.5"], "outside (0, 1]"), (["--out", "report.csv"], "give an .html file")],
)
def test_bad_options_get_one_line(tmp_path, capsys, option, message):
    path = submit(tmp_path / "s1", {})
    assert cli.main(["similarity", str(path), *option]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_a_report_over_a_submission_is_refused(tmp_path, capsys):
    path = submit(tmp_path / "s1", {})
    renamed = path.rename(path.with_suffix(".html"))  # a student's file where the report would go
    before = renamed.read_bytes()
    assert cli.main(["similarity", str(renamed), "--out", str(renamed)]) == 2
    assert "is one of the submissions" in capsys.readouterr().err
    assert renamed.read_bytes() == before


def test_a_csv_or_page_it_did_not_write_is_refused_and_its_own_rewritten(tmp_path, capsys):
    submit(tmp_path / "subs" / "s1", {})
    sheet = tmp_path / "written_answers.csv"  # the hand scores, beside where --out would put the CSV
    sheet.write_text("student_id,submission,exercise,task,question,answer,score\ns1,a,b,3,q,a,0.5\n")
    page = tmp_path / "notes.html"
    page.write_text("<p>my notes</p>")
    for target, kept in ((tmp_path / "written_answers.html", sheet), (page, page)):
        before = kept.read_bytes()
        assert cli.main(["similarity", str(tmp_path / "subs"), "--out", str(target)]) == 2
        error = capsys.readouterr().err
        assert "exists and is not a similarity report" in error and error.count("\n") == 1
        assert kept.read_bytes() == before
    assert not (tmp_path / "written_answers.html").exists()
    out = tmp_path / "report" / "similarity.html"
    assert cli.main(["similarity", str(tmp_path / "subs"), "--out", str(out)]) == 0
    assert cli.main(["similarity", str(tmp_path / "subs"), "--out", str(out)]) == 0  # its own: written over
    assert out.with_suffix(".csv").read_text(encoding="utf-8").startswith("student_a,student_b,")
