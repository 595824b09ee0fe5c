"""The course's colours: one colour-blind-safe palette for every figure, set once.

The palette is seaborn's "colorblind" (after Okabe and Ito), whose colours stay apart for the
common kinds of colour blindness. `apply` makes it matplotlib's (and so seaborn's) default and
pairs each colour of the cycle with a line style, so that lines drawn one after another differ in
more than hue; `course_utils` calls it as soon as a lesson has imported matplotlib. Figures that
mark something (a mistake, the best value) use a second cue as well: a marker, a hatch or a word.
"""

from __future__ import annotations

import sys

BLUE, ORANGE, GREEN, RED, PURPLE = "#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC"
BROWN, PINK, GREY, YELLOW, SKY = "#CA9161", "#FBAFE4", "#949494", "#ECE133", "#56B4E9"
PALETTE = [BLUE, ORANGE, GREEN, RED, PURPLE, BROWN, PINK, GREY, YELLOW, SKY]
LINE_STYLES = ["-", "--", "-.", ":"] * 2 + ["-", "--"]
HATCHES = ["", "//", "..", "xx", "\\\\", "++"]

_applied = False


def apply() -> None:
    """Make the palette and its line styles matplotlib's default (once; cheap afterwards)."""
    global _applied
    if _applied:
        return
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams["axes.prop_cycle"] = cycler(color=PALETTE) + cycler(linestyle=LINE_STYLES)
    _applied = True


def apply_if_plotting() -> None:
    """`apply`, if this process has imported matplotlib (a tool without figures never pays for it)."""
    if "matplotlib" in sys.modules:
        apply()


def hatch_bars(ax) -> None:
    """Give each series of bars on ``ax`` its own hatch, and redraw the legend to show it."""
    for bars, hatch in zip(ax.containers, HATCHES * 3, strict=False):
        for bar in bars:
            bar.set_hatch(hatch)
            bar.set_edgecolor("white")
    if ax.get_legend() is not None:
        ax.legend()
