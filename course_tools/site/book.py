"""The book: its title, the repository it links to, and Jupyter Book's configuration (``_config.yml``)."""

from __future__ import annotations

import datetime
import tomllib
from pathlib import Path

TITLE = "CNNs on MNIST"
BRANCH = "main"  # the branch launch buttons and repository links point at


class SiteError(RuntimeError):
    """The site cannot be built (no Jupyter Book, MathJax not downloadable, Sphinx failed)."""


def repository_key(students: bool = False) -> str:
    """The ``[tool.course]`` key naming the repository a site points at (see `repository_url`)."""
    return "student_repository_url" if students else "repository_url"


def repository_url(root: Path, students: bool = False) -> str:
    """The repository the site's buttons and links point at ("" when unset: none): ``[tool.course]
    repository_url`` from pyproject.toml, or for a students' site (``--no-solutions``)
    ``student_repository_url``, the repository of the student copy (``course release``). Never the
    course's own there: it holds the solutions, one click from every page."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return ""
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return str(config.get("tool", {}).get("course", {}).get(repository_key(students), "")).strip().rstrip("/")


def book_config(repo: str, footer: str) -> dict:
    """Jupyter Book's ``_config.yml``: no execution, local MathJax, no CDN scripts, launch buttons iff ``repo``."""
    launch = {"colab_url": "https://colab.research.google.com", "binderhub_url": "https://mybinder.org"}
    return {
        "title": TITLE,
        "author": "the course's authors",
        "copyright": str(datetime.date.today().year),
        "only_build_toc_files": True,
        "execute": {"execute_notebooks": "off"},
        "parse": {"myst_enable_extensions": ["dollarmath", "amsmath", "colon_fence"]},
        "html": {
            "use_repository_button": bool(repo),
            "use_issues_button": False,
            "use_edit_page_button": False,
            "home_page_in_navbar": True,
            "extra_footer": footer,
        },
        "launch_buttons": dict(launch, notebook_interface="jupyterlab", thebe=False) if repo else {"thebe": False},
        "repository": {"url": repo, "branch": BRANCH, "path_to_book": ""} if repo else {},
        "latex": {"use_jupyterbook_latex": False},
        "sphinx": {
            "recursive_update": True,
            "config": {
                # _static is left to the theme: Jupyter Book would add every .js in a folder of that name
                # to every page, MathJax's hundreds of parts included.
                "html_static_path": ["_course_static"],
                "myst_heading_anchors": 3,  # the README's links to its own sections
                "html_css_files": ["course.css"],
                "mathjax_path": "mathjax/tex-chtml.js",  # relative to _static: served by the site
                "nb_ipywidgets_js": {},  # no widget manager from a CDN (widgets are static text here)
                # Jupyter Book's extensions less thebe (live code from a Binder, its script from unpkg)
                # and intersphinx (other sites' inventories).
                "extensions": [
                    "sphinx_togglebutton",
                    "sphinx_copybutton",
                    "myst_nb",
                    "jupyter_book",
                    "sphinx_comments",  # off (no hypothes.is, no utterances); Jupyter Book configures it
                    "sphinx_external_toc",
                    "sphinx_design",
                    "sphinx_book_theme",
                ],
                "html_theme_options": {"use_download_button": True, "use_fullscreen_button": False},
                # light: the figures have white backgrounds (and without a default the theme logs an error)
                "html_context": {"default_mode": "light"},
                "suppress_warnings": ["mystnb.unknown_mime_type"],
                "html_show_sourcelink": False,
            },
        },
    }
