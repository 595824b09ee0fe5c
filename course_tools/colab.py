"""The Colab set-up cell: one generated cell right after each notebook's ``parameters`` cell.

On Colab (``"google.colab" in sys.modules``) the cell installs the course package, at the version
``pyproject.toml`` names, from the repository that ``[tool.course] repository_url`` names. Colab's
own PyTorch stays: the package lists its dependencies without versions, so pip keeps what Colab
has. The data then downloads into ``./data`` on first use, as on any machine without a checkout.
Anywhere else the cell does nothing, so lessons, papermill and nbval runs are unchanged.

    course colab        # write the current cell into every lesson and solution, then `course exercises`

It also writes the README's Colab and Binder badges (between the badge markers) from the same URL.

tests/test_colab.py checks that every notebook carries the current cell and what it would run.
"""

import copy
import sys
import tomllib
from pathlib import Path

import nbformat

from . import named_or_every_notebook, repo_root

TAG = "colab-setup"
# Collapsed, as the lessons' check cells are: set-up is not what a student came to read.
CELL_METADATA = {"jupyter": {"source_hidden": True}, "tags": [TAG]}
PACKAGE = "cnn-mnist-course"


def course_config(root: Path | None = None) -> dict:
    """``version`` and ``repository_url`` from pyproject.toml (the one place they are set)."""
    pyproject = tomllib.loads(((root or repo_root()) / "pyproject.toml").read_text())
    return {
        "version": pyproject["project"]["version"],
        "repository_url": pyproject.get("tool", {}).get("course", {}).get("repository_url", "").rstrip("/"),
    }


def install_requirement(repository_url: str, version: str) -> str:
    """What pip installs on Colab: the release tag ``v<version>`` of the course's repository."""
    return f"{PACKAGE} @ git+{repository_url}@v{version}"


def setup_cell_source(repository_url: str, version: str) -> str:
    header = (
        "# Set-up for Colab: installs the course's helper package there; on your own machine it does nothing.\n"
        "import sys\n\n"
        'if "google.colab" in sys.modules:\n'
    )
    if not repository_url:
        return header + (
            "    raise RuntimeError(\n"
            '        "This copy of the course is not set up for Colab yet: please run the notebooks on your "\n'
            '        "own machine (the README says how), or ask your instructor for the course\'s Colab link."\n'
            "    )"
        )
    return header + (
        "    import subprocess\n\n"
        f'    course = "{install_requirement(repository_url, version)}"\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", course], check=True)'
    )


def with_setup_cell(nb: nbformat.NotebookNode, source: str) -> bool:
    """Put the set-up cell right after the parameters cell (replacing an older one); True if changed."""
    old = [i for i, c in enumerate(nb.cells) if TAG in c.metadata.get("tags", [])]
    if (
        len(old) == 1
        and nb.cells[old[0]].source == source
        and nb.cells[old[0]].metadata == CELL_METADATA
        and "parameters" in nb.cells[old[0] - 1].metadata.get("tags", [])
    ):
        return False
    for i in reversed(old):
        del nb.cells[i]
    params = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    if not params:
        raise ValueError("the notebook has no cell tagged 'parameters' to put the Colab set-up cell after")
    cell = nbformat.v4.new_code_cell(source, metadata=copy.deepcopy(CELL_METADATA))
    nb.cells.insert(params[0] + 1, cell)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if all(c.execution_count for c in code if c is not cell):  # an executed notebook stays a clean run:
        for count, c in enumerate(code, start=1):  # outside Colab the cell runs and prints nothing
            c.execution_count = count
    return True


BADGES = "<!-- badges: written by `course colab` from [tool.course] repository_url -->", "<!-- /badges -->"


def readme_badges(repository_url: str, branch: str = "main") -> str:
    """Markdown badges for the README: open lesson 1 in Colab, and in Binder. Empty while the URL is unset."""
    if not repository_url:
        return ""
    lesson = "notebooks/01_data_exploration.ipynb"
    github = repository_url.removeprefix("https://github.com/")
    colab = f"https://colab.research.google.com/github/{github}/blob/{branch}/{lesson}"
    binder = f"https://mybinder.org/v2/gh/{github}/{branch}?labpath={lesson}"
    badges = [f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder})"]
    if github != repository_url:  # Colab opens notebooks straight from GitHub only
        badges.insert(0, f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})")
    return " ".join(badges)


def with_badges(readme: str, badges: str) -> str:
    """The README with the text between the badge markers replaced by ``badges``."""
    start, end = readme.index(BADGES[0]) + len(BADGES[0]), readme.index(BADGES[1])
    return readme[:start] + ("\n" + badges + "\n" if badges else "\n") + readme[end:]


def colab_main(args: list[str]) -> int:
    config = course_config()
    if not config["repository_url"]:
        print("course colab: warning: [tool.course] repository_url is unset; the cell tells Colab users so")
    source = setup_cell_source(config["repository_url"], config["version"])
    paths = named_or_every_notebook(args, "course colab")
    if paths is None:
        return 2
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if with_setup_cell(nb, source):
            nbformat.write(nb, path)
            print(f"updated {path}")
    readme = repo_root() / "README.md"
    text = readme.read_text()
    if BADGES[0] in text and (updated := with_badges(text, readme_badges(config["repository_url"]))) != text:
        readme.write_text(updated)
        print(f"updated the badges in {readme}")
    print("done; run `course exercises` so exercises/ carries the cell too", file=sys.stderr)
    return 0
