"""Task 4's checks of exercises 9 (`deeper_networks.py` runs them as ``check(task=4)``): the random shift.

The test images are made so that their pixels tell where they went:

- "dots": a background of -1 with one bright pixel (1.0) in the middle; where the dot lands is the
  image's shift, so 500 dots show whether the shifts are whole pixels, one per image, from -2 to +2;
- "frames": 2 channels of 20 x 30 in float64, a bright border (from 1.0 at the top left to 1.48 at
  the bottom right, so that no two sides are alike) and a dot (2.0) in the middle, on a background
  of the image's own level (each image a little darker than the one before). The dot gives the
  shift, and the rows and columns that came in must be the image's own minimum. When they are not,
  the frames are moved the wrong ways too (`torch.roll`, which brings the opposite border round;
  padding with copies of the border, its mirror image, 0, the batch's minimum), and a hint is
  shown only when your frames are exactly what one of those gives.
"""

import torch
from torch.nn import functional as F

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
    rows, columns = torch.arange(20, dtype=torch.float64).view(20, 1), torch.arange(30, dtype=torch.float64)
    border = (1 + (rows + columns) / 100).expand(n, 2, 20, 30)
    images[:, :, [0, -1], :] = border[:, :, [0, -1], :]
    images[:, :, :, [0, -1]] = border[:, :, :, [0, -1]]
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


def moved_as(frames: torch.Tensor, shifts: list, **pad) -> torch.Tensor:
    """The frames moved by ``shifts``, each padded by MAX_SHIFT pixels with ``F.pad(image, ..., **pad)``, then cut."""
    height, width = frames.shape[-2:]
    windows = []
    for image, (dy, dx) in zip(frames, shifts, strict=True):
        top, left = MAX_SHIFT - dy, MAX_SHIFT - dx
        windows.append(F.pad(image, (MAX_SHIFT,) * 4, **pad)[..., top : top + height, left : left + width])
    return torch.stack(windows)


def background_hint(frames: torch.Tensor, moved: torch.Tensor, shifts: list) -> str | None:
    """The hint of the mistake that moves ``frames`` exactly to ``moved``; None when it is none of these."""
    own = "fill with the image's minimum, x[i].min(), not "
    mistakes = [  # (how that mistake pads, its hint); circular padding, then a cut, is what torch.roll gives
        (dict(mode="circular"), "pad and cut out a window: torch.roll wraps the pixels round from the other side"),
        (dict(mode="replicate"), own + "a copy of its border (F.pad's mode='replicate')"),
        (dict(mode="reflect"), own + "a mirror image of its border (F.pad's mode='reflect')"),
        (dict(value=0.0), own + "0: normalized MNIST's background is -0.42"),
        (dict(value=frames.min().item()), "fill each image with its own minimum, x[i].min(), not the batch's x.min()"),
    ]
    return next((hint for pad, hint in mistakes if torch.equal(moved, moved_as(frames, shifts, **pad))), None)


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
    bright = (moved == 1.0).sum(dim=(1, 2, 3))  # pixels of the dot's value, image by image
    lost = "move whole pixels: cut a window out of the padded image; do not interpolate, add or resize"
    filled = "the pixels that came in are 1.0, the dot's value: fill with the image's minimum, x[i].min()"
    only_the_two = set(moved.unique().tolist()) == {-1, 1}
    check_equal(
        int((bright == 1).sum()),
        N,
        "every image still has exactly one bright dot",
        hint=lost if (bright == 0).any() else filled if only_the_two else None,
    )
    check_equal(
        sorted(set(moved.unique().tolist())),
        [-1.0, 1.0],
        "the values in the shifted dots: only the background (-1) and the dot (1)",
        hint="fill with the image's minimum, x[i].min(), not 0" if set(moved.unique().tolist()) == {-1, 0, 1} else None,
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
    shifts = dot_shifts(moved_frames, 2.0, FRAME_DOT).tolist()
    came_in = what_came_in(moved_frames, shifts)
    right = sum(bool((values == level).all()) for values, level in zip(came_in, levels, strict=True))
    check_equal(
        right,
        N,
        "frames whose incoming rows and columns are the image's own minimum",
        hint=background_hint(framed, moved_frames, shifts) if right != N else None,
    )
    check_shape(random_shift(images[:8]), (8, 1, 28, 28), "random_shift(x) with the default max_shift and generator")
    digits = nb.data.val_x[:16]
    unmoved = random_shift(digits, max_shift=0, generator=seeded(seed))
    check_equal(torch.equal(unmoved, digits), True, "max_shift=0 leaves 16 real digits as they are")
