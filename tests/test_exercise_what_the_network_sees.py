"""Exercises 11 (testing the explanations, and fooling the network) are fair: classic bugs fail a
visible check with the hint that names them, other correct answers pass every check (hidden tests
included), a renamed answer is told which name the check looks for, and a mistake the checks do not
recognise gets no hint that names another.

The cells run in this process, set up in quick mode (1,000 training images, one epoch).
"""

from pathlib import Path

import nbformat
import pytest
from solution_cells import (
    assert_bug_fails_with_hint,
    cell,
    check_task,
    quick_exercise,
    run_cells,
    solution_answer,
)

from course_utils.checks import CheckFailed

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "11_what_the_network_sees_exercises.ipynb"
SOLUTION_NOTEBOOK = nbformat.read(SOLUTION, as_version=4)


@pytest.fixture(scope="module")
def exercise():
    notebook, namespace = quick_exercise(SOLUTION, "code-03", "code-04")
    run_cells(notebook, "task1-answer", "task2-answer", "task3-answer", "task4-answer", namespace=namespace)
    return notebook, namespace


STEP = """        x = x.detach().requires_grad_(True)
        (gradient,) = torch.autograd.grad(model(x[None])[0, label], x)
        x = (x - eps * gradient.sign()).clamp(paper, full_ink)
"""
LAST_LINES = """        x = (x - eps * gradient.sign()).clamp(paper, full_ink)
        with torch.no_grad():
            if model(x[None]).argmax(dim=1).item() != label:
                break
    return x.detach(), steps"""
CROSS_ENTROPY = "-torch.nn.functional.cross_entropy(model(x[None]), torch.tensor([label]))"
BACKWARD_WITHOUT_RESET = """        x.requires_grad_(True)
        model(x[None])[0, label].backward()
        with torch.no_grad():
            x -= eps * x.grad.sign()
            x.clamp_(paper, full_ink)
"""
CLAMPED_AT_THE_END = LAST_LINES.replace(".clamp(paper, full_ink)", "").replace(
    "return x.detach(), steps", "return x.detach().clamp(paper, full_ink), steps"
)
WHILE_LOOP = """    x, steps = image.clone(), 0
    while steps < max_steps:
        steps += 1
"""
FOR_LOOP = """    x = image.clone()
    for step in range(max_steps):
"""
COUNTED_BY_THE_INDEX = (  # the loop's index: one fewer than the steps taken
    cell(SOLUTION_NOTEBOOK, "task4-answer")
    .source.replace(WHILE_LOOP, FOR_LOOP)
    .replace("return x.detach(), steps", "return x.detach(), step")
)
AGAINST_THE_PREVIOUS = """        maps = method(randomized, images, targets)
        correlations.append(rank_correlation(original, maps))
        original = maps"""

BUGS = [  # (task, text of the solution's answer, the bug put in its place, the hint that must name it)
    (1, "gradients.mean(dim=0))[0]", "gradients.mean(dim=0))[0].abs()", "keep the attributions' sign, no .abs()"),
    (1, "    path.requires_grad_(True)\n", "", "requires_grad_(True) before the forward pass"),
    (1, "logits = model(path)", "logits = model(path).softmax(dim=1)", "not of the softmax"),
    (1, "((image - baseline) * gradients.mean(dim=0))[0]", "gradients.mean(dim=0)[0]", "by (image - baseline)"),
    (1, "(image - baseline) * gradients", "image * gradients", "not by the image alone"),
    (1, "(torch.arange(steps) + 0.5) / steps", "torch.arange(steps) / steps", "the midpoints"),
    (1, "gradients.mean(dim=0)", "gradients.sum(dim=0)", "average the gradients over the steps"),
    (1, "gradients.mean(dim=0))[0]", "gradients.mean(dim=0))", "drop the channel"),
    (1, "(torch.arange(steps) + 0.5) / steps", "torch.linspace(0, 1, steps)", "linspace(0, 1, steps) starts on"),
    (2, "argsort(descending=True)", "argsort()", "the MOST attributed pixels first"),
    (2, "order = attribution.flatten()", "order = attribution.abs().flatten()", "not its size"),
    (2, "range(0, 28 * 28 + 1, step)", "range(0, 28 * 28, step)", "range(0, 785, step)"),
    (2, "deleted = image.clone().flatten()", "deleted = image.flatten()", "image.clone()"),
    (2, "    with torch.no_grad():\n        return", "    if True:\n        return", "torch.no_grad()"),
    (
        2,
        "return model(torch.stack(copies))[:, target]",
        "return [model(c[None])[0, target] for c in copies]",
        "torch.stack(values) or torch.tensor(values)",
    ),
    (3, "randomized = copy.deepcopy(model)", "randomized = model", "copy.deepcopy(model)"),
    (3, "for name in TOP_DOWN:", "for name in reversed(TOP_DOWN):", "randomize from the top"),
    (
        3,
        "    randomized = copy.deepcopy(model)\n    correlations = []\n    for name in TOP_DOWN:\n",
        "    correlations = []\n    for name in TOP_DOWN:\n        randomized = copy.deepcopy(model)\n",
        "keep the layers randomized so far",
    ),
    (
        3,
        "        correlations.append(rank_correlation(original, method(randomized, images, targets)))",
        AGAINST_THE_PREVIOUS,
        "with the ORIGINAL model's maps",
    ),
    (3, "correlations = []", "correlations = [1.0]", "(not stage 0)"),
    (
        3,
        "randomized.get_submodule(name).load_state_dict(random_model.get_submodule(name).state_dict())",
        "random_model.get_submodule(name).load_state_dict(randomized.get_submodule(name).state_dict())",
        "load its weights INTO the copy of model",
    ),
    (3, "method(randomized, images, targets)", "saliency(randomized, images, targets)", "the method passed in"),
    (3, "    return correlations", "    return torch.tensor(correlations)", "correlations.append"),
    (4, "    model.eval()\n", "", "call model.eval() first"),
    (4, ".clamp(paper, full_ink)", "", "x.clamp(paper, full_ink) each step"),
    (4, "x - eps * gradient.sign()", "x + eps * gradient.sign()", "step AGAINST the gradient"),
    (4, "eps * gradient.sign()", "eps * gradient", "gradient.sign()"),
    (4, "return x.detach(), steps", "return x, steps", "return x.detach()"),
    (4, "model(x[None])[0, label], x)", f"{CROSS_ENTROPY}, x)", "not of the loss"),
    (4, "x = x.detach().requires_grad_(True)", "x = x.detach()", "x must require gradients at every step"),
    (4, STEP, BACKWARD_WITHOUT_RESET, "backward() adds to x.grad"),
    (4, LAST_LINES, CLAMPED_AT_THE_END, "EVERY step"),
    (
        4,
        "            if model(x[None]).argmax(dim=1).item() != label:\n                break\n",
        "            pass\n",
        "stop right after",
    ),
    (4, "    return x.detach(), steps", "    return x.detach(), torch.tensor(steps)", "count them with an int"),
    (4, ".clamp(paper, full_ink)", ".clamp(0, 1)", "clamp(paper, full_ink), not clamp(0, 1)"),
    (4, cell(SOLUTION_NOTEBOOK, "task4-answer").source, COUNTED_BY_THE_INDEX, "step + 1 after the loop's index"),
]


@pytest.mark.parametrize("task, old, new, hint", BUGS, ids=[f"task{b[0]}-{b[3][:24]}" for b in BUGS])
def test_a_classic_bug_fails_a_visible_check_with_its_hint(exercise, task, old, new, hint):
    assert_bug_fails_with_hint(exercise, task, old, new, hidden=False, hint=hint, recheck=False)


def failure(exercise, task: int, old: str, new: str) -> str:
    """The message of the solution's answer with ``old`` replaced by ``new``; the solution then passes again."""
    answer = solution_answer(exercise, task)
    assert answer.count(old) == 1, old
    with pytest.raises(CheckFailed) as failed:
        check_task(exercise, task, answer.replace(old, new))
    check_task(exercise, task, answer)
    return str(failed.value)


def test_a_wrong_count_or_clamp_is_not_blamed_on_the_step_size(exercise):
    """The largest change of a pixel is bounded by eps times the steps: a count that is off, or a clamp to
    0..1, broke that bound while the step itself, eps * gradient.sign(), was right."""
    message = failure(exercise, 4, "return x.detach(), steps", "return x.detach(), steps + 1")  # no classic mistake
    assert "the image is right, its count is not" in message and "gradient.sign()" not in message
    step = "(x - eps * gradient.sign()).clamp(paper, full_ink)"
    message = failure(exercise, 4, step, "(x - eps * gradient).clamp(0, 1)")  # two mistakes: the clamp's is named
    assert "not clamp(0, 1)" in message and "gradient.sign()" not in message


NOT_AVERAGED = "((image - baseline) * gradients.mean(dim=0))[0]"
CURVE = "return model(torch.stack(copies))[:, target]"
WRONG_CAUSES = [  # (task, old, new, the hint that names the mistake, an old hint that named another cause)
    (1, NOT_AVERAGED, "((image - baseline) * gradients)[0]", ".mean(dim=0)", "drop the channel"),
    (1, "gradients.mean(dim=0)", "gradients.mean(dim=1, keepdim=True)", ".mean(dim=0)", "drop the channel"),
    (1, NOT_AVERAGED, "(image - baseline) * gradients", ".mean(dim=0)", "drop the channel"),
    (2, CURVE, "return model(torch.stack(copies))", "model(batch)[:, target]", "range(0, 785, step)"),
    (2, CURVE, "return model(torch.stack(copies))[target]", "model(batch)[:, target]", "range(0, 785, step)"),
    (2, CURVE, "return model(torch.stack(copies)).softmax(dim=1)[:, target]", "not a probability", "first copy"),
    (2, CURVE, "return torch.softmax(model(torch.stack(copies)), -1)[:, target]", "not a probability", "first copy"),
    (4, "return x.detach(), steps", "return steps, x.detach()", "the pair is (nudged, steps)", "with an int"),
]


@pytest.mark.parametrize("task, old, new, hint, wrong", WRONG_CAUSES, ids=[f"task{w[0]}-{w[2]}" for w in WRONG_CAUSES])
def test_a_hint_names_the_mistake_not_another(exercise, task, old, new, hint, wrong):
    message = failure(exercise, task, old, new)
    assert hint in message and wrong not in message, message


def test_a_mistake_the_checks_do_not_know_gets_what_differs_and_no_hint(exercise):
    """A channel kept on wrong values, 3-D logits, a sigmoid: no hint that names another mistake."""
    message = failure(exercise, 1, NOT_AVERAGED, "((image - baseline) * gradients.sum(dim=0))")
    assert message.endswith("got (1, 28, 28)"), message
    message = failure(exercise, 2, CURVE, "return model(torch.stack(copies))[None]")
    assert message.endswith("got (1, 50, 10)"), message
    message = failure(exercise, 2, CURVE, "return model(torch.stack(copies)).sigmoid()[:, target]")
    assert "the first and last logits" in message and "first copy" not in message and "probability" not in message
    message = failure(exercise, 2, "deleted[order[:k]] = fill", "deleted[order[:k]] = 0.0")  # the copies are wrong
    assert "the first copy is the untouched image" in message, message


OTHER_CORRECT_ANSWERS = {
    1: """def integrated_gradients(model, image, target, baseline, steps):
    total = torch.zeros_like(image)
    for alpha in torch.linspace(0.5 / steps, 1 - 0.5 / steps, steps):
        point = (baseline + alpha * (image - baseline)).unsqueeze(0)
        point.requires_grad = True
        model(point)[0, target].backward()
        total += point.grad[0]
    return (total / steps * (image - baseline)).squeeze(0).detach()""",
    2: """def deletion_curve(model, image, target, attribution, fill, step):
    ranked = torch.sort(attribution.reshape(-1), descending=True).indices
    batch = []
    for k in range(0, 785, step):
        mask = torch.zeros(784, dtype=torch.bool)
        mask[ranked[:k]] = True
        batch.append(torch.where(mask.view(1, 28, 28), torch.tensor(fill), image))
    with torch.no_grad():
        logits = model(torch.stack(batch))
    return logits[:, target].float()""",
    3: """def cascading_randomization(model, random_model, images, targets, method):
    original = method(model, images, targets)
    result = []
    for k in range(1, len(TOP_DOWN) + 1):
        weights = dict(model.state_dict())
        for name in TOP_DOWN[:k]:
            for key, value in random_model.get_submodule(name).state_dict().items():
                weights[f"{name}.{key}"] = value
        stage = ConvNet()
        stage.load_state_dict(weights)
        result.append(float(rank_correlation(original, method(stage.eval(), images, targets))))
    return result""",
    4: """def nudge(model, image, label, eps, max_steps):
    model.eval()
    x = image.detach().clone()
    for step in range(1, max_steps + 1):
        x.requires_grad = True
        x.grad = None
        model(x.unsqueeze(0))[0][label].backward()
        x = torch.clamp(x.detach() - eps * torch.sign(x.grad), min=paper, max=full_ink)
        with torch.no_grad():
            flipped = model(x.unsqueeze(0)).argmax().item() != label
        if flipped:
            return x, step
    return x, max_steps""",
}


@pytest.mark.parametrize("task", sorted(OTHER_CORRECT_ANSWERS))
def test_another_correct_answer_passes_every_check(exercise, task):
    """Runs after the bug tests above, in their namespace: the solution passing every check here also proves
    that no planted bug left anything behind that fails it (they run only its answer again, not its checks)."""
    check_task(exercise, task, OTHER_CORRECT_ANSWERS[task], hidden=True)
    check_task(exercise, task, solution_answer(exercise, task), hidden=True)


@pytest.mark.parametrize(
    "task, name", [(1, "integrated_gradients"), (2, "deletion_curve"), (3, "cascading_randomization"), (4, "nudge")]
)
def test_a_renamed_answer_is_told_the_name_the_check_looks_for(exercise, task, name):
    notebook, namespace = exercise
    saved = namespace.pop(name)
    try:
        renamed = solution_answer(exercise, task).replace(f"def {name}(", f"def my_{name}(")
        with pytest.raises(CheckFailed, match=rf"^Task {task} \(.*\): `{name}` is not defined yet: run the cell"):
            check_task(exercise, task, renamed)
    finally:
        namespace[name] = saved


def test_no_task_calls_an_earlier_answer(exercise):
    """Tasks 2, 3 and 4 pass with every earlier answer gone: one mistake costs one task."""
    notebook, namespace = exercise
    names = ["integrated_gradients", "deletion_curve", "cascading_randomization"]
    saved = {name: namespace[name] for name in names}
    try:
        for task in (2, 3, 4):
            namespace[names[task - 2]] = None  # the answer of the task before is broken
            run_cells(notebook, f"task{task}-check", namespace=namespace)
    finally:
        namespace.update(saved)


def test_the_course_answer_imported_as_the_students_is_refused(exercise):
    """(A wrapper around it is refused by `course grade`, from the answer cell's course.forbid metadata.)"""
    answer = (
        "from course_utils.exercise_checks.what_the_network_sees_reference import integrated_gradients_reference\n"
        "\nintegrated_gradients = integrated_gradients_reference"
    )
    with pytest.raises(CheckFailed, match="integrated_gradients is your own: this is the course's own"):
        check_task(exercise, 1, answer)
    check_task(exercise, 1, solution_answer(exercise, 1))
