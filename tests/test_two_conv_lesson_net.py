"""Lesson 4's own network, `TwoConvNet`, is the course's `ConvNet(n_conv=2)` under other names.

The lesson trains its plain class but saves a `ConvNet` (copied by `to_convnet`), which lessons 5, 6 and 9
build and load.
This takes the class from the notebook (the code cell whose metadata says
``course.defines = "TwoConvNet"``), so the two can never drift apart. Fast: no data, no training.
"""

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from course_utils import ConvNet, count_parameters, set_seed, to_convnet

LESSON = Path(__file__).resolve().parents[1] / "notebooks" / "04_two_conv_net.ipynb"


def defining_cell(name: str) -> str:
    cells = json.loads(LESSON.read_text())["cells"]
    found = [c for c in cells if c["cell_type"] == "code" and c["metadata"].get("course", {}).get("defines") == name]
    assert len(found) == 1, f"{LESSON.name}: expected one code cell with metadata course.defines = {name!r}"
    source = found[0]["source"]
    return "".join(source) if isinstance(source, list) else source


@pytest.fixture(scope="module")
def TwoConvNet():
    namespace = {"torch": torch, "nn": nn}  # the lesson's imports the cell relies on
    exec(compile(defining_cell("TwoConvNet"), f"{LESSON.name}: TwoConvNet", "exec"), namespace)
    return namespace["TwoConvNet"]


def test_both_networks_have_30840_parameters(TwoConvNet):
    assert count_parameters(TwoConvNet()) == count_parameters(ConvNet(n_conv=2)) == 30_840


def test_same_weights_give_identical_outputs(TwoConvNet):
    set_seed(0)
    ours = TwoConvNet()
    theirs = to_convnet(ours)  # the lesson's copy: the same tensors, in the same order, under ConvNet's names
    assert isinstance(theirs, ConvNet)
    for a, b in zip(ours.state_dict().values(), theirs.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    x = torch.randn(16, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))
        assert not torch.equal(ours(x), ConvNet(n_conv=2)(x))  # other weights, other outputs: the test can fail


def test_to_convnet_refuses_a_network_with_other_layers():
    with pytest.raises(ValueError, match="ConvNet\\(n_conv=2\\)'s layers"):
        to_convnet(ConvNet(n_conv=1))


def test_the_same_seed_gives_the_same_initial_weights(TwoConvNet):
    """Why the lesson's loop trains the very network `cu.fit` would: both classes draw their
    initial weights in the same order."""
    set_seed(3)
    ours = TwoConvNet()
    set_seed(3)
    theirs = ConvNet(n_conv=2)
    for a, b in zip(ours.state_dict().values(), theirs.state_dict().values(), strict=True):
        assert torch.equal(a, b)
