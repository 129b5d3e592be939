"""Charts drawn on the server as inline SVG: no script, no library, nothing fetched.

Each chart is an image with a title and a description (`role="img"`, `aria-labelledby`)
that say its figures in words; pages print the same figures as text beside it, so the
chart only repeats what a reader of the text already has. Labels are given translated by
the caller; `rtl` draws the bars from the right, for Arabic (coordinates and anchors are
always left to right: the SVG says `direction="ltr"`, each label's own script still reads
its way).
"""

from __future__ import annotations

import itertools

from markupsafe import Markup, escape

WIDTH = 320  # the viewBox; the SVG scales to its container's width
ROW = 28
LABEL = 130  # room for a label beside the bars
COLOURS = ("#0b5394", "#1a7f37", "#9a6700", "#8250df", "#b42318", "#57606a")
PROGRESS = (
    ("accepted", "#1a7f37"),
    ("quarantined", "#9a6700"),
    ("excluded", "#b42318"),
    ("missing", "#d0d7de"),
)
_ids = itertools.count(1)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def _frame(title: str, desc: str, height: int, body: str) -> Markup:
    n = next(_ids)
    # Every text part is escaped here or in the callers (labels) and figures are numbers.
    return Markup(  # noqa: S704
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" direction="ltr" '
        f'aria-labelledby="chart-{n}-t chart-{n}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-{n}-t">{escape(title)}</title><desc id="chart-{n}-d">{escape(desc)}</desc>'
        f"{body}</svg>"
    )


def bars(title: str, figures: list[tuple[str, int]], rtl: bool = False) -> Markup:
    """One horizontal bar per (label, votes), as a share of their sum."""
    whole = sum(v for _, v in figures)
    most = max((v for _, v in figures), default=0) or 1
    span = WIDTH - LABEL - 50
    parts = []
    for row, (label, votes) in enumerate(figures):
        y = row * ROW
        length = round(span * votes / most, 1)
        colour = COLOURS[row % len(COLOURS)]
        if rtl:  # the label at the right edge, the bar growing leftwards from it
            label_x, anchor = WIDTH, "end"
            bar_x, figure_x, figure_anchor = WIDTH - LABEL - length, WIDTH - LABEL - length - 4, "end"
        else:
            label_x, anchor = LABEL - 6, "end"
            bar_x, figure_x, figure_anchor = LABEL, LABEL + length + 4, "start"
        parts.append(
            f'<text x="{label_x}" y="{y + 18}" text-anchor="{anchor}" font-size="12" fill="#1b1f24">'
            f"{escape(label[:18])}</text>"
            f'<rect x="{bar_x}" y="{y + 6}" width="{length}" height="16" fill="{colour}" rx="2"/>'
            f'<text x="{figure_x}" y="{y + 18}" text-anchor="{figure_anchor}" font-size="12" fill="#1b1f24">'
            f"{_percent(votes, whole)}</text>"
        )
    desc = "; ".join(f"{label}: {votes} ({_percent(votes, whole)})" for label, votes in figures)
    return _frame(title, desc, max(ROW * len(figures), ROW) + 4, "".join(parts))


def progress(title: str, counts: dict[str, int], labels: dict[str, str], rtl: bool = False) -> Markup:
    """One stacked bar of stations: accepted, quarantined, excluded, missing."""
    whole = sum(counts.get(k, 0) for k, _ in PROGRESS)
    x = 0.0
    parts = []
    for key, colour in PROGRESS:
        n = counts.get(key, 0)
        if not n:
            continue
        width = WIDTH * n / whole
        left = WIDTH - x - width if rtl else x
        parts.append(
            f'<rect x="{round(left, 1)}" y="0" width="{round(width, 1)}" height="24" fill="{colour}"/>'
        )
        x += width
    if not parts:
        parts.append(f'<rect x="0" y="0" width="{WIDTH}" height="24" fill="#d0d7de"/>')
    desc = "; ".join(f"{labels.get(k, k)}: {counts.get(k, 0)}" for k, _ in PROGRESS)
    return _frame(title, desc, 24, "".join(parts))
