"""Exercises 5 (ablations) are fair: classic bugs fail a visible check with the hint that names them,
other correct answers pass every check, hidden tests included, and a renamed answer gets one line.

The cells run in this process, the setup in quick mode (1,000 training images), as in
tests/test_fair_exercises.py; Task 2's check trains a network on 96 images, the others train none.
"""

from pathlib import Path

import pytest
from conftest import verified_data_root
from solution_cells import assert_bug_fails_with_hint, check_task, quick_exercise, run_cells, solution_answer

from course_utils.checks import CheckFailed

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "05_ablations_exercises.ipynb"


@pytest.fixture(scope="module")
def exercise():
    """The solution notebook and a namespace with its setup run in quick mode (no answers yet)."""
    verified_data_root("mnist")
    return quick_exercise(SOLUTION, "code-03")


TIMER = (
    "    start = time.perf_counter()\n"
    "    fit(model, data, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=False)\n"
)
LOOP = (
    "    for parent in model.modules():\n        for name, child in parent.named_children():\n"
    "            if isinstance(child, nn.ReLU):\n                setattr(parent, name, nn.Identity())\n"
)
YARDSTICK = "(sigma * (2 / len(seeds)) ** 0.5)"
BUGS = [  # (task, text of the solution's answer, the bug that replaces it, the hint the check must give)
    (1, "        nn.MaxPool2d(2),  # 13 -> 6: pooling rounds down\n", "", "the second 6 x 6 (pooling rounds down)"),
    (1, "nn.Linear(10 * 6 * 6, 50)", "nn.Linear(10 * 7 * 7, 50)", "10 x 6 x 6 = 360"),
    (1, "kernel_size=5, padding=1)", "kernel_size=5)", "nn.Conv2d(1, 10, kernel_size=5, padding=1)"),
    (1, "        nn.Flatten(),\n", "", "flatten the maps: nn.Flatten()"),
    (1, "nn.Linear(50, 10),\n", "nn.Linear(50, 10),\n        nn.ReLU(),\n", "no ReLU after the last linear layer"),
    (1, "nn.Linear(50, 10),\n", "nn.Linear(50, 10),\n        nn.Softmax(dim=1),\n", "no softmax at the end"),
    (
        1,
        "nn.Linear(10 * 6 * 6, 50),\n        nn.ReLU(),\n",
        "nn.Linear(10 * 6 * 6, 50),\n",
        "a ReLU after the first linear",
    ),
    (
        1,
        "nn.MaxPool2d(2),  # 26 -> 13\n        nn.MaxPool2d(2)",
        "nn.AvgPool2d(2),\n        nn.AvgPool2d(2)",
        "max pooling",
    ),
    (
        2,
        "    set_seed(seed)  # first: the initial weights are drawn when the model is built\n    model = build()\n",
        "    model = build()\n    set_seed(seed)\n",
        "call set_seed(seed) BEFORE build()",
    ),
    (2, "set_seed(seed)  # first", "set_seed(0)  # first", "the argument, not the notebook's seed"),
    (2, "model = build()", "model = ConvNet()", "fit trains the model build() returns"),
    (2, "_, val_acc = evaluate(", "val_acc, _ = evaluate(", "evaluate returns (loss, accuracy)"),
    (2, "evaluate(model, data.val_x, data.val_y)", "evaluate(model, data.train_x, data.train_y)", "validation images"),
    (2, "epochs=epochs, lr=lr", "epochs=2, lr=lr", "pass run_experiment's own arguments on"),
    (2, "seed=seed, progress=False)", "seed=seed)", "fit(..., progress=False)"),
    (2, TIMER, TIMER.split("\n", 1)[1] + TIMER.split("\n", 1)[0] + "\n", "just before fit(...)"),
    (3, "    model = copy.deepcopy(model)\n", "", "work on copy.deepcopy(model)"),
    (3, "    model = copy.deepcopy(model)\n", "    model = copy.copy(model)\n", "work on copy.deepcopy(model)"),
    (3, "model = copy.deepcopy(model)", "model = type(model)()", "copy.deepcopy(model), not a new model"),
    (
        3,
        LOOP,
        "    for name, child in model.named_children():\n        if isinstance(child, nn.ReLU):\n"
        "            setattr(model, name, nn.Identity())\n",
        "the ReLUs are nested",
    ),
    (
        3,
        LOOP,
        "    for module in model.modules():\n        if isinstance(module, nn.ReLU):\n"
        "            module = nn.Identity()\n",
        "assigning to the loop variable changes nothing",
    ),
    (4, '"std": val_acc.std(),', '"std": val_acc.std(ddof=0),', "divides by n - 1"),
    (4, "ascending=False, ignore_index=True)", "ascending=True, ignore_index=True)", "ascending=False: the best first"),
    (4, '    return table.sort_values("mean", ascending=False, ignore_index=True)', "    return table", "sort_values("),
    (4, YARDSTICK, "sigma", "not by σ alone"),
    (4, YARDSTICK, "(sigma / len(seeds) ** 0.5)", "not σ/√n"),
    (
        4,
        '(table["std"] ** 2 + baseline["std"] ** 2) / 2) ** 0.5',
        '(table["std"] + baseline["std"]) / 2)',
        "as squares",
    ),
    (4, ".abs() / (", " / (", "absolute value"),
    (
        4,
        "table = pd.DataFrame(rows)\n",
        'table = pd.DataFrame(rows).sort_values("mean", ascending=False, ignore_index=True)\n',
        "the baseline is the first variant of the dict",
    ),
    (4, "lr, seed) for seed in seeds]", "lr, seeds[0]) for seed in seeds]", "for every seed in seeds"),
    (4, 'runs["seconds"].mean()', 'runs["seconds"].sum()', "the mean over the seeds, not the total"),
    (4, "epochs, batch_size, lr, seed)", "epochs, 64, lr, seed)", "pass epochs, batch_size and lr on"),
]


@pytest.mark.parametrize("task, old, new, hint", BUGS, ids=[f"task{b[0]}-{b[3][:24]}" for b in BUGS])
def test_a_classic_bug_fails_a_visible_check_with_its_hint(exercise, task, old, new, hint):
    assert_bug_fails_with_hint(exercise, task, old, new, hidden=False, hint=hint)


OTHER_CORRECT_ANSWERS = {
    1: """
import torch


class OneConvTwoPools(nn.Module):  # a class, functional ReLUs and one 4x4 pooling: the same network
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 10, 5, padding=1)
        self.hidden = nn.Linear(360, 50)
        self.out = nn.Linear(50, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv(x)), 4)
        return self.out(torch.relu(self.hidden(x.flatten(start_dim=1))))


def one_conv_two_pools():
    return OneConvTwoPools()
""",
    2: """
def run_experiment(build, data, epochs, batch_size, lr, seed):
    set_seed(seed)
    net = build()
    began = time.time()
    fit(net, data, epochs, lr, batch_size, seed=seed, progress=False)
    took = time.time() - began
    return dict(val_acc=evaluate(net, data.val_x, data.val_y)[1], parameters=count_parameters(net), seconds=took)
""",
    3: """
def without_relu(model):
    copied = copy.deepcopy(model)
    names = [name for name, module in copied.named_modules() if isinstance(module, nn.ReLU)]
    for name in names:
        parent, _, child = name.rpartition(".")
        setattr(copied.get_submodule(parent), child, nn.Identity())
    return copied
""",
    4: """
import math
import statistics


def ablation_table(variants, data, epochs, batch_size, lr, seeds):
    results = {name: [] for name in variants}
    for seed in seeds:  # seeds outside, variants inside: the same runs
        for name, build in variants.items():
            results[name].append(run_experiment(build, data, epochs, batch_size, lr, seed))
    first = next(iter(variants))
    base_accs = [r["val_acc"] for r in results[first]]
    rows = []
    for name, runs in results.items():
        accs = [r["val_acc"] for r in runs]
        sigma = math.sqrt((statistics.stdev(accs) ** 2 + statistics.stdev(base_accs) ** 2) / 2)
        gap = statistics.mean(accs) - statistics.mean(base_accs)
        rows.append([name, runs[0]["parameters"], statistics.mean(accs), statistics.stdev(accs),
                     statistics.mean(r["seconds"] for r in runs), abs(gap) / (sigma * math.sqrt(2 / len(seeds)))])
    rows.sort(key=lambda row: row[2], reverse=True)
    return pd.DataFrame(rows, columns=["variant", "parameters", "mean", "std", "seconds", "ratio"])
""",
}


@pytest.mark.parametrize("task", sorted(OTHER_CORRECT_ANSWERS))
def test_another_correct_answer_passes_every_check(exercise, task):
    check_task(exercise, task, OTHER_CORRECT_ANSWERS[task], hidden=True)
    check_task(exercise, task, solution_answer(exercise, task), hidden=True)


def test_a_renamed_answer_gets_one_line_saying_which_name_the_check_needs(exercise):
    notebook, namespace = exercise
    renamed = solution_answer(exercise, 1).replace("def one_conv_two_pools(", "def one_conv_net(")
    namespace.pop("one_conv_two_pools", None)
    with pytest.raises(
        CheckFailed, match="`one_conv_two_pools` is not defined yet: run the cell where Task 1"
    ) as error:
        check_task(exercise, 1, renamed)
    assert "\n" not in str(error.value)
    check_task(exercise, 1, solution_answer(exercise, 1), hidden=True)


def test_task_4_is_checked_with_made_up_experiments_whatever_task_2_does(exercise):
    """A broken run_experiment (Task 2) costs Task 2 only: Task 4's check never calls it."""
    notebook, namespace = exercise
    run_cells(notebook, "task2-answer", namespace=namespace, task2_answer="def run_experiment(*args):\n    return 0")
    check_task(exercise, 4, solution_answer(exercise, 4), hidden=True)
    run_cells(notebook, "task2-answer", namespace=namespace)
