"""Hidden tests of exercises 1: what `course grade` runs after each task's visible checks.

The same requirements as the visible checks, on other inputs (other labels, other batches, other images).
"""

import torch

from course_utils.checks import check_close, check_equal
from course_utils.data import normalization_stats
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.data_exploration import course_means

hidden = Tasks("data_exploration")


@hidden(1, "class counts and a balanced sample", answers=["class_counts", "balanced_subset"])
def other_labels(nb):
    counts = nb.class_counts(nb.labels)
    check_equal(counts.tolist(), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949], "all ten counts")
    check_equal(nb.class_counts(torch.tensor([3]), n_classes=5).tolist(), [0, 0, 0, 1, 0], "counts with n_classes=5")
    labels = torch.arange(40) % 4  # 0, 1, 2, 3, 0, 1, ...: ten of each of 4 classes
    picked = nb.balanced_subset(labels, 7, torch.Generator().manual_seed(5), n_classes=4)
    check_equal(len(set(picked.tolist())), 28, "28 different positions, 7 of each of 4 classes")
    check_equal(torch.bincount(labels[picked], minlength=4).tolist(), [7] * 4, "7 of each of 4 classes")
    again = nb.balanced_subset(labels, 7, torch.Generator().manual_seed(5), n_classes=4)
    check_equal(torch.equal(picked, again), True, "the same seed gives the same sample")
    labels = torch.arange(44) % 11  # four of each of 11 classes: n_classes, not 10
    picked = nb.balanced_subset(labels, 3, torch.Generator().manual_seed(2), n_classes=11)
    check_equal(torch.bincount(labels[picked], minlength=11).tolist(), [3] * 11, "3 of each of 11 classes")


@hidden(2, "pixel statistics, whole and batch by batch", answers=["pixel_stats", "streaming_stats"])
def other_images(nb):
    images = nb.images[20_000:25_000]
    mean, std = normalization_stats(images)
    check_close(nb.pixel_stats(images), (mean, std), "mean and std of 5,000 other images", rtol=1e-5)
    streamed = nb.streaming_stats(batch for batch in images.split(777))
    check_close(streamed, (mean, std), "streaming_stats of those 5,000 images in batches of 777", atol=1e-4)


@hidden(3, "mean images and the closest pair", answers=["class_means", "closest_pair"])
def other_means(nb):
    images, labels = nb.images[:900], nb.labels[:900] % 3  # three classes of mixed digits
    check_close(nb.class_means(images, labels, n_classes=3), course_means(images, labels, 3), "3 classes", atol=1e-5)
    check_equal(nb.closest_pair(course_means(nb.images, nb.labels)), (4, 9), "closest pair of MNIST's mean digits")
    toy = torch.tensor([[[9.0]], [[0.0]], [[1.0]], [[7.0]]])  # four 1 x 1 images
    check_equal(nb.closest_pair(toy), (1, 2), "closest pair of four 1 x 1 images")
    toy = torch.tensor([[12.0, 12.0], [5.0, 5.0], [3.0, 3.0], [0.0, 3.0]]).reshape(4, 2, 1) / 12  # (2, 3) by |a| + |b|
    check_equal(nb.closest_pair(toy), (1, 2), "closest pair (Euclidean) of four 2 x 1 images")
