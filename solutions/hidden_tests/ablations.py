"""Hidden tests of exercises 5: what `course grade` runs after each task's visible checks.

The same requirements as the visible checks, on other inputs: another batch and other images, another
model and other settings, a model with ReLUs at the top and nested, other variants and seeds.
"""

import torch
from torch import nn

from course_utils.checks import check_close, check_shape
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.ablations import (
    ablation_table_over_seeds,
    reproducible_experiment,
    without_relu_copies,
)
from course_utils.exercise_checks.ablations_reference import course_build, hint_for_logits, logits_with_weights_of

hidden = Tasks("ablations")


@hidden(1, "one conv layer, both poolings", answers=["one_conv_two_pools"])
def other_images(nb):
    model = nb.one_conv_two_pools()
    check_shape(model(torch.zeros(3, 1, 28, 28)), (3, 10), "output for a batch of 3", "do not hard-code the batch")
    x = torch.randn(5, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        got, reference = model(x), logits_with_weights_of(model, course_build(), x)
    check_close(got, reference, "logits of random images", atol=1e-5, hint=hint_for_logits(model, x))


@hidden(2, "a reproducible experiment", answers=["run_experiment"])
def another_model_and_settings(nb):
    settings = {"epochs": 1, "batch_size": 16, "lr": 0.01, "seed": nb.seed + 5}
    reproducible_experiment(nb, build=lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), settings=settings)


@hidden(3, "without_relu", answers=["without_relu"])
def a_model_with_relus_at_the_top_and_nested(nb):
    without_relu_copies(nb, original=nn.Sequential(nn.ReLU(), nn.Sequential(nn.Linear(3, 3), nn.ReLU())))


@hidden(4, "the ablation table over seeds", answers=["ablation_table"])
def other_variants_and_seeds(nb):
    ablation_table_over_seeds(nb, seeds=(2, 3), sizes={"wide": 16, "narrow": 1, "medium": 4})
