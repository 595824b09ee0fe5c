"""Task 4's checks of exercises 9 (`deeper_networks.py` runs them as ``check(task=4)``): the random shift.

The test images are made so that their pixels tell where they went:

- "dots": a background of -1 with one bright pixel (1.0) in the middle; where the dot lands is the
  image's shift, so 500 dots show whether the shifts are whole pixels, one per image, from -2 to +2;
- "frames": 2 channels of 20 x 30 in float64, a bright border (1.0) and a dot (2.0) in the middle,
  on a background of the image's own level (each image a little darker than the one before). The
  dot gives the shift, and the rows and columns that came in must be the image's own minimum
  (`torch.roll` would bring the border round from the other side).
"""

import torch

from course_utils.checks import check_dtype, check_equal, check_shape, explain_errors

N, MAX_SHIFT = 500, 2
FRAME_DOT = 10, 15  # the dot of a frame: its row and column


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def dots(n: int = N) -> torch.Tensor:
    images = torch.full((n, 1, 28, 28), -1.0)
    images[:, :, 14, 14] = 1.0
    return images


def frames(n: int = N) -> torch.Tensor:
    background = -1 - torch.arange(n, dtype=torch.float64).view(n, 1, 1, 1) / n
    images = background.expand(n, 2, 20, 30).clone()
    images[:, :, [0, -1], :] = 1.0
    images[:, :, :, [0, -1]] = 1.0
    images[:, :, FRAME_DOT[0], FRAME_DOT[1]] = 2.0
    return images


def dot_shifts(moved: torch.Tensor, dot: float = 1.0, where: tuple = (14, 14)) -> torch.Tensor:
    """(dy, dx) of every image: where the dot of its first channel went."""
    found = (moved[:, 0] == dot).nonzero()
    return torch.stack([found[:, 1] - where[0], found[:, 2] - where[1]], dim=1)


def what_came_in(moved: torch.Tensor, shifts: list) -> list:
    """For each shifted frame, the values of the rows and columns that came in across its edges."""
    height, width = moved.shape[-2:]
    values = []
    for image, (dy, dx) in zip(moved, shifts, strict=True):
        rows = image[:, :dy] if dy > 0 else image[:, height + dy :]
        cols = image[:, :, :dx] if dx > 0 else image[:, :, width + dx :]
        values.append(torch.cat([rows.flatten(), cols.flatten()]))
    return values


def background_hint(came_in: list, levels: torch.Tensor) -> str | None:
    """A hint named after what came in instead of the image's own minimum (None when it is something else)."""
    wrong = torch.cat([values[values != level] for values, level in zip(came_in, levels, strict=True)])
    if (wrong == 1.0).any():
        return "the border came back round from the other side: pad and crop, torch.roll wraps the pixels"
    if (wrong == 0).any():
        return "fill with the image's minimum, x[i].min(), not 0: normalized MNIST's background is -0.42"
    if (wrong == levels.min()).any():
        return "fill each image with its own minimum, x[i].min(), not the batch's x.min()"
    return None


def random_shift_task(nb):
    random_shift, seed = nb.random_shift, nb.seed
    images = dots()
    moved = random_shift(images, max_shift=MAX_SHIFT, generator=seeded(seed))
    check_shape(moved, (N, 1, 28, 28), "random_shift(dots, max_shift=2): the shape is kept")
    check_equal(
        torch.equal(images, dots()),
        True,
        "the input is unchanged",
        hint="write into a new tensor (torch.empty_like(x), or torch.stack of the shifted images), not into x",
    )
    check_equal(
        int(((moved == 1.0).sum(dim=(1, 2, 3)) == 1).sum()),
        N,
        "every image still has exactly one bright dot",
        hint="move whole pixels: cut a window out of the padded image; do not interpolate, add or resize",
    )
    check_equal(
        sorted(set(moved.unique().tolist())),
        [-1.0, 1.0],
        "the values in the shifted dots: only the background (-1) and the dot (1)",
        hint="fill with the image's minimum, x[i].min(), not 0" if (moved == 0).any() else None,
    )
    check_equal(
        torch.equal(random_shift(images, max_shift=MAX_SHIFT, generator=seeded(seed)), moved),
        True,
        "the same seed gives the same shifts",
        hint="draw every random number from the generator: torch.randint(..., generator=generator)",
    )
    check_equal(
        torch.equal(random_shift(images, max_shift=MAX_SHIFT, generator=seeded(seed + 1)), moved),
        False,
        "another seed gives other shifts",
        hint="use the generator you are given, not a fixed seed of your own",
    )
    shifts = dot_shifts(moved)
    check_equal(
        len(set(map(tuple, shifts.tolist()))) > 1,
        True,
        "the images get different shifts",
        hint="draw one (dy, dx) for every image, not one for the whole batch",
    )
    for axis, what in [(0, "vertical"), (1, "horizontal")]:
        seen = sorted(set(shifts[:, axis].tolist()))
        check_equal(
            seen,
            [-2, -1, 0, 1, 2],
            f"the {what} shifts of 500 images, with max_shift=2",
            hint="torch.randint(low, high) never returns high: use high=max_shift + 1"
            if seen == [-2, -1, 0, 1]
            else None,
        )
    check_equal(
        len(set(map(tuple, shifts.tolist()))),
        25,
        "all 25 combinations (dy, dx) occur",
        hint="draw dy and dx independently, two random numbers per image",
    )
    framed = frames()
    different = "these images are float64, 2-channel and 20 x 30 (the dots were float32, 1-channel and 28 x 28)"
    with explain_errors("random_shift(frames, max_shift=2)", hint=different):
        moved_frames = random_shift(framed, max_shift=MAX_SHIFT, generator=seeded(seed))
    check_shape(
        moved_frames,
        (N, 2, 20, 30),
        "random_shift(frames): 2-channel images of 20 x 30 keep their shape",
        hint="take the height and width from x.shape[-2:] and cut out a window of that size",
    )
    check_dtype(moved_frames, torch.float64, "a float64 batch stays float64", hint="start from torch.empty_like(x)")
    check_equal(int((moved_frames == 2.0).sum()), 2 * N, "every channel of every frame keeps its dot", hint=different)
    levels = framed.amin(dim=(1, 2, 3))
    came_in = what_came_in(moved_frames, dot_shifts(moved_frames, 2.0, FRAME_DOT).tolist())
    check_equal(
        sum(bool((values == level).all()) for values, level in zip(came_in, levels, strict=True)),
        N,
        "frames whose incoming rows and columns are the image's own minimum",
        hint=background_hint(came_in, levels),
    )
    check_shape(random_shift(images[:8]), (8, 1, 28, 28), "random_shift(x) with the default max_shift and generator")
    digits = nb.data.val_x[:16]
    unmoved = random_shift(digits, max_shift=0, generator=seeded(seed))
    check_equal(torch.equal(unmoved, digits), True, "max_shift=0 leaves 16 real digits as they are")
