"""The checks of exercises 5 (ablations, done properly): ``check(task=N)``. What they compare with is in
`ablations_reference.py`: Task 1's network, given its weights, must compute the logits of the course's build;
Task 2 runs with a `fit` that records what it is handed; Task 4 gets made-up experiments in place of Task 2's."""

import dataclasses

import torch
from torch import nn

from course_utils import ConvNet, count_parameters, evaluate
from course_utils.checks import check_close, check_equal, check_own_work, check_shape, explain_errors, fail
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.ablations_reference import (
    ORDER,
    SIZES,
    RecordingFit,
    course_build,
    course_table,
    hint_for_logits,
    logits_with_weights_of,
    made_up_result,
    ratio_hint,
    ratios,
    same,
    seeded_weights,
    shape_reaching,
    std_hint,
)

tasks = Tasks("ablations")
check = tasks.check


@tasks(1, "one conv layer, both poolings", answers=["one_conv_two_pools"])
def one_conv_both_poolings(nb):
    with explain_errors("one_conv_two_pools()"):
        model = nb.one_conv_two_pools()
    check_equal(isinstance(model, nn.Module), True, "one_conv_two_pools() returns a network", "an nn.Sequential")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    check_equal(len(convs), 1, "number of conv layers", hint="keep exactly one nn.Conv2d: this variant removes conv2")
    check_equal(
        [(c.in_channels, c.out_channels, c.kernel_size, c.padding, c.stride) for c in convs],
        [(1, 10, (5, 5), (1, 1), (1, 1))],
        "the conv layer (in channels, out channels, kernel, padding, stride)",
        hint="nn.Conv2d(1, 10, kernel_size=5, padding=1), the first conv layer of the two-conv network",
    )
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    check_equal(len(linears), 2, "number of linear layers", hint="nn.Linear(?, 50), then nn.Linear(50, 10)")
    with explain_errors("the layers before the first linear layer", hint=ORDER):
        shape = shape_reaching(linears[0], model, torch.zeros(4, 1, 28, 28))
    if len(shape) != 2:
        fail("what reaches the first linear layer", f"a tensor of shape {shape}", "flatten the maps: nn.Flatten()")
    check_equal(shape[1], 10 * 6 * 6, "numbers per image reaching the first linear layer", hint=SIZES)
    check_equal(linears[0].in_features, 360, "inputs of the first linear layer", hint=f"10 x 6 x 6 = 360: {SIZES}")
    with explain_errors("the forward pass of one_conv_two_pools()", hint=ORDER):
        out = model(torch.zeros(4, 1, 28, 28))
    check_shape(out, (4, 10), "output for a batch of 4", hint="one row of 10 logits per image")
    check_equal(
        count_parameters(model),
        18_820,
        "parameters of the network",
        hint="conv 260 + linear (360 -> 50) 18,050 + linear (50 -> 10) 510: is the hidden layer 50 units wide?",
    )
    x = nb.data.val_x[:16]
    with torch.no_grad():
        got, reference = model(x), logits_with_weights_of(model, course_build(), x)
    hint = hint_for_logits(model, x)
    check_close(got, reference, "logits compared with the course's build, given your weights", atol=1e-5, hint=hint)
    check_own_work(model, ConvNet, "one_conv_two_pools builds its own layers")


@tasks(2, "a reproducible experiment", answers=["run_experiment"])
def reproducible_experiment(nb, build=ConvNet, settings=None):
    """Runs run_experiment twice, with settings unlike the notebook's, and `fit` recording what it gets."""
    data, pause = nb.data, 0.05
    small = dataclasses.replace(data, train_x=data.train_x[:96], train_y=data.train_y[:96])
    small = dataclasses.replace(small, val_x=data.val_x[:300], val_y=data.val_y[:300])
    settings = settings or {"epochs": 3, "batch_size": 32, "lr": 0.001, "seed": nb.seed + 1}
    record, built = RecordingFit(pause), []

    def recorded_build():
        built.append(build())
        return built[-1]

    with explain_errors("run_experiment", hint="set_seed(seed), build(), fit(...), then evaluate"):
        with nb.lend(fit=record):
            result, again = (nb.run_experiment(recorded_build, small, **settings) for _ in range(2))
    check_equal(type(result).__name__, "dict", "run_experiment returns a dict", hint='{"parameters": ..., ...}')
    check_equal(sorted(result), ["parameters", "seconds", "val_acc"], "the keys of the result")
    check_equal(len(record.calls), 2, "calls to fit in two experiments", hint="call fit once per experiment")
    run, first_built = record.calls[0], built[0] if built else None
    check_equal(run["model"] is first_built, True, "fit trains the model build() returns", hint="model = build()")
    check_equal(run["data"] is small, True, "fit trains on the data it is given", hint="fit(model, data, ...)")
    check_equal(
        tuple(run[name] for name in settings),
        tuple(settings.values()),
        "the settings fit got (epochs, batch_size, lr, seed)",
        hint="pass run_experiment's own arguments on: fit(model, data, epochs=epochs, lr=lr, "
        "batch_size=batch_size, seed=seed, ...)",
    )
    check_equal(run["progress"], False, "fit's progress bar is off", hint="fit(..., progress=False)")
    weights = {name: seeded_weights(build, seed) for name, seed in (("seed", settings["seed"]), ("notebook", nb.seed))}
    check_equal(
        torch.equal(run["first weights"], weights["seed"]),
        True,
        "the initial weights are those set_seed(seed) gives",
        hint="set_seed(seed), the argument, not the notebook's seed"
        if torch.equal(run["first weights"], weights["notebook"])
        else "call set_seed(seed) BEFORE build(): the initial weights are drawn when the model is created",
    )
    check_equal(type(result["val_acc"]).__name__, "float", "val_acc is a Python float", hint="float(...)")
    check_equal(again["val_acc"], result["val_acc"], "val_acc of two runs with the same seed")
    loss, accuracy = evaluate(built[0], small.val_x, small.val_y)
    check_close(
        result["val_acc"],
        accuracy,
        "val_acc, compared with evaluate on the validation images",
        hint="evaluate returns (loss, accuracy): take the accuracy"
        if abs(result["val_acc"] - loss) < 1e-6
        else "evaluate(model, data.val_x, data.val_y) after fit: the validation images, not the training ones",
    )
    check_equal(result["parameters"], count_parameters(build()), "parameters of the model", "count_parameters(model)")
    check_equal(type(result["seconds"]).__name__, "float", "seconds is a Python float", hint="time.perf_counter()")
    if not pause <= result["seconds"] < 60:
        fail(
            "seconds: the time fit took",
            f"fit took at least {pause} s, your seconds says {result['seconds']:.3g}",
            "start = time.perf_counter() just before fit(...), seconds = time.perf_counter() - start after it",
        )


@tasks(3, "without_relu", answers=["without_relu"])
def without_relu_copies(nb, original=None):
    original = ConvNet() if original is None else original
    relus = sum(isinstance(m, nn.ReLU) for m in original.modules())
    with explain_errors("without_relu(model)"):
        copy = nb.without_relu(original)
    check_equal(isinstance(copy, nn.Module), True, "without_relu returns a network", hint="return the copy")
    left = sum(isinstance(m, nn.ReLU) for m in copy.modules())
    hint = "visit every module with model.modules() (the ReLUs are nested) and replace each ReLU child"
    if left == relus:  # none replaced: on a model with a ReLU at the top, tell the two classic causes apart
        probe = nb.without_relu(nn.Sequential(nn.ReLU(), nn.Sequential(nn.ReLU())))
        if not isinstance(probe[0], nn.Identity):
            hint = "assign with setattr(parent, name, nn.Identity()): assigning to the loop variable changes nothing"
    check_equal(left, 0, f"ReLUs left in the copy (the model has {relus}, some in nested containers)", hint=hint)
    check_equal(
        sum(isinstance(m, nn.ReLU) for m in original.modules()),
        relus,
        "ReLUs left in the original",
        hint="work on copy.deepcopy(model), never on the model you were given",
    )
    check_equal(
        [type(m).__name__ for m in copy.modules()],
        ["Identity" if isinstance(m, nn.ReLU) else type(m).__name__ for m in original.modules()],
        "the copy's layers, in order",
        hint="put an nn.Identity() where each ReLU was, and keep every other layer in its place",
    )
    pairs = list(zip(copy.parameters(), original.parameters(), strict=True))
    kept, shared = all(torch.equal(a, b) for a, b in pairs), any(a.data_ptr() == b.data_ptr() for a, b in pairs)
    check_equal(kept, True, "the copy keeps the original's weights", "copy.deepcopy(model), not a new model")
    hint = "copy.deepcopy(model) copies the weights too; copy.copy(model) shares them"
    check_equal(shared, False, "the copy has weights of its own (training it leaves the original as it was)", hint)


@tasks(4, "the ablation table over seeds", answers=["ablation_table"])
def ablation_table_over_seeds(nb, seeds=(7, 8, 9, 10), sizes=None):
    """The student's table of made-up experiments (``sizes``: {variant: inputs of its nn.Linear})."""
    seeds, sizes, calls = list(seeds), sizes or {"small": 2, "medium": 4, "large": 8}, []

    def made_up_experiment(build, data, epochs, batch_size, lr, seed):
        calls.append((count_parameters(build()), epochs, batch_size, lr, seed))
        return made_up_result(calls[-1][0], seed)

    variants = {name: (lambda n=n: nn.Linear(n, 1)) for name, n in sizes.items()}  # n + 1 parameters
    with explain_errors("ablation_table", hint="run_experiment for each variant and seed, then a pd.DataFrame"):
        with nb.lend(run_experiment=made_up_experiment):
            table = nb.ablation_table(variants, nb.data, 3, 32, 0.01, seeds)
    check_equal(type(table).__name__, "DataFrame", "ablation_table returns a pandas DataFrame", "pd.DataFrame(rows)")
    check_equal(
        [sorted(c[4] for c in calls if c[0] == n + 1) for n in sizes.values()],
        [sorted(seeds)] * len(sizes),
        "the seeds each variant ran with",
        hint="run_experiment(build, data, epochs, batch_size, lr, seed) for every seed in seeds, for every variant",
    )
    check_equal(
        sorted({c[1:4] for c in calls}),
        [(3, 32, 0.01)],
        "the settings of every run (epochs, batch_size, lr)",
        hint="pass epochs, batch_size and lr on to run_experiment unchanged",
    )
    check_equal(list(table.columns), ["variant", "parameters", "mean", "std", "seconds", "ratio"], "the columns")
    expected, groups = course_table(sizes, seeds)
    order, best_first = table["variant"].tolist(), list(expected.index)
    check_equal(
        order,
        best_first,
        "one row per variant, sorted by mean, best first",
        hint="ascending=False: the best first" if order == best_first[::-1] else "sort_values('mean', ascending=False)",
    )
    table = table.set_index("variant")
    check_equal(table["parameters"].tolist(), expected["parameters"].tolist(), "each variant's parameters")
    check_close(table["mean"].tolist(), expected["mean"].tolist(), "each variant's mean val_acc over its seeds")
    stds, what = table["std"].tolist(), "each variant's standard deviation of val_acc over its seeds"
    check_close(stds, expected["std"].tolist(), what, hint=std_hint(stds, groups, best_first))
    total = groups["seconds"].sum().reindex(best_first).tolist()
    hint = "the mean over the seeds, not the total" if same(table["seconds"].tolist(), total) else None
    check_close(table["seconds"].tolist(), expected["seconds"].tolist(), "each variant's mean seconds", hint=hint)
    baseline, got = next(iter(sizes)), table["ratio"].tolist()
    check_close(
        got,
        ratios(expected, baseline, len(seeds)),
        f"each variant's ratio |gap to {baseline!r}| / yardstick",
        hint=ratio_hint(got, expected, baseline, len(seeds)),
    )
