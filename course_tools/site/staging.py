"""The staging folder (``build/site-src/``): the site's pages, written from the course's notebooks and
guides without touching them, and its table of contents."""

from __future__ import annotations

import json
import posixpath
import shutil
from pathlib import Path

import nbformat

from .. import alt_text
from ..colab import BADGES, readme_badges, with_badges
from ..notebook_transforms import publish_solution
from .book import TITLE, SiteError
from .pages import (
    container,
    executed_line,
    exercise_pair,
    guide_pages,
    index_page,
    lesson_notebooks,
    markdown_images,
    notebook_title,
    prepare_page,
    readme_page,
    rewrite_links,
    solution_title,
)


def stage(root: Path, staging: Path, repo: str, with_solutions: bool = True) -> tuple[dict, list[str]]:
    """Write the site's sources into ``staging``: pages, table of contents. Returns (toc, warnings).

    Without ``with_solutions``: no solution page, and no link to ``solutions/`` (``--no-solutions``);
    ``repo`` is then the student copy's repository, and the README's badges open it."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    warnings = []
    lessons = lesson_notebooks(root)
    if not lessons:
        raise SiteError(f"no lessons in {root / 'notebooks'}")
    solutions = sorted((root / "solutions").glob("[0-9]*.ipynb"))
    exercises = [root / "exercises" / s.name for s in solutions if (root / "exercises" / s.name).is_file()]
    withheld = () if with_solutions else ("solutions",)
    if not with_solutions:
        solutions = []  # the exercises above are still those of the solutions

    def write(relative: str, notebook: nbformat.NotebookNode) -> None:
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        alt_text.apply_alt(notebook)  # the figures' descriptions, even where the committed outputs lag
        nbformat.write(notebook, target)
        copy_images(notebook, relative)

    def copy_images(notebook: nbformat.NotebookNode, relative: str) -> None:
        """A picture in the markdown of page ``relative`` goes with its page."""
        for image in markdown_images(notebook):
            source = root / posixpath.dirname(relative) / image
            target = staging / posixpath.dirname(relative) / image
            if source.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
            else:
                warnings.append(f"{relative}: the image {image} does not exist")

    for lesson in lessons:
        notebook = nbformat.read(lesson, as_version=4)
        info = [container("course-executed", executed_line(notebook))]
        exercise, solution = exercise_pair(root, lesson)
        links = []
        if exercise:
            links.append(f"[the exercise notebook](../exercises/{exercise.name})")
        if solution and with_solutions:
            links.append(f"[its solution](../solutions/{solution.name})")
        if links:
            info.append(container("course-exercises", "**Exercises:** " + " and ".join(links) + "."))
        write(f"notebooks/{lesson.name}", prepare_page(notebook, info))
    for path in exercises:
        notebook = nbformat.read(path, as_version=4)
        line = "Not executed: an exercise notebook to download (⬇ above) and complete."
        info = [container("course-executed", line)]
        if with_solutions:
            ran = executed_line(nbformat.read(root / "solutions" / path.name, as_version=4))
            info[0] = container("course-executed", f"{line} Its solution: {ran[0].lower()}{ran[1:]}")
            title = solution_title(notebook_title(root / "solutions" / path.name))
            info.append(container("course-exercises", f"**Solution:** [{title}](../solutions/{path.name})."))
        write(f"exercises/{path.name}", prepare_page(notebook, info))
    for path in solutions:
        notebook = publish_solution(nbformat.read(path, as_version=4))
        info = [container("course-executed", executed_line(notebook))]
        if (root / "exercises" / path.name).is_file():
            exercise = f"**Exercises:** [{notebook_title(root / 'exercises' / path.name)}](../exercises/{path.name})."
            info.append(container("course-exercises", exercise))
        write(f"solutions/{path.name}", prepare_page(notebook, info, retitle=solution_title))

    exercise_pages = [(notebook_title(p), p.name) for p in exercises]
    solution_pages = [(solution_title(notebook_title(p)), p.name) for p in solutions]
    (staging / "exercises" / "index.md").write_text(
        index_page(
            "Exercises",
            "Every lesson has an exercise notebook: download it (the ⬇ button on its page) or open it in "
            "Jupyter, replace each `# YOUR CODE HERE`, and run the check below it.",
            exercise_pages,
        ),
        encoding="utf-8",
    )
    if with_solutions:
        (staging / "solutions" / "index.md").write_text(
            index_page("Solutions", "Complete, executed solutions of the exercises.", solution_pages), encoding="utf-8"
        )
    pages = {f"notebooks/{p.name}" for p in lessons} | {"exercises/index.md"}
    pages |= {"solutions/index.md"} if with_solutions else set()
    pages |= {f"exercises/{p.name}" for p in exercises} | {f"solutions/{p.name}" for p in solutions}
    guides = guide_pages(root)
    pages |= {"README.md"} | {f"docs/{p.name}" for p in guides}
    for guide in guides:
        text, link_warnings = rewrite_links(
            guide.read_text(encoding="utf-8"), f"docs/{guide.name}", pages, root, repo, withheld
        )
        warnings += link_warnings
        (staging / "docs").mkdir(exist_ok=True)
        (staging / "docs" / guide.name).write_text(text, encoding="utf-8")
        copy_images(readme_page(text), f"docs/{guide.name}")
    readme = (root / "README.md").read_text(encoding="utf-8") if (root / "README.md").is_file() else f"# {TITLE}\n"
    if not with_solutions and BADGES[0] in readme and BADGES[1] in readme:
        readme = with_badges(readme, readme_badges(repo))  # the README's point at the course's repository
    readme, link_warnings = rewrite_links(readme, "README.md", pages, root, repo, withheld)
    warnings += link_warnings
    built = "This site shows the lessons as they were last executed; each page says when and with which versions."
    (staging / "README.md").write_text(readme.rstrip("\n") + "\n\n" + container("course-executed", built) + "\n")
    copy_images(readme_page(readme), "README.md")

    def chapters(folder: str, paths: list[Path]) -> list[dict]:
        return [{"file": f"{folder}/{p.stem}"} for p in paths]

    toc = {
        "format": "jb-book",
        "root": "README",
        "parts": [
            {"caption": "Lessons", "chapters": chapters("notebooks", lessons)},
            {"caption": "Exercises", "chapters": [{"file": "exercises/index"}] + chapters("exercises", exercises)},
            {"caption": "Solutions", "chapters": [{"file": "solutions/index"}] + chapters("solutions", solutions)},
        ],
    }
    if not with_solutions:
        toc["parts"] = [part for part in toc["parts"] if part["caption"] != "Solutions"]
    if guides:
        toc["parts"].append({"caption": "Guides", "chapters": chapters("docs", guides)})
    (staging / "_toc.yml").write_text(json.dumps(toc, indent=1) + "\n")  # JSON is YAML
    return toc, warnings
