"""Exercises 4 (the two-conv network) are fair: classic bugs fail a visible check with the hint that
names them, other correct answers pass every check (hidden tests included), and a loop that does not
call Task 2's train_step is told so plainly.

The cells run in this process, set up in quick mode (1,000 training images, one epoch).
"""

import re
from pathlib import Path

import pytest
from solution_cells import assert_bug_fails_with_hint, check_task, quick_exercise, run_cells, solution_answer

from course_utils.checks import CheckFailed

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "04_two_conv_net_exercises.ipynb"


@pytest.fixture(scope="module")
def exercise():
    notebook, namespace = quick_exercise(SOLUTION, "code-03")
    run_cells(notebook, "task1-answer", "task2-answer", "task3-answer", namespace=namespace)
    return notebook, namespace


BUGS = [  # (task, text of the solution's answer, the bug put in its place, the hint that must name it)
    (1, "nn.Linear(32 * 7 * 7, 64)", "nn.Linear(20 * 5 * 5, 64)", "28 -> 14 -> 7"),
    (1, "nn.Conv2d(1, 16, kernel_size=3, padding=1)", "nn.Conv2d(1, 16, kernel_size=3)", "padding=1)"),
    (1, "x.flatten(start_dim=1)", "x.flatten()", "x.flatten(start_dim=1)"),
    (1, "return self.fc2(x)", "return torch.softmax(self.fc2(x), dim=1)", "no softmax"),
    (1, "x = torch.relu(self.fc1(", "x = (self.fc1(", "ReLU after conv1, conv2 and fc1"),
    (2, "    optimizer.zero_grad()\n", "", "backward ADDS to the old gradients"),
    (2, "    model.train()\n", "", "call model.train() first"),
    (2, "return loss.item()", "return loss", "return loss.item()"),
    (2, "cross_entropy(model(xb), yb)", "cross_entropy(yb, model(xb))", "logits first, labels second"),
    (3, "    model.eval()\n", "", "call model.eval() before measuring"),
    (3, "    model.train()\n    return", "    return", "call model.train() at the end"),
    (3, "return correct / len(y)", "return 100 * correct / len(y)", "not by 100"),
    (3, "range(0, len(y), batch_size)", "range(0, len(y) - batch_size, batch_size)", "the last, smaller one"),
    (4, "shuffle=True", "shuffle=False", "shuffle=True"),
    (4, "accuracy(model, data.val_x, data.val_y)", "accuracy(model, data.train_x, data.train_y)", "validation"),
]


@pytest.mark.parametrize("task, old, new, hint", BUGS, ids=[f"task{b[0]}-{b[3][:20]}" for b in BUGS])
def test_a_classic_bug_fails_a_visible_check_with_its_hint(exercise, task, old, new, hint):
    assert_bug_fails_with_hint(exercise, task, old, new, hidden=False, hint=hint)


OTHER_CORRECT_ANSWERS = {
    1: """class SmallKernelNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(1568, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(nn.functional.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(nn.functional.relu(self.conv2(x)), 2)
        return self.fc2(nn.functional.relu(self.fc1(x.view(len(x), -1))))""",
    2: """def train_step(model, optimizer, xb, yb):
    model.train()
    optimizer.zero_grad()
    loss = nn.CrossEntropyLoss()(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.detach().item()""",
    3: """@torch.no_grad()
def accuracy(model, x, y, batch_size=1000):
    model.eval()
    hits = sum(int((model(xb).argmax(1) == yb).sum()) for xb, yb in zip(x.split(batch_size), y.split(batch_size)))
    model.train()
    return hits / len(y)""",
}


@pytest.mark.parametrize("task", sorted(OTHER_CORRECT_ANSWERS))
def test_another_correct_answer_passes_every_check(exercise, task):
    check_task(exercise, task, OTHER_CORRECT_ANSWERS[task], hidden=True)
    check_task(exercise, task, solution_answer(exercise, task), hidden=True)


INLINE_LOOP = """def train(model, data, epochs, batch_size, lr, seed=0):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(epochs):
        model.train()
        for xb, yb in iterate_batches(data.train_x, data.train_y, batch_size, shuffle=True, generator=generator):
            loss = nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        history.append(accuracy(model, data.val_x, data.val_y))
    return history"""


def test_a_working_loop_that_does_not_call_train_step_is_told_the_task_requires_it(exercise):
    with pytest.raises(CheckFailed, match=re.escape("train uses Task 2's train_step for every batch")):
        check_task(exercise, 4, INLINE_LOOP)


def test_a_renamed_answer_or_a_check_run_before_its_answer_says_which_cell_to_run(exercise):
    notebook, namespace = exercise
    saved = namespace.pop("accuracy")
    try:
        with pytest.raises(CheckFailed, match=r"^Task 3 \(accuracy\): `accuracy` is not defined yet: run the cell"):
            run_cells(notebook, "task3-check", namespace=namespace)
    finally:
        namespace["accuracy"] = saved
