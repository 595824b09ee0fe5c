"""The course's web site: ``course site`` (or ``make site``) builds ``build/site/`` with Jupyter Book 1.

The site is made from the committed, executed notebooks (nothing is executed or trained): the
README as the landing page, the lessons in order (``notebooks/NN_*.ipynb``, discovered), then
the exercises, the published solutions and the guides by reader (``docs/*.md``, ``GUIDES``'
order). Every notebook page says when and with which torch and Python it was executed
(``metadata.course.executed``, written by ``course lessons``), and each lesson page links to its
exercise notebook and its solution.

Nothing in notebooks/, exercises/ or solutions/ is touched: the pages are assembled in a staging
folder (``build/site-src/``), where

- published solutions lose their solution marker lines (their hidden tests are files of their
  own, ``solutions/hidden_tests/``, which the site never shows);
- cells hidden in Jupyter (``metadata.jupyter.source_hidden``) are folded on the page, and a widget
  (which needs a live kernel) becomes a line saying so;
- the relative links of the README and the guides point at the site's pages, or at the
  repository when the target is not a page (so a guide's links work on GitHub and on the site);
- the local pictures a notebook's markdown shows (``![alt](figures/x.png)``) are copied beside
  its page, so the site shows them (lesson 12's picture of its drawing pad is one);
- each figure gets the description its cell keeps (``course_tools.alt_text``): its ``text/html``
  copy, which the page shows, is an ``<img>`` with that alt (a bare PNG's alt is its file name).

The site works offline: the theme's scripts, styles and fonts come with the site, and so does
MathJax (its npm package, downloaded once into ``build/cache/`` and checked against a pinned
SHA-512), so a page requests nothing from another host. Launch buttons (Colab, Binder) and the
repository button appear when ``[tool.course] repository_url`` in pyproject.toml is set; while it
is empty they are left out, with a warning. A class site (``--no-solutions``) points at
``student_repository_url`` instead, the repository of the student copy (``course release``), never
at the course's own, which holds the solutions; while that is empty it has no buttons, no badges
and no links into a repository.

    course site                  # build build/site/ (open build/site/index.html)
    course site --out DIR        # elsewhere
    course site --no-solutions   # a class site: no solution pages and no link to them

``--no-solutions`` is for an instructor who publishes the site during the semester: the exercise
pages stay, the solution pages go, and so does every link to ``solutions/`` (the lessons' and the
exercises' links to their solutions, and those of the README and the guides, which keep their text).

The package, one job a module (``from course_tools.site import ...`` finds every public name here):

- `course_tools.site.pages`: what goes on the site and how each page is prepared (lesson order,
  guides, titles, the executed line, folded cells, static widgets, pictures, links);
- `course_tools.site.staging`: the staging folder, its pages and table of contents (`stage`);
- `course_tools.site.book`: the book's title, repository URL and Jupyter Book's configuration;
- `course_tools.site.mathjax`: MathJax, downloaded once, checked, unpacked and copied;
- `course_tools.site.accessibility`: the theme's controls made to say what they show;
- `course_tools.site.build`: the build, its reuse while nothing changed, and ``course site``.

A published solution is made by `course_tools.notebook_transforms.publish_solution`, the module
that owns the exercise markers.
"""

from .accessibility import ACCESSIBLE_NAMES, fix_accessible_names
from .book import BRANCH, TITLE, SiteError, book_config, repository_key, repository_url
from .build import SITE_ASSETS, build_site, inputs_digest, site_main
from .mathjax import MATHJAX, MATHJAX_PARTS, copy_mathjax, fetch_mathjax
from .pages import (
    GUIDES,
    WIDGET_NOTE,
    WIDGET_VIEW,
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
from .staging import stage

__all__ = [
    "ACCESSIBLE_NAMES",
    "BRANCH",
    "GUIDES",
    "MATHJAX",
    "MATHJAX_PARTS",
    "SITE_ASSETS",
    "TITLE",
    "WIDGET_NOTE",
    "WIDGET_VIEW",
    "SiteError",
    "book_config",
    "build_site",
    "container",
    "copy_mathjax",
    "executed_line",
    "exercise_pair",
    "fetch_mathjax",
    "fix_accessible_names",
    "guide_pages",
    "index_page",
    "inputs_digest",
    "lesson_notebooks",
    "markdown_images",
    "notebook_title",
    "prepare_page",
    "readme_page",
    "repository_key",
    "repository_url",
    "rewrite_links",
    "site_main",
    "solution_title",
    "stage",
]
