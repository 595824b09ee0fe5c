"""course_utils.checks (hints for students) and course_utils.notebook (metrics and claims)."""

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

from course_utils import checks
from course_utils.checks import CheckFailed
from course_utils.models import ConvNet
from course_utils.notebook import METRICS_MIME, lesson_checks, read_metrics


def test_passing_checks_print_a_pass(capsys):
    checks.check_shape(torch.zeros(4, 10, 26, 26), (None, 10, 26, 26), "conv1 output")
    checks.check_parameter_count(ConvNet(), 30_840)
    checks.check_close(0.1 + 0.2, 0.3, "sum")
    checks.check_decreasing([2.3, 1.0, 0.5])
    checks.check_equal(26, 26, "size")
    checks.check_dtype(torch.zeros(2, dtype=torch.long), torch.long)
    checks.check_between(0.99, 0.98, 1.0, "accuracy")
    out = capsys.readouterr().out
    assert out.count("passed") == 7 and "conv1 output: passed" in out


def test_shape_hint_names_the_padding():
    with pytest.raises(CheckFailed, match=r"expected shape \(4, 10, 26, 26\), got \(4, 10, 24, 24\).*padding"):
        checks.check_shape(torch.zeros(4, 10, 24, 24), (4, 10, 26, 26), "conv1 output")


def test_shape_hint_for_flatten_and_channels():
    with pytest.raises(CheckFailed, match="flatten"):
        checks.check_shape(torch.zeros(4, 20, 5, 5), (4, 500))
    with pytest.raises(CheckFailed, match="out_channels"):
        checks.check_shape(torch.zeros(4, 16, 26, 26), (4, 10, 26, 26))


def test_parameter_count_hint_lists_the_layers():
    model = nn.Sequential(nn.Linear(500, 50), nn.Linear(50, 10))
    with pytest.raises(CheckFailed, match=r"expected 30,840 parameters, got 25,560.*0.weight: 25,000"):
        checks.check_parameter_count(model, 30_840)
    with pytest.raises(CheckFailed, match="conv layers"):
        checks.check_parameter_count(model, 30_840, hint="did you forget the conv layers?")


def test_none_means_a_missing_return():
    with pytest.raises(CheckFailed, match="forget to `return`"):
        checks.check_equal(None, 26, "conv_output_size(28, 5, padding=1)")


def test_close_and_decreasing_failures():
    with pytest.raises(CheckFailed, match="expected 0.3, got 0.4"):
        checks.check_close(0.4, 0.3)
    with pytest.raises(CheckFailed, match="values differ from the reference, by up to"):
        checks.check_close(torch.ones(3), torch.zeros(3))
    with pytest.raises(CheckFailed, match=r"1 of 3 values differ from the reference, 1 of them nan or inf$"):
        checks.check_close(torch.tensor([0.0, 0.0, float("nan")]), torch.zeros(3))  # NaN never compares close
    with pytest.raises(CheckFailed, match="zero_grad"):
        checks.check_decreasing([1.0, 1.2])
    with pytest.raises(CheckFailed, match="NaN"):
        checks.check_decreasing([1.0, float("nan")])


def test_check_failed_is_an_assertion_error():
    assert issubclass(CheckFailed, AssertionError)


def test_record_prints_outside_jupyter(capsys):
    with lesson_checks() as checks:
        checks.record("test_accuracy", torch.tensor(0.9912))
    assert capsys.readouterr().out.strip() == "test_accuracy = 0.9912"
    assert type(checks.metrics["test_accuracy"]) is float  # the tensor's value: summary.json can hold it
    with pytest.raises(TypeError), lesson_checks() as checks:
        checks.record("model", nn.Linear(1, 1))


def test_read_metrics_from_an_executed_notebook():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("checks.record(...)")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={METRICS_MIME: {"test_accuracy": 0.99}, "text/plain": "x"})
    ]
    nb.cells = [cell, nbformat.v4.new_code_cell("")]
    assert read_metrics(nb) == {"test_accuracy": 0.99}


def test_claims_assert_only_with_reference_settings(capsys):
    with lesson_checks({"epochs": 10}, {"epochs": 10, "seed": 3}) as checks:  # other names do not matter
        checks.claim("accuracy >= 99%", holds=True)
    assert "re-checked" in capsys.readouterr().out and checks.checked == 1
    with lesson_checks({"epochs": 10}, {"epochs": 1}) as checks:
        checks.claim("accuracy >= 99%", holds=False)
        checks.claim("a parameter count", holds=True, always=True)
    assert "1 quoted number(s) not re-checked" in capsys.readouterr().out
    reproduced = lesson_checks({"epochs": 10}, {"epochs": 10})
    with pytest.raises(AssertionError, match="did not reproduce"), reproduced as checks:
        checks.claim("accuracy >= 99%", holds=False)
    assert capsys.readouterr().out == ""  # a failed claim raises, and the block shows no line


def test_a_failed_check_shows_one_line_in_jupyter():
    lines = CheckFailed("size: expected 26, got 24")._render_traceback_()
    assert len(lines) == 1 and "❌ size: expected 26, got 24" in lines[0]


def test_own_work_refuses_the_course_object_a_wrapper_a_subclass_and_an_instance(capsys):
    import functools

    from course_utils import models, shapes

    class Mine(models.InceptionBlock):
        pass

    def my_block(*args):
        return nn.Sequential()

    for copied in (models.vgg_block, functools.partial(models.vgg_block, batchnorm=False)):
        with pytest.raises(CheckFailed, match=r"^vgg_block: this is the course's own course_utils\.models\.vgg_block"):
            checks.check_own_work(copied, models.vgg_block, "vgg_block")
    with pytest.raises(CheckFailed, match="course_utils.models.InceptionBlock: write your own"):
        checks.check_own_work(Mine, models.InceptionBlock, "Inception")
    with pytest.raises(CheckFailed, match="InceptionBlock"):
        checks.check_own_work(models.InceptionBlock(8, 1, 1, 1, 1, 1, 1), models.InceptionBlock, "Inception")
    with pytest.raises(CheckFailed, match="pool_output_size"):  # any of several course objects
        checks.check_own_work(shapes.pool_output_size, (shapes.conv_output_size, shapes.pool_output_size), "size")
    checks.check_own_work(my_block, (models.vgg_block, models.VGGNet), "vgg_block")
    assert capsys.readouterr().out.strip() == "✅ vgg_block: passed"


def test_using_course_swaps_names_for_the_block_only_even_on_errors():
    from course_utils.exercise_checks import using_course

    namespace = {"train_step": "student's", "other": 1}
    with using_course(namespace, train_step="course's", accuracy="course's"):
        assert (namespace["train_step"], namespace["accuracy"]) == ("course's", "course's")
    assert namespace == {"train_step": "student's", "other": 1}
    with pytest.raises(ZeroDivisionError), using_course(namespace, train_step="course's"):
        raise ZeroDivisionError("a student's bug")
    assert namespace == {"train_step": "student's", "other": 1}


def test_check_equal_wants_a_plain_value_not_an_object_that_equals_anything():
    from course_utils.checks import CheckFailed, check_equal

    class Anything(int):  # named like a number, equal to everything
        def __eq__(self, other):
            return True

        def __ne__(self, other):
            return False

    for value, expected in [(np.int64(26), 26), (torch.tensor(26), 26), (26.0, 26), ((0, 2), (0, 2))]:
        check_equal(value, expected, "a number in another dress")
    Impostor = type("int", (), {"__eq__": lambda self, other: True, "__ne__": lambda self, other: False})
    for impostor in [Impostor(), (Impostor(), 2), [Impostor()]]:
        with pytest.raises(CheckFailed, match="expected a plain Python value"):
            check_equal(impostor, (0, 2) if isinstance(impostor, tuple) else 26, "answer")
    with pytest.raises(CheckFailed, match="expected a plain Python value"):
        check_equal(Anything(3), 26, "a subclass of int")


def test_check_equal_names_the_element_type_of_a_list_of_numpy_or_torch_numbers():
    from course_utils.checks import CheckFailed, check_equal

    for value, kind in [([np.int64(3), np.int64(4)], "list holding a int64"), ((torch.tensor(3), 4), "tuple holding")]:
        with pytest.raises(CheckFailed, match=rf"got a {kind}.*convert each number with int\(x\) or float\(x\)"):
            check_equal(value, [3, 4] if isinstance(value, list) else (3, 4), "counts")


def test_a_library_not_implemented_error_is_an_error_not_an_unfinished_task():
    from course_utils.checks import CheckFailed, explain_errors, unfinished

    assert unfinished(NotImplementedError("Task 2: train_step"))
    assert not unfinished(NotImplementedError("\"log_softmax_lastdim_kernel_impl\" not implemented for 'Long'"))
    with pytest.raises(CheckFailed, match="your code raised NotImplementedError"), explain_errors("loss"):
        torch.nn.functional.cross_entropy(torch.tensor([1, 2]), torch.zeros(2, 3))
    with pytest.raises(NotImplementedError, match="Task 2"), explain_errors("train_step"):
        raise NotImplementedError("Task 2: train_step")


def test_an_error_inside_pytorch_names_the_student_s_line_not_pytorch_s():
    from course_utils.checks import CheckFailed
    from course_utils.exercise_checks import Tasks

    tasks = Tasks("toy")
    source = "import torch\ndef layer(size):\n    return torch.nn.Linear(size, 2)\n"
    namespace = {}
    exec(compile(source, "/tmp/ipykernel_1/cell.py", "exec"), namespace)  # a notebook cell's file name
    linecache_entry = (len(source), None, source.splitlines(True), "/tmp/ipykernel_1/cell.py")
    import linecache

    linecache.cache["/tmp/ipykernel_1/cell.py"] = linecache_entry

    @tasks(1, "a layer", answers=["layer"])
    def build(nb):
        nb.layer(2.5)  # a float size: PyTorch raises deep inside nn.Linear

    with pytest.raises(CheckFailed, match=r"your code raised TypeError.*your line `return torch.nn.Linear\(size, 2\)`"):
        tasks.run(1, namespace)
