"""Lesson 9 writes its VGG block, Inception block and networks as plain code; they must be the course's.

The lesson marks the code cells that define them (metadata ``course.defines``: the names a cell
defines). This test executes those cells, with the lesson's imports and no data, and compares each
definition with its counterpart in `course_utils.models`, which the exercises and the grader use:
same layers, same parameter names and counts, and identical outputs once both hold the same weights.
"""

import ast
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from course_utils import models

LESSON = Path(__file__).resolve().parents[1] / "notebooks" / "09_deeper_networks.ipynb"

# the lesson's name -> (the package's version, the arguments to compare them with, the input's shape)
CASES = {
    "vgg_block": [
        (models.vgg_block, (1, 16), {}, (4, 1, 28, 28)),
        (models.vgg_block, (8, 12), dict(convs_per_block=3, batchnorm=False), (4, 8, 14, 14)),
        (models.vgg_block, (16, 32), dict(convs_per_block=1, batchnorm=True), (4, 16, 7, 7)),
    ],
    "InceptionBlock": [
        (models.InceptionBlock, (32, 16, 16, 24, 8, 16, 8), {}, (4, 32, 14, 14)),
        (models.InceptionBlock, (8, 4, 2, 6, 3, 5, 7), dict(batchnorm=False), (4, 8, 9, 9)),
    ],
    "vgg_network": [
        (models.VGGNet, ((16, 32),), dict(dropout=0.1), (4, 1, 28, 28)),
        (models.VGGNet, ((8, 16, 32),), dict(convs_per_block=1, batchnorm=False, hidden=20), (4, 1, 28, 28)),
    ],
    "inception_network": [
        (models.InceptionNet, (), dict(dropout=0.1), (4, 1, 28, 28)),
        (models.InceptionNet, (), dict(batchnorm=False), (4, 1, 28, 28)),
    ],
}
HELPERS = {"conv_relu"}  # defined by the lesson for its Inception block; tested through it


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _cells():
    return [c for c in json.loads(LESSON.read_text())["cells"] if c["cell_type"] == "code"]


@pytest.fixture(scope="module")
def lesson():
    """The lesson's definitions: its import statements, then its defining cells, in the lesson's order."""
    imports, definitions = [], []
    for cell in _cells():
        if "course-check" in cell["metadata"].get("tags", []):
            continue
        tree = ast.parse(_source(cell))
        imports += [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        if cell["metadata"].get("course", {}).get("defines"):
            definitions.append((cell["metadata"]["course"]["defines"], tree))
    namespace = {}
    exec(compile(ast.Module(body=imports, type_ignores=[]), str(LESSON), "exec"), namespace)
    for names, tree in definitions:
        exec(compile(tree, str(LESSON), "exec"), namespace)
        missing = [name for name in names if name not in namespace]
        assert not missing, f"a cell says it defines {missing}, but does not"
    return namespace


def test_defining_cells_only_define_and_name_everything_they_define():
    defined = set()
    for cell in _cells():
        names = cell["metadata"].get("course", {}).get("defines")
        if not names:
            continue
        body = ast.parse(_source(cell)).body
        assert all(isinstance(node, ast.FunctionDef | ast.ClassDef) for node in body), (
            f"a cell that defines {names} also runs other code; keep it to definitions (the test runs it without data)"
        )
        assert sorted(node.name for node in body) == sorted(names), f"metadata course.defines {names} is incomplete"
        defined |= set(names)
    assert defined == set(CASES) | HELPERS


def _randomize_batch_norm_statistics(model):
    generator = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator))
            module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)


@pytest.mark.parametrize(
    "name, case",
    [pytest.param(name, case, id=f"{name}-{i}") for name, cases in CASES.items() for i, case in enumerate(cases)],
)  # plain ids: the default repr holds memory addresses, which differ between pytest-xdist's workers
def test_the_lessons_definition_matches_the_package(lesson, name, case):
    package_version, args, kwargs, shape = case
    torch.manual_seed(0)
    theirs = package_version(*args, **kwargs)
    torch.manual_seed(0)
    ours = lesson[name](*args, **kwargs)

    assert [type(m).__name__ for m in ours.modules()][1:] == [type(m).__name__ for m in theirs.modules()][1:]
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    with torch.no_grad():
        _randomize_batch_norm_statistics(theirs)
    ours.load_state_dict(theirs.state_dict())  # strict: the same names and shapes
    if hasattr(theirs, "out_channels"):
        assert ours.out_channels == theirs.out_channels

    x = torch.randn(shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.equal(ours.eval()(x), theirs.eval()(x)), "different outputs in evaluation mode"
        torch.manual_seed(3)
        train_ours = ours.train()(x)
        torch.manual_seed(3)
        train_theirs = theirs.train()(x)
    assert torch.equal(train_ours, train_theirs), "different outputs in training mode (batch statistics, dropout)"
