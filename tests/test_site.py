"""course site: what goes on the site and how, without a browser (tests/test_site_browser.py opens it).

The staging step runs on the real course (lesson order, exercise links, published solutions);
two small sites are built from a toy course, with and without a repository URL, to check the
offline configuration and the launch buttons in the HTML itself.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import io
import os
import re
from html import escape
from pathlib import Path

import nbformat
import pytest

from course_tools import site
from course_tools.notebook_transforms import BEGIN_SOLUTION, END_SOLUTION

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "cache"  # MathJax, downloaded once for every build on this machine
REPO = "https://github.com/example/cnn-mnist-course"
# A 1x1 PNG: a notebook figure.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
    )
).decode()


# ---------------------------------------------------------------------------- the real course, staged
@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    staging = tmp_path_factory.mktemp("site") / "site-src"
    toc, warnings = site.stage(ROOT, staging, repo="")
    return staging, toc, warnings


def test_lessons_in_order_then_exercises_and_solutions(staged):
    staging, toc, _ = staged
    lessons = site.lesson_notebooks(ROOT)
    assert lessons == sorted(lessons) and lessons, "lessons are notebooks/NN_*.ipynb"
    captions = [part["caption"] for part in toc["parts"]]
    assert captions == ["Lessons", "Exercises", "Solutions", "Guides"]
    assert [c["file"] for c in toc["parts"][0]["chapters"]] == [f"notebooks/{p.stem}" for p in lessons]
    assert toc["root"] == "README" and (staging / "README.md").is_file()
    solutions = sorted((ROOT / "solutions").glob("[0-9]*.ipynb"))
    assert [c["file"] for c in toc["parts"][2]["chapters"]][1:] == [f"solutions/{p.stem}" for p in solutions]


def test_every_lesson_page_says_when_it_ran_and_links_its_exercises(staged):
    staging, _, _ = staged
    for lesson in site.lesson_notebooks(ROOT):
        page = nbformat.read(staging / "notebooks" / lesson.name, as_version=4)
        head = page.cells[0].source
        assert head.startswith("# "), f"{lesson.name}: the title stays first"
        assert site.executed_line(nbformat.read(lesson, as_version=4)) in head
        exercise, solution = site.exercise_pair(ROOT, lesson)
        for path in (exercise, solution):
            if path:
                assert f"../{path.parent.name}/{path.name}" in head
        assert page.metadata.get("widgets") is None


def test_published_solutions_have_no_hidden_tests(staged):
    staging, _, _ = staged
    for solution in sorted((ROOT / "solutions").glob("[0-9]*.ipynb")):
        text = (staging / "solutions" / solution.name).read_text(encoding="utf-8")
        for marker in (BEGIN_SOLUTION, END_SOLUTION):
            assert marker not in text, f"{solution.name} still has {marker!r}"
        page = nbformat.reads(text, as_version=4)
        title = next(c.source for c in page.cells if c.cell_type == "markdown").split("\n")[0]
        assert title == "# " + site.solution_title(site.notebook_title(solution)), "a solution page says it is one"
    assert site.solution_title("Exercises 1: First") == "Solutions 1: First"
    assert site.solution_title("Practice") == "Practice (solutions)"


def test_readme_links_point_at_the_site(staged):
    staging, _, warnings = staged
    readme = (staging / "README.md").read_text(encoding="utf-8")
    first = site.lesson_notebooks(ROOT)[0].name
    if f"(notebooks/{first})" in (ROOT / "README.md").read_text(encoding="utf-8"):
        assert f"(notebooks/{first})" in readme
    assert "](exercises/)" not in readme and "](solutions/)" not in readme
    for link in re.findall(r"\]\(([^)#]+)", readme):
        if not link.startswith("http"):
            assert (staging / link).is_file(), f"the README's link to {link} has no page"
    assert isinstance(warnings, list)


def test_the_guides_come_after_the_lessons_and_their_links_work_on_the_site(staged):
    staging, toc, _ = staged
    guides = site.guide_pages(ROOT)
    assert [g.stem for g in guides][:2] == ["students", "instructors"], "the guides in site.GUIDES' order"
    assert toc["parts"][-1] == {"caption": "Guides", "chapters": [{"file": f"docs/{g.stem}"} for g in guides]}
    for guide in guides:
        text = (staging / "docs" / guide.name).read_text(encoding="utf-8")
        for link in re.findall(r"\]\(([^)#]+)", text):
            if not link.startswith("http"):
                assert (staging / "docs" / link).is_file(), f"{guide.name}'s link to {link} has no page"
    assert "(docs/students.md)" in (staging / "README.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- pieces
def notebook(*cells, **metadata):
    made = nbformat.v4.new_notebook(cells=list(cells))
    made.metadata.update(metadata)
    return made


def test_pictures_in_the_lessons_markdown_go_with_their_pages(staged):
    """A lesson that shows a committed picture (lesson 12's drawing pad) has it on the site too."""
    staging, _, warnings = staged
    shown = {p.name: site.markdown_images(nbformat.read(p, as_version=4)) for p in site.lesson_notebooks(ROOT)}
    assert "figures/12_drawpad.png" in shown["12_draw_your_own_digit.ipynb"]
    for name, images in shown.items():
        for image in images:
            assert (staging / "notebooks" / image).is_file(), f"{name} shows {image}, which is not staged"
    assert not [w for w in warnings if "image" in w], warnings


def test_staged_figures_carry_their_cells_descriptions(staged):
    """Each lesson figure's page output is its HTML copy, an <img> whose alt is its cell's description."""
    from course_tools.alt_text import image_outputs

    staging, _, _ = staged
    for lesson in site.lesson_notebooks(ROOT):
        page = nbformat.read(staging / "notebooks" / lesson.name, as_version=4)
        for cell in page.cells:
            alts = cell.metadata.get("course", {}).get("alt")
            for number, (output, _) in enumerate(image_outputs(cell)):
                if isinstance(alts, list) and number < len(alts):  # test_figure_alt.py fails where words are missing
                    words = escape(" ".join(alts[number].split()), quote=True)
                    assert output["data"]["text/html"].endswith(f'alt="{words}">'), f"{lesson.name}: {alts[number]}"


def test_markdown_images_finds_local_pictures_only():
    page = notebook(
        nbformat.v4.new_markdown_cell('![a pad](figures/pad.png "title") and <img src="figures/b.png" alt="b">'),
        nbformat.v4.new_markdown_cell("![remote](https://example.org/x.png) [a link](figures/c.png)"),
        nbformat.v4.new_code_cell("# ![not markdown](figures/d.png)"),
    )
    assert site.markdown_images(page) == ["figures/pad.png", "figures/b.png"]


def test_executed_line():
    executed = {"date": "2026-11-26", "torch": "2.14.1", "python": "3.11.7", "cpu_capability": "AVX512"}
    line = site.executed_line(notebook(course={"executed": executed}))
    assert line == "Executed 2026-11-26 · torch 2.14.1 · Python 3.11.7 · CPU AVX512."
    assert "not recorded" in site.executed_line(notebook())
    assert "torch not recorded" in site.executed_line(notebook(course={"executed": {"date": "2026-11-26"}}))


def test_lessons_command_records_what_executed_it():
    from course_tools.lessons import execution_record

    record = execution_record()
    assert set(record) >= {"date", "torch", "python"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", record["date"])


@pytest.mark.kernel
def test_course_lessons_writes_the_record_into_the_notebook(tmp_path):
    from course_tools import cli

    path = tmp_path / "lesson.ipynb"
    made = notebook(nbformat.v4.new_code_cell("x = 1"), course={"introduces": ["ReLU"]})
    made.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(made, path)
    assert cli.main(["lessons", str(path)]) == 0
    course = nbformat.read(path, as_version=4).metadata["course"]
    assert course["introduces"] == ["ReLU"]  # kept
    assert set(course["executed"]) >= {"date", "torch", "python"}
    assert site.executed_line(nbformat.read(path, as_version=4)).startswith(f"Executed {course['executed']['date']}")


def test_widgets_become_static_and_hidden_sources_fold():
    cell = nbformat.v4.new_code_cell("pad = cu.DrawingPad()")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/plain": "DrawingPad()", site.WIDGET_VIEW: {"model_id": "abc"}}
        )
    ]
    check = nbformat.v4.new_code_cell("checks()", metadata={"jupyter": {"source_hidden": True}})
    page = site.prepare_page(
        notebook(nbformat.v4.new_markdown_cell("# Lesson 1 — Title\n\nText."), cell, check, widgets={"state": {}}),
        ["INFO"],
    )
    assert page.cells[0].source == "# Lesson 1 — Title\n\nINFO\n\n\nText."
    assert page.cells[1].outputs[0]["data"] == {"text/plain": site.WIDGET_NOTE}
    assert "hide-input" in page.cells[2].metadata["tags"]
    assert "widgets" not in page.metadata


def test_rewrite_links(tmp_path):
    (tmp_path / "course_tools").mkdir()
    (tmp_path / "course_tools" / "exercises.py").write_text("")
    pages = {"notebooks/01_a.ipynb", "exercises/index.md"}
    text = (
        "[one](notebooks/01_a.ipynb) [ex](exercises/) [code](course_tools/exercises.py) [up](#top) [w](https://x.org)"
    )
    with_repo, _ = site.rewrite_links(text, "README.md", pages, tmp_path, REPO)
    assert with_repo == (
        f"[one](notebooks/01_a.ipynb) [ex](exercises/index.md) [code]({REPO}/blob/main/course_tools/exercises.py) "
        "[up](#top) [w](https://x.org)"
    )
    without, warnings = site.rewrite_links(text, "README.md", pages, tmp_path, "")
    assert "[code]" not in without and " code " in without and len(warnings) == 1


def test_repository_url_is_read_from_pyproject(tmp_path):
    assert site.repository_url(tmp_path) == ""
    (tmp_path / "pyproject.toml").write_text(f'[tool.course]\nrepository_url = "{REPO}/"\n')
    assert site.repository_url(tmp_path) == REPO


STUDENT_REPO = "https://github.com/example/cnn-mnist-student"


def test_a_class_site_points_at_the_student_copy_never_at_the_course(tmp_path, monkeypatch):
    """``--no-solutions``: buttons, links and badges name ``student_repository_url``, or nothing."""
    from course_tools import colab
    from course_tools.site import build

    root = toy_course(tmp_path / "course", REPO)
    assert site.repository_url(root) == REPO and site.repository_url(root, students=True) == ""
    badges = f"{colab.BADGES[0]}\n{colab.readme_badges(REPO)}\n{colab.BADGES[1]}\n"
    (root / "README.md").write_text(f"# CNNs on MNIST\n\n{badges}\nSee [the checks](course_tools/cli.py).\n")
    (root / "course_tools").mkdir()
    (root / "course_tools" / "cli.py").write_text("")
    used = []

    def stage(*args, **kwargs):  # what build_site gives the pages: the repository they link to
        used.append(args[2])
        raise site.SiteError("staged")

    monkeypatch.setattr(build, "stage", stage)
    monkeypatch.setitem(__import__("sys").modules, "jupyter_book", object())  # build_site checks it is there
    for students in (False, True):
        with pytest.raises(site.SiteError, match="staged"):
            site.build_site(root, tmp_path / "out", solutions=not students)
    assert used == [REPO, ""]
    config = site.book_config("", "")  # no repository: no repository button, no launch button
    assert config["repository"] == {} and not config["html"]["use_repository_button"]
    assert config["launch_buttons"] == {"thebe": False}

    with open(root / "pyproject.toml", "a") as f:
        f.write(f'student_repository_url = "{STUDENT_REPO}/"\n')
    assert site.repository_url(root, students=True) == STUDENT_REPO
    monkeypatch.undo()
    site.stage(root, tmp_path / "staged", STUDENT_REPO, with_solutions=False)
    readme = (tmp_path / "staged" / "README.md").read_text()
    assert "example/cnn-mnist-course" not in readme
    assert "mybinder.org/v2/gh/example/cnn-mnist-student/main" in readme
    assert f"({STUDENT_REPO}/blob/main/course_tools/cli.py)" in readme


def test_mathjax_download_failure_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setitem(site.MATHJAX, "url", "http://127.0.0.1:9/mathjax.tgz")  # nothing listens on port 9
    with pytest.raises(site.SiteError, match=r"cannot download MathJax.*put it at .*mathjax-3\.2\.2\.tgz"):
        site.fetch_mathjax(tmp_path)


def test_a_mathjax_tarball_with_the_wrong_checksum_is_refused(tmp_path):
    (tmp_path / f"mathjax-{site.MATHJAX['version']}.tgz").write_bytes(b"not mathjax")
    with pytest.raises(site.SiteError, match="is not MathJax"):
        site.fetch_mathjax(tmp_path)


# ---------------------------------------------------------------------------- toy sites, built
FIGURE_WORDS = [
    "One white pixel on a dark ground: the smallest picture a figure can be, shown first.",
    'The same pixel again, "quoted" & described <differently>, so the two images differ.',
]


def toy_course(root: Path, repo: str) -> Path:
    for folder in ("notebooks", "exercises", "solutions"):
        (root / folder).mkdir(parents=True)
    figure = nbformat.v4.new_code_cell("plot()")
    figure.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})] * 2
    figure.metadata["course"] = {"alt": FIGURE_WORDS}  # the site applies them: the outputs here have no copy yet
    executed = {"course": {"executed": {"date": "2026-11-26", "torch": "2.14.1", "python": "3.11.7"}}}
    for number, title in ((1, "First"), (2, "Second")):
        lesson = notebook(
            nbformat.v4.new_markdown_cell(
                f"# Lesson {number} — {title}\n\nThe loss $L = -\\log p_y$ and\n\n$$z = Wx + b$$"
            ),
            figure,
            **executed,
        )
        nbformat.write(lesson, root / "notebooks" / f"0{number}_{title.lower()}.ipynb")
    solution = notebook(
        nbformat.v4.new_markdown_cell("# Exercises 1: First"),
        nbformat.v4.new_code_cell(f"x = 1\n{BEGIN_SOLUTION}\nassert x == 1\n{END_SOLUTION}"),
        **executed,
    )
    nbformat.write(solution, root / "solutions" / "01_first_exercises.ipynb")
    nbformat.write(solution, root / "exercises" / "01_first_exercises.ipynb")
    (root / "README.md").write_text("# CNNs on MNIST\n\nStart with [lesson 1](notebooks/01_first.ipynb).\n")
    (root / "docs").mkdir()
    (root / "docs" / "students.md").write_text("# For students\n\nRead [lesson 1](../notebooks/01_first.ipynb).\n")
    (root / "pyproject.toml").write_text(f'[tool.course]\nrepository_url = "{repo}"\n')
    return root


def build_toy(folder: Path, repo: str) -> tuple[Path, str]:
    """The toy course's site, built in ``folder`` with ``repo`` as its repository URL, and what the build printed."""
    if importlib.util.find_spec("jupyter_book") is None:
        reason = "jupyter_book is not installed (pip install -r requirements-site.txt)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        site.fetch_mathjax(CACHE)
    except site.SiteError as err:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(str(err))
    root = toy_course(folder / "course", repo)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        out = site.build_site(root, root / "build" / "site", cache=CACHE)
    return out, printed.getvalue()


@pytest.fixture(scope="module")
def toy_site(tmp_path_factory) -> tuple[Path, str]:
    """The toy site with a repository URL, built once for the two tests that read it."""
    return build_toy(tmp_path_factory.mktemp("with"), REPO)


def html_pages(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text(encoding="utf-8") for p in out.rglob("*.html")}


def test_the_built_site_needs_no_other_host(toy_site):
    out, printed = toy_site
    pages = html_pages(out)
    assert {"README.html", "notebooks/01_first.html", "notebooks/02_second.html"} <= set(pages)
    for name, html in pages.items():
        for tag in re.findall(r"<(?:script|link)\b[^>]*>", html):
            assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", tag), f"{name} loads from another host: {tag}"
        for cdn in ("unpkg.com", "jsdelivr", "cdnjs", "googleapis", "require.js"):
            assert cdn not in html, f"{name} mentions {cdn}"
    lesson = pages["notebooks/01_first.html"]
    assert 'src="../_static/mathjax/tex-chtml.js' in lesson
    assert (out / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert (out / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    assert "Executed 2026-11-26 · torch 2.14.1 · Python 3.11.7." in lesson
    assert "BEGIN SOLUTION" not in pages["solutions/01_first_exercises.html"]
    assert "assert x == 1" in pages["solutions/01_first_exercises.html"]  # a solution page shows the solution
    assert 'href="notebooks/01_first.html"' in pages["README.html"]
    assert 'href="../notebooks/01_first.html"' in pages["docs/students.html"]  # a guide's link, as on GitHub
    # every figure's <img> says what it shows, in output order (not its file name)
    images = re.findall(r"<img\b[^>]*>", lesson.split("<article", 1)[1])
    assert [re.search(r'alt="([^"]*)"', i).group(1) for i in images] == [escape(w) for w in FIGURE_WORDS]
    assert "repository_url" not in printed  # no warning: the URL is set


def test_launch_buttons_iff_the_repository_url_is_set(toy_site, tmp_path):
    out, _ = toy_site
    lesson = html_pages(out)["notebooks/01_first.html"]
    assert (
        "https://colab.research.google.com/github/example/cnn-mnist-course/blob/main/notebooks/01_first.ipynb" in lesson
    )
    assert "https://mybinder.org/v2/gh/example/cnn-mnist-course/main" in lesson
    assert f'href="{REPO}"' in lesson  # the repository button

    out, printed = build_toy(tmp_path / "without", "")
    for name, html in html_pages(out).items():
        assert "colab.research.google.com" not in html and "mybinder" not in html, name
        assert "github.com" not in html, name
    assert "repository_url in pyproject.toml is empty" in printed
