"""The one whole-number validator: the same wording and error types wherever an argument is checked."""

import numpy as np
import pytest

from course_utils import ConvNet, conv_output_size, load_data, set_seed
from course_utils.validate import whole_number


@pytest.mark.parametrize("value", [3, np.int64(3)])
def test_whole_numbers_pass_through_as_int(value):
    assert whole_number(value, "epochs", minimum=1) == 3 and type(whole_number(value, "epochs")) is int


@pytest.mark.parametrize("value", [2.5, 3.0, "3", True, None])
def test_other_kinds_raise_type_error(value):
    with pytest.raises(TypeError, match=r"epochs must be a whole number, got"):
        whole_number(value, "epochs", minimum=1)


def test_out_of_range_raises_value_error():
    with pytest.raises(ValueError, match=r"epochs must be a whole number >= 1, got 0"):
        whole_number(0, "epochs", minimum=1)


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: ConvNet(n_conv=1.5), "n_conv"),
        (lambda: conv_output_size(28, 5.0), "kernel_size"),
        (lambda: set_seed("0"), "seed"),
        (lambda: load_data(train_size=1.5, root="/nonexistent"), "train_size"),
    ],
)
def test_every_caller_words_it_alike(call, name):
    with pytest.raises(TypeError, match=rf"^{name}.* must be a whole number, got"):
        call()
