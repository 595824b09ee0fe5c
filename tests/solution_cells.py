"""Finding and editing a solution notebook's cells by id, for the tests that plant a student's bug."""


def cell(notebook, cell_id: str):
    return next(c for c in notebook.cells if c.get("id") == cell_id)


def edit(notebook, cell_id: str, old: str, new: str) -> None:
    """Replace ``old`` (which must occur exactly once) in the cell's source."""
    source = cell(notebook, cell_id).source
    assert source.count(old) == 1, f"{cell_id}: {old!r}"
    cell(notebook, cell_id).source = source.replace(old, new)
