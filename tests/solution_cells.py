"""Finding and editing a solution notebook's cells by id, for the tests that plant a student's bug,
and a check cell's code as the student sees it (without its hidden tests)."""

HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def cell(notebook, cell_id: str):
    return next(c for c in notebook.cells if c.get("id") == cell_id)


def edit(notebook, cell_id: str, old: str, new: str) -> None:
    """Replace ``old`` (which must occur exactly once) in the cell's source."""
    source = cell(notebook, cell_id).source
    assert source.count(old) == 1, f"{cell_id}: {old!r}"
    cell(notebook, cell_id).source = source.replace(old, new)


def without_hidden_tests(source: str) -> str:
    kept, inside = [], False
    for line in source.split("\n"):
        if line.strip() in HIDDEN:
            inside = line.strip() == HIDDEN[0]
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


def run_cells(notebook, *cell_ids, namespace=None, **sources) -> dict:
    """Run these code cells (``sources`` replaces a cell's code by its id) in one namespace."""
    namespace = {} if namespace is None else namespace
    for cell_id in cell_ids:
        source = sources.get(cell_id.replace("-", "_"), cell(notebook, cell_id).source)
        exec(compile(source, cell_id, "exec"), namespace)
    return namespace
