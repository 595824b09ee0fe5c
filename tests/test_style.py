"""One colour-blind-safe palette for the course, and marks that do not rely on colour alone (issue 27)."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from course_utils import style  # noqa: E402


def test_the_palette_is_set_once_a_lesson_has_imported_matplotlib():
    code = (
        "import matplotlib.pyplot as plt, course_utils as cu\n"
        "cu.repro\n"  # any first use of the package, before any figure
        "cycle = plt.rcParams['axes.prop_cycle'].by_key()\n"
        "from course_utils.style import PALETTE, LINE_STYLES\n"
        "assert [c.upper() for c in cycle['color']] == PALETTE, cycle\n"
        "assert cycle['linestyle'] == LINE_STYLES, cycle\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    code = "import sys, course_utils as cu; cu.datafiles; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)  # a tool without figures never imports it


def test_lines_one_after_another_differ_in_style_as_well_as_colour():
    assert len(set(style.PALETTE)) == len(style.PALETTE) == len(style.LINE_STYLES)
    assert all(a != b for a, b in zip(style.LINE_STYLES, style.LINE_STYLES[1:], strict=False))


def test_a_mistake_in_a_gallery_is_marked_not_only_coloured():
    from course_utils.plots import show_images

    fig = show_images(torch.zeros(3, 1, 28, 28), torch.tensor([1, 2, 3]), torch.tensor([1, 0, 3]), ncols=3)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[1].startswith("✗ pred 0") and not titles[0].startswith("✗") and not titles[2].startswith("✗")
    plt.close(fig)


def test_each_series_of_bars_gets_its_own_hatch_in_the_bars_and_the_legend():
    fig, ax = plt.subplots()
    pd.DataFrame({"small": [1.5, 13.4], "large": [0.9, 9.7]}, index=["MNIST", "Fashion"]).plot.bar(ax=ax)
    style.hatch_bars(ax)
    hatches = [{bar.get_hatch() or "" for bar in bars} for bars in ax.containers]
    assert hatches == [{""}, {"//"}]
    legend = [handle.get_hatch() or "" for handle in ax.get_legend().legend_handles]
    assert legend == ["", "//"]
    plt.close(fig)
