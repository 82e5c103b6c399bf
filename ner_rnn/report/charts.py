"""Line charts as inline SVG, for training curves: no plotting library, no script.

A chart is one `<svg>` with a title, labelled axes with tick marks, a `path.curve`
through the points (a missing value starts a new piece of the line), a circle on each
point, and a dashed line marking one x value (the best epoch).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from ner_rnn.serve.markup import escape

WIDTH, HEIGHT = 360, 230
LEFT, RIGHT, TOP, BOTTOM = 62, 14, 30, 44  # margins around the plotting area


def line_chart(title: str, y_label: str, xs: Sequence[int], ys: Sequence[float | None],
               marked: int | None = None, empty_note: str = "no epochs recorded") -> str:
    """An SVG chart of `ys` over the whole numbers `xs` (x label: epoch).

    Args:
        title: shown above the chart.
        y_label: the vertical axis's label.
        xs: the epochs, increasing.
        ys: one value per epoch; None leaves a gap.
        marked: an epoch to mark with a dashed line (the best one), if any.
        empty_note: shown instead of a line when no value is given.
    """
    points = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
    svg = (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
           f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-label="{escape(title)}">')
    parts = [svg]
    parts.append(f'<text class="title" x="{WIDTH / 2}" y="18" text-anchor="middle">'
                 f"{escape(title)}</text>")
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    parts.append(f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{right - LEFT}" '
                 f'height="{bottom - TOP}"/>')
    parts.append(f'<text class="axis-label" x="{(LEFT + right) / 2}" y="{HEIGHT - 6}" '
                 'text-anchor="middle">epoch</text>')
    parts.append(f'<text class="axis-label" transform="translate(14 {(TOP + bottom) / 2}) '
                 f'rotate(-90)" text-anchor="middle">{escape(y_label)}</text>')
    if not points:
        parts.append(f'<text class="note" x="{(LEFT + right) / 2}" y="{(TOP + bottom) / 2}" '
                     f'text-anchor="middle">{escape(empty_note)}</text></svg>')
        return "".join(parts)

    x_ticks = whole_ticks(min(xs), max(xs))
    y_ticks, y_step = nice_ticks(min(y for _, y in points), max(y for _, y in points))

    def px(x: float) -> float:
        return LEFT + (right - LEFT) * _fraction(x, x_ticks[0], x_ticks[-1])

    def py(y: float) -> float:
        return bottom - (bottom - TOP) * _fraction(y, y_ticks[0], y_ticks[-1])

    for tick in y_ticks:
        y = py(tick)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>'
                     f'<text class="tick" x="{LEFT - 5}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{tick_label(tick, y_step)}</text>")
    for tick in x_ticks:
        x = px(tick)
        parts.append(f'<line class="tick-mark" x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" '
                     f'y2="{bottom + 4}"/><text class="tick" x="{x:.1f}" y="{bottom + 16}" '
                     f'text-anchor="middle">{tick}</text>')
    if marked is not None and xs and min(xs) <= marked <= max(xs):
        x = px(marked)
        left_of_line = x > (LEFT + right) / 2  # the label stays inside the chart
        parts.append(f'<line class="best" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{bottom}"/>'
                     f'<text class="best-label" x="{x - 4 if left_of_line else x + 4:.1f}" '
                     f'y="{TOP + 12}" text-anchor="{"end" if left_of_line else "start"}">'
                     f"best epoch {marked}</text>")
    commands, pen_down = [], False
    for x, y in zip(xs, ys):
        if y is None:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{px(x):.1f},{py(y):.1f}")
        pen_down = True
    parts.append(f'<path class="curve" d="{" ".join(commands)}"/>')
    parts += [f'<circle class="point" cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5"/>'
              for x, y in points]
    parts.append("</svg>")
    return "".join(parts)


def nice_ticks(low: float, high: float, count: int = 5) -> tuple[list[float], float]:
    """About `count` evenly spaced round values (steps of 1, 2 or 5 times a power of ten)
    covering [low, high], and their step. A flat range is widened around its value."""
    if high <= low:
        pad = abs(low) / 10 or 1.0
        low, high = low - pad, high + pad
    raw = high / count - low / count  # halves first: no overflow on huge values
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [k * step for k in range(first, last + 1)], step


def whole_ticks(low: int, high: int, most: int = 10) -> list[int]:
    """Whole-number ticks from `low` to at least `high`, at most `most` of them (a single
    value is given a neighbour on each side)."""
    if high <= low:
        return [low - 1, low, low + 1]
    step = next(m * 10**e for e in itertools.count() for m in (1, 2, 5)
                if (high - low) / (m * 10**e) < most)
    first = low - low % step if low % step else low
    ticks = list(range(first, high + 1, step))
    return ticks if ticks[-1] >= high else [*ticks, ticks[-1] + step]


def tick_label(value: float, step: float) -> str:
    """A tick value with as many decimals as its step needs."""
    decimals = max(0, -math.floor(math.log10(step)))
    if decimals > 6 or abs(value) >= 1e7:
        return f"{value:.3g}"
    return f"{value:.{decimals}f}"


def _fraction(value: float, low: float, high: float) -> float:
    return (value / 2 - low / 2) / (high / 2 - low / 2)  # halves: no overflow
