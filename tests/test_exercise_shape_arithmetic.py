"""Exercises 3 (shape arithmetic) are fair: classic bugs fail a visible check with the hint that names
them, other correct answers pass every check (hidden tests included), one bug costs one task.

Nothing here trains: the cells run in this process in a second or two.
"""

from pathlib import Path

import pytest
from solution_cells import assert_bug_fails_with_hint, check_task, quick_exercise, run_cells, solution_answer

from course_utils.checks import CheckFailed

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "03_shape_arithmetic_exercises.ipynb"


@pytest.fixture(scope="module")
def exercise():
    notebook, namespace = quick_exercise(SOLUTION, "code-03")
    run_cells(notebook, "task1-answer", "task2-answer", "task3-answer", "task4-answer", namespace=namespace)
    return notebook, namespace


SIZE = "(size + 2 * padding - kernel_size) // stride + 1"
BUGS = [  # (task, text of the solution's answer, the bug put in its place, the hint that must name it)
    (1, SIZE, "(size + padding - kernel_size) // stride + 1", "padding p adds p pixels on EACH side"),
    (1, SIZE, "(size + 2 * padding - kernel_size) / stride + 1", "divide with //"),
    (1, SIZE, "(size + 2 * padding - kernel_size) // (stride + 1)", "THEN add 1"),
    (1, SIZE, "(size + 2 * padding - kernel_size) // stride", "without padding a kernel of size k fits M - k + 1"),
    (1, f"return {SIZE}", f'return __import__("torch").tensor({SIZE})', "return a Python int"),
    (
        2,
        "shapes.append((channels, size, size))\n        size = conv",
        "shapes.append([channels, size, size])\n        size = conv",
        "a tuple, (10, 26, 26), not a list",
    ),
    (2, "size = conv_output_size(size, 2, stride=2)", "size = conv_output_size(size, 2)", "halves the size"),
    (2, "for channels in (10, 20):", "for channels in (10, 10):", "conv2 has 20 filters"),
    (
        2,
        "size = conv_output_size(size, kernel_size, padding=padding)",
        "size = conv_output_size(size, kernel_size)",
        "pass padding on",
    ),
    (2, "size = conv_output_size(size, 2, stride=2)", "size = size / 2", "sizes are whole numbers"),
    (2, "size = conv_output_size(size, 2, stride=2)", "size = size * 0.5", "(/, * 0.5 and // 2.0 give floats)"),
    (2, "size = conv_output_size(size, 2, stride=2)", "size = size // 2.0", "(/, * 0.5 and // 2.0 give floats)"),
    (
        2,
        "shapes.append((channels, size, size))\n        size = conv_output_size(size, 2",
        "shapes.append((1, channels, size, size))\n        size = conv_output_size(size, 2",
        "no batch dimension",
    ),
    (
        2,
        "shapes.append((channels, size, size))\n        size = conv_output_size(size, 2",
        "shapes.append((size, size, channels))\n        size = conv_output_size(size, 2",
        "channels first",
    ),
    (
        2,
        "feature_shapes(kernel_size, padding)[-1]",
        "feature_shapes(5, 1)[-1]",
        "the kernel_size and padding you are given",
    ),
    (2, "return channels * height * width", "return height * width", "by the channels too"),
    (
        2,
        "channels, height, width = feature_shapes(kernel_size, padding)[-1]",
        "channels, height, width = feature_shapes(kernel_size, padding)[-2]",
        "the LAST pooled maps",
    ),
    (
        3,
        "out_channels * in_channels * kernel_size * kernel_size + out_channels",
        "out_channels * kernel_size * kernel_size + out_channels",
        "spans all 10 input channels",
    ),
    (3, "out_features * in_features + out_features", "out_features * in_features", "plus one bias per output"),
    (3, "        + linear_params(50, 10)\n", "", "add fc2 too"),
    (3, "conv_params(10, 20, kernel_size)", "conv_params(1, 20, kernel_size)", "conv2 takes conv1's 10 channels"),
    (
        3,
        "conv_params(1, 10, kernel_size)\n        + conv_params(10, 20, kernel_size)",
        "conv_params(1, 10, 5)\n        + conv_params(10, 20, 5)",
        "the kernel_size you are given",
    ),
    (
        3,
        "* kernel_size * kernel_size + out_channels\n",
        "* kernel_size * kernel_size + out_channels * in_channels\n",
        "one bias per filter (out_channels), not one per input channel",
    ),
    (2, "shapes, size = [], image", "shapes, size = [], 28", "the size you are given, image"),
    (2, "    return shapes\n", "    return tuple(shapes)\n", "a list, [...], not a tuple"),
    (1, SIZE, "(size - kernel_size) // stride + 1", "add the padding: p pixels on each side"),
    (1, SIZE, "size - kernel_size + 1", "use the stride and the padding too"),
    (1, SIZE, "(size + 2 * padding - kernel_size) + 1", "divide by the stride"),
    (1, SIZE, "size + 2 * padding - kernel_size // stride + 1", "bracket (M + 2p - k) before dividing"),
    (1, SIZE, "round((size + 2 * padding - kernel_size) / stride) + 1", "round() and math.ceil round some sizes up"),
    (1, SIZE, "(kernel_size + 2 * padding - size) // stride + 1", "got a negative size: check the order"),
    (2, "for channels in (10, 20):", "for channels in (1, 10):", "each conv's OUTPUT channels"),
    (
        2,
        "size = conv_output_size(size, 2, stride=2)",
        "size = conv_output_size(size, 2, stride=2, padding=padding)",
        "pooling has no padding",
    ),
    (
        3,
        "out_channels * in_channels * kernel_size * kernel_size + out_channels",
        "out_channels * in_channels * kernel_size + out_channels",
        "a kernel has 5 x 5 weights per input channel",
    ),
    (
        3,
        "def conv_params(in_channels, out_channels, kernel_size)",
        "def conv_params(out_channels, in_channels, kernel_size)",
        "+ out_channels (the arguments come in the order in_channels, out_channels, kernel_size)",
    ),
    (
        3,
        "linear_params(flat_features(kernel_size, padding), 50)",
        "linear_params(50, flat_features(kernel_size, padding))",
        "linear_params takes (in_features, out_features)",
    ),
    (3, "linear_params(50, 10)", "linear_params(10, 50)", "linear_params takes (in_features, out_features)"),
    (
        3,
        "linear_params(flat_features(kernel_size, padding), 50)",
        "linear_params(500, 50)",
        "fc1's inputs change with kernel_size and padding",
    ),
    (3, "conv_params(1, 10, kernel_size)", "conv_params(3, 10, kernel_size)", "MNIST images have one channel"),
    (4, "field += (kernel - 1) * jump", "field += kernel - 1", "multiply each (k - 1) by the jump"),
    (4, "for kernel, stride in layers:", "for stride, kernel in layers:", "a (kernel, stride) pair, in that order"),
    (4, "    field, jump = 1, 1", "    field, jump = 0, 1", "start from r = 1"),
    (4, "jump *= stride", "jump = stride", "product of ALL earlier strides"),
    (4, "jump *= stride", "jump += stride", "do not add the stride"),
    (
        4,
        "        field += (kernel - 1) * jump\n        jump *= stride",
        "        jump *= stride\n        field += (kernel - 1) * jump",
        "AFTER using it",
    ),
    # The defaults stride=1, padding=0, checked visibly (the hidden tests call conv_output_size(5, 5)).
    (1, "stride=1, padding=0", "stride=1, padding=1", "the defaults are stride=1, padding=0, not padding=1"),
    (1, "stride=1, padding=0", "stride=2, padding=0", "the defaults are stride=1, padding=0, not stride=2"),
    (1, "stride=1, padding=0", "stride=1, padding=None", "the defaults are stride=1, padding=0, not padding=None"),
    (1, "stride=1, padding=0", "stride, padding", "give stride and padding defaults: def conv_output_size(size, "),
    (1, "stride=1, padding=0", "stride=1.0, padding=0", "write the defaults as whole numbers: stride=1.0"),
    (1, SIZE, "(size + 2 * stride - kernel_size) // padding + 1", "divide by the stride, which is never 0"),
    # Whole numbers (Python ints) in every task, as in Task 1.
    (2, "return channels * height * width", "return float(channels * height * width)", "a Python int, not a float"),
    (
        2,
        "return channels * height * width",
        "return __import__('numpy').prod([channels, height, width])",
        "convert with int(...)",
    ),
    (3, "kernel_size * kernel_size + out_channels\n", "kernel_size**2.0 + out_channels\n", "a Python int, not a float"),
    (4, "jump *= stride", "jump *= float(stride)", "return a Python int, not a float"),
    (4, "jump *= stride", "jump = jump * stride / 1", "/ gives a float, even for a whole number"),
    (
        2,
        "size = conv_output_size(size, 2, stride=2)",
        "size = pool_output_size(size)",
        "pool_output_size is the lesson's, not imported here: pool with conv_output_size(size, 2, stride=2)",
    ),
    (2, "for channels in (10, 20):", "for channels in (20, 10):", "the channels go 10, then 20"),
    (3, "kernel_size * kernel_size + out_channels\n", "kernel_size^2 + out_channels\n", "^ is XOR in Python"),
    (4, "field += (kernel - 1) * jump", "field += (kernel - 1) * stride", "the product of the EARLIER strides"),
    (4, "    return field", "    return field, jump", "return one Python int, the receptive field along one side"),
]


@pytest.mark.parametrize("task, old, new, hint", BUGS, ids=[f"task{b[0]}-{b[3][:20]}" for b in BUGS])
def test_a_classic_bug_fails_a_visible_check_with_its_hint(exercise, task, old, new, hint):
    assert_bug_fails_with_hint(exercise, task, old, new, hidden=False, hint=hint)


WRONG_CAUSES = [  # (task, text of the answer, the bug, the hint that must name it, a hint for another mistake)
    (
        1,
        f"return {SIZE}",
        f"return float({SIZE})",
        "return a Python int, not a float",
        "divide with //",
    ),
    (
        1,
        SIZE,
        "(size + 2 * padding - kernel_size) / stride // 1 + 1",
        "/ gives a float, even for a whole number",
        "return a Python int, not a float",
    ),
    (
        1,
        "def conv_output_size(size, kernel_size,",
        "def conv_output_size(kernel_size, size,",
        "got a negative size: check the order of the arguments: conv_output_size(size, kernel_size, stride=1",
        "use N = floor",
    ),
    (1, SIZE, "(size + 2 * padding - kernel_size + 1) // stride", "add the 1 after dividing", "the formula ends with"),
    (
        2,
        "shapes.append((channels, size, size))\n        size = conv_output_size(size, 2",
        "shapes.append((size, size))\n        size = conv_output_size(size, 2",
        "each shape is (channels, height, width): three numbers",
        "no batch dimension",
    ),
    (
        2,
        "shapes.append((channels, size, size))\n        size = conv_output_size(size, 2",
        "shapes.append((channels, size, size, 1))\n        size = conv_output_size(size, 2",
        "each shape is (channels, height, width): three numbers",
        "no batch dimension",
    ),
    # Not one number: the form is wrong, not the formula.
    (
        1,
        f"return {SIZE}",
        f"return ({SIZE}, {SIZE})",
        "return one Python int, the size along one side (got a tuple)",
        "use N",
    ),
    (1, f"return {SIZE}", f"return [{SIZE}]", "return one Python int, the size along one side (got a list)", "use N"),
    (1, f"return {SIZE}", f"return str({SIZE})", "return one Python int, the size along one side (got a str)", "use N"),
    # A hard-coded kernel size gives 3x3 without padding what 5x5 with padding 1 gives: not the padding hint.
    (
        2,
        "size = conv_output_size(size, kernel_size, padding=padding)",
        "size = conv_output_size(size, 5, padding=padding)",
        "use the kernel_size argument you are given, not 5",
        "pass padding on",
    ),
    (
        2,
        "size = conv_output_size(size, kernel_size, padding=padding)",
        "size = conv_output_size(size, kernel_size, padding=1)",
        "use the padding argument you are given, not 1",
        "pass padding on",
    ),
    (
        2,
        "    return shapes\n",
        "    return [(10, 26, 26), (10, 13, 13), (20, 11, 11), (20, 5, 5)]\n",
        "the lesson's list is for 5x5 kernels and padding 1",
        "pass padding on",
    ),
    (  # padding passed as the stride: the sizes with padding 0, then an error; not "whole numbers"
        2,
        "size = conv_output_size(size, kernel_size, padding=padding)",
        "size = conv_output_size(size, kernel_size, padding)",
        "pass padding on to conv_output_size(size, kernel_size, padding=padding)",
        "sizes are whole numbers",
    ),
]


@pytest.mark.parametrize(
    "task, old, new, hint, wrong", WRONG_CAUSES, ids=[f"task{b[0]}-{b[3][:20]}" for b in WRONG_CAUSES]
)
def test_a_bug_gets_its_own_hint_not_another_mistakes(exercise, task, old, new, hint, wrong):
    assert_bug_fails_with_hint(exercise, task, old, new, hidden=False, hint=hint, not_hint=wrong)


OWN = "write it yourself: the task is to compute it, not to call the course's "
COURSE_FUNCTIONS = [  # (task, text of the answer, an answer built on the course's function, the name it names)
    (
        1,
        f"return {SIZE}",
        "return __import__('course_utils').conv_output_size(size, kernel_size, stride, padding)",
        "conv_output_size",
    ),
    (
        1,
        f"return {SIZE}",
        "return __import__('course_utils').shapes.pool_output_size(size, kernel_size, stride)",
        "pool_output_size",
    ),
    (1, f"return {SIZE}", "return _course(size, kernel_size, stride, padding)", "conv_output_size"),
    (
        2,
        "return channels * height * width",
        "return ConvNet(kernel_size=kernel_size, padding=padding).classifier[1].in_features",
        "ConvNet",
    ),
    (
        2,
        "    shapes, size = [], image\n",
        "    table = layer_table(ConvNet(kernel_size=kernel_size, padding=padding))\n"
        "    return [tuple(s[1:]) for s in table['output shape'][[0, 2, 3, 5]]]\n    shapes, size = [], image\n",
        "ConvNet",
    ),
    (
        3,
        "    return (\n        conv_params(1, 10, kernel_size)",
        "    return sum(p.numel() for p in ConvNet(kernel_size=kernel_size, padding=padding).parameters())\n"
        "    return (\n        conv_params(1, 10, kernel_size)",
        "ConvNet",
    ),
    (
        3,
        "return out_channels * in_channels * kernel_size * kernel_size + out_channels",
        "return count_parameters(__import__('torch').nn.Conv2d(in_channels, out_channels, kernel_size))",
        "count_parameters",
    ),
    (
        4,
        "    field, jump = 1, 1\n",
        "    table = receptive_fields([('layer', k, s) for k, s in layers])\n"
        "    return int(table['receptive field'].iloc[-1]) if layers else 1\n",
        "receptive_fields",
    ),
]


@pytest.mark.parametrize(
    "task, old, new, name", COURSE_FUNCTIONS, ids=[f"task{c[0]}-{c[2][7:30]}" for c in COURSE_FUNCTIONS]
)
def test_an_answer_built_on_the_course_s_function_fails_visibly_as_the_grader_refuses_it(
    exercise, task, old, new, name
):
    """`course grade` fails an answer that uses what its cell's course.forbid names: the visible check says so first."""
    import sys

    from course_utils import count_parameters, receptive_fields
    from course_utils.shapes import conv_output_size

    extra = {"_course": conv_output_size, "count_parameters": count_parameters, "receptive_fields": receptive_fields}
    answer, namespace = solution_answer(exercise, task), exercise[1]
    assert answer.count(old) == 1, old
    profile = sys.getprofile()
    namespace.update(extra)
    try:
        with pytest.raises(CheckFailed) as failure:
            check_task(exercise, task, answer.replace(old, new))
    finally:
        for key in extra:
            namespace.pop(key)
    assert OWN + name in str(failure.value), str(failure.value)
    assert sys.getprofile() is profile  # the check put back whatever profiler ran before it
    check_task(exercise, task, answer, hidden=True)


def test_the_checks_refuse_the_names_the_grader_refuses():
    """One list of what each task must not call: the answer cells' course.forbid (read by `course grade`)."""
    import nbformat

    from course_utils.exercise_checks.shape_arithmetic import FORBIDDEN

    solution = nbformat.read(SOLUTION, as_version=4)
    forbid = {
        c.metadata["course"]["task"]: tuple(c.metadata["course"].get("forbid", ()))
        for c in solution.cells
        if c.metadata.get("course", {}).get("role") == "answer"
    }
    assert forbid == FORBIDDEN


OTHER_CORRECT_ANSWERS = {
    1: "import math\ndef conv_output_size(size, kernel_size, stride=1, padding=0):\n"
    "    return math.floor((size + 2 * padding - kernel_size) / stride) + 1",
    4: "def receptive_field(layers):\n    field, jump = 1, 1\n    for k, s in layers:\n"
    "        field, jump = field + (k - 1) * jump, jump * s\n    return field",
}


@pytest.mark.parametrize("task", sorted(OTHER_CORRECT_ANSWERS))
def test_another_correct_answer_passes_every_check(exercise, task):
    check_task(exercise, task, OTHER_CORRECT_ANSWERS[task], hidden=True)
    check_task(exercise, task, solution_answer(exercise, task), hidden=True)


def test_a_wrong_task_1_leaves_task_2_and_3_passing(exercise):
    notebook, namespace = exercise
    run_cells(
        notebook, "task1-answer", namespace=namespace, task1_answer="def conv_output_size(*args, **kw):\n    return 0"
    )
    try:
        with pytest.raises(CheckFailed):
            run_cells(notebook, "task1-check", namespace=namespace)
        run_cells(notebook, "task2-check", "task3-check", namespace=namespace)
    finally:
        run_cells(notebook, "task1-answer", namespace=namespace)


def test_a_wrong_task_2_leaves_task_3_passing_when_built_on_feature_shapes(exercise):
    """convnet_params may count fc1's inputs with feature_shapes and conv_output_size: it runs with the course's."""
    notebook, namespace = exercise
    wrong = solution_answer(exercise, 2).replace("for channels in (10, 20):", "for channels in (10, 10):")
    on_shapes = solution_answer(exercise, 3).replace(
        "linear_params(flat_features(kernel_size, padding), 50)",
        "linear_params(math.prod(feature_shapes(kernel_size, padding)[-1]), 50)",
    )
    run_cells(notebook, "task2-answer", namespace=namespace, task2_answer=wrong)
    try:
        with pytest.raises(CheckFailed, match="conv2 has 20 filters"):
            run_cells(notebook, "task2-check", namespace=namespace)
        check_task(exercise, 3, f"import math\n{on_shapes}", hidden=True)
    finally:
        run_cells(notebook, "task2-answer", "task3-answer", namespace=namespace)


def test_a_renamed_function_says_which_name_the_check_looks_for(exercise):
    notebook, namespace = exercise
    saved = namespace.pop("receptive_field")
    try:
        with pytest.raises(CheckFailed, match=r"`receptive_field` is not defined yet: .*give it back the name"):
            run_cells(notebook, "task4-check", namespace=namespace)
    finally:
        namespace["receptive_field"] = saved


def test_an_answer_that_empties_its_list_is_checked_on_a_copy(exercise):
    """A correct answer that pops its input must pass: the check gives it a copy of every list."""
    popping = (
        "def receptive_field(layers):\n    field, jump = 1, 1\n    while layers:\n        k, s = layers.pop(0)\n"
        "        field += (k - 1) * jump\n        jump *= s\n    return field"
    )
    check_task(exercise, 4, popping, hidden=True)
    check_task(exercise, 4, solution_answer(exercise, 4))
