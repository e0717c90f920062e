"""Plots as inline SVG strings: histograms, line charts (percentile curves, time series, sweeps) and bars.

Our own small SVG writer rather than a plotting library: the report must open with no network and stay
one file, and the libraries that emit SVG either pull in a large stack (matplotlib, for a handful of
charts) or reference external scripts and fonts by default (pygal). Four chart kinds over a shared
frame are a few hundred lines we can keep strict: every label is escaped, every chart has a fixed
viewBox, and empty data yields a note instead of an empty picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 560
HEIGHT = 280
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 18, 34, 48
PALETTE = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#be123c", "#ca8a04", "#475569")
PASS_COLOR = "#16a34a"
FAIL_COLOR = "#dc2626"
LIMIT_COLOR = "#dc2626"
_AXIS_COLOR = "#94a3b8"
_GRID_COLOR = "#e2e8f0"
_TEXT_COLOR = "#334155"
_MAX_BARS = 48
_MAX_TICKS = 12


@dataclass(frozen=True)
class Series:
    """One named line: points as (x, y); `marker_colors`, when given, colours each point's marker."""

    name: str
    points: Sequence[tuple[float, float]]
    color: str | None = None
    marker_colors: Sequence[str] | None = None
    marker_titles: Sequence[str] | None = None


@dataclass(frozen=True)
class HLine:
    """A horizontal reference line, such as a budget's limit."""

    y: float
    label: str
    color: str = LIMIT_COLOR


@dataclass(frozen=True)
class VLine:
    """A vertical marker, such as the knee of a rate sweep."""

    x: float
    label: str
    color: str = LIMIT_COLOR


def fmt(value: float) -> str:
    """A number short enough for an axis or a tooltip."""
    if value != value:  # NaN
        return "–"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    if abs(value) >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.3g}"


def empty(title: str, reason: str = "no data") -> str:
    """What a chart shows when it has nothing to draw."""
    return f'<div class="plot-empty"><strong>{escape(title)}</strong><span>{escape(reason)}</span></div>'


def _finite(*values: object) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    if not hi > lo:
        hi = lo + (abs(lo) or 1.0)
    span = hi - lo
    magnitude = 10 ** math.floor(math.log10(span / count))
    step = magnitude * 10
    for multiple in (1, 2, 2.5, 5, 10):
        if span / (multiple * magnitude) <= count:
            step = multiple * magnitude
            break
    first = math.floor(lo / step) * step
    last = math.ceil(hi / step) * step
    ticks = [first + i * step for i in range(round((last - first) / step) + 1)]
    return ticks[: _MAX_TICKS + 1]


class _Frame:
    """Maps data to pixels inside the plot area and draws axes, grid and labels."""

    def __init__(self, x_ticks: Sequence[float], y_ticks: Sequence[float]) -> None:
        self.x_lo, self.x_hi = x_ticks[0], x_ticks[-1]
        self.y_lo, self.y_hi = y_ticks[0], y_ticks[-1]
        self.x_ticks, self.y_ticks = x_ticks, y_ticks
        self.left, self.right = _LEFT, WIDTH - _RIGHT
        self.top, self.bottom = _TOP, HEIGHT - _BOTTOM

    def x(self, value: float) -> float:
        span = (self.x_hi - self.x_lo) or 1.0
        return self.left + (value - self.x_lo) / span * (self.right - self.left)

    def y(self, value: float) -> float:
        span = (self.y_hi - self.y_lo) or 1.0
        return self.bottom - (value - self.y_lo) / span * (self.bottom - self.top)

    def axes(self, x_label: str, y_label: str, *, x_tick_labels: bool = True) -> list[str]:
        parts = []
        for tick in self.y_ticks:
            y = self.y(tick)
            parts.append(
                f'<line x1="{self.left}" y1="{y:.1f}" x2="{self.right}" y2="{y:.1f}" stroke="{_GRID_COLOR}"/>'
                f'<text x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(tick))}</text>'
            )
        if x_tick_labels:
            for tick in self.x_ticks:
                x = self.x(tick)
                parts.append(
                    f'<line x1="{x:.1f}" y1="{self.bottom}" x2="{x:.1f}" y2="{self.bottom + 4}" '
                    f'stroke="{_AXIS_COLOR}"/>'
                    f'<text x="{x:.1f}" y="{self.bottom + 17}" text-anchor="middle">{escape(fmt(tick))}</text>'
                )
        parts.append(
            f'<line x1="{self.left}" y1="{self.bottom}" x2="{self.right}" y2="{self.bottom}" '
            f'stroke="{_AXIS_COLOR}"/>'
            f'<line x1="{self.left}" y1="{self.top}" x2="{self.left}" y2="{self.bottom}" stroke="{_AXIS_COLOR}"/>'
            f'<text x="{(self.left + self.right) / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle" '
            f'class="axis-label">{escape(x_label)}</text>'
            f'<text transform="translate(14 {(self.top + self.bottom) / 2:.0f}) rotate(-90)" '
            f'text-anchor="middle" class="axis-label">{escape(y_label)}</text>'
        )
        return parts


def _svg(title: str, body: Sequence[str], legend: Sequence[tuple[str, str]] = ()) -> str:
    legend_parts = []
    x = WIDTH - _RIGHT
    for name, color in reversed(legend):
        width = 14 + 7 * len(name)
        x -= width + 10
        legend_parts.append(
            f'<rect x="{x}" y="{_TOP - 20}" width="10" height="10" rx="2" fill="{color}"/>'
            f'<text x="{x + 14}" y="{_TOP - 11}">{escape(name)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="11" '
        f'fill="{_TEXT_COLOR}">'
        f"<title>{escape(title)}</title>"
        f'<text x="{_LEFT}" y="16" font-size="13" font-weight="600">{escape(title)}</text>'
        + "".join(legend_parts)
        + "".join(body)
        + "</svg>"
    )


def _merge_bins(bins: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Fewer, wider bins when there are more than a chart can show."""
    if len(bins) <= _MAX_BARS:
        return bins
    group = math.ceil(len(bins) / _MAX_BARS)
    return [
        (bins[min(i + group, len(bins)) - 1][0], sum(count for _, count in bins[i : i + group]))
        for i in range(0, len(bins), group)
    ]


def histogram(
    bins: Sequence[Sequence[float]] | None, *, title: str, x_label: str, y_label: str = "samples"
) -> str:
    """Bars for `[[upper_bound, count], ...]`, one bar per bin, each bin labelled by its range."""
    clean = sorted(
        (float(b[0]), float(b[1]))
        for b in bins or ()
        if isinstance(b, list | tuple) and len(b) >= 2 and _finite(b[0], b[1]) and b[1] >= 0
    )
    if not clean or not any(count for _, count in clean):
        return empty(title)
    clean = _merge_bins(clean)
    frame = _Frame([0, len(clean)], nice_ticks(0, max(count for _, count in clean)))
    parts = frame.axes(x_label, y_label, x_tick_labels=False)
    slot = (frame.right - frame.left) / len(clean)
    parts.append(f'<text x="{frame.left}" y="{frame.bottom + 17}" text-anchor="middle">0</text>')
    label_every = max(1, math.ceil(len(clean) / 7))
    lower = 0.0
    for index, (upper, count) in enumerate(clean):
        x = frame.left + index * slot
        y = frame.y(count)
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(slot - 2, 1):.1f}" '
            f'height="{frame.bottom - y:.1f}" fill="{PALETTE[0]}" fill-opacity="0.85">'
            f"<title>{escape(fmt(lower))}–{escape(fmt(upper))}: {escape(fmt(count))}</title></rect>"
        )
        if index % label_every == 0 or index == len(clean) - 1:
            parts.append(
                f'<text x="{x + slot:.1f}" y="{frame.bottom + 17}" text-anchor="middle">'
                f"{escape(fmt(upper))}</text>"
            )
        lower = upper
    return _svg(title, parts)


def _reference_line(ends: str, dash: str, label_at: str, color: str, label: str) -> str:
    """A dashed line across the plot (a budget's limit, a sweep's knee) with its label; `ends` and
    `label_at` are the SVG position attributes of the line and the label."""
    return (
        f'<line {ends} stroke="{color}" stroke-width="1.5" stroke-dasharray="{dash}"/>'
        f'<text {label_at} fill="{color}">{escape(label)}</text>'
    )


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    hlines: Sequence[HLine] = (),
    markers: bool = False,
    x_range: tuple[float, float] | None = None,
    vlines: Sequence[VLine] = (),
) -> str:
    """Lines for each series, with optional point markers and horizontal and vertical reference lines."""
    drawn = [
        Series(
            s.name,
            [(float(x), float(y)) for x, y in s.points if _finite(x, y)],
            s.color,
            s.marker_colors,
            s.marker_titles,
        )
        for s in series
    ]
    drawn = [s for s in drawn if s.points]
    if not drawn:
        return empty(title)
    xs = [x for s in drawn for x, _ in s.points]
    ys = [y for s in drawn for _, y in s.points] + [h.y for h in hlines if _finite(h.y)]
    x_lo, x_hi = x_range or (min(xs), max(xs))
    frame = _Frame(nice_ticks(x_lo, x_hi), nice_ticks(min(0.0, min(ys)), max(ys)))
    parts = frame.axes(x_label, y_label)
    legend = []
    for index, line in enumerate(drawn):
        color = line.color or PALETTE[index % len(PALETTE)]
        legend.append((line.name, color))
        points = " ".join(f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y in line.points)
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2" '
            f'stroke-linejoin="round"/>'
        )
        if markers:
            for point_index, (x, y) in enumerate(line.points):
                fill = line.marker_colors[point_index] if line.marker_colors else color
                tip = line.marker_titles[point_index] if line.marker_titles else f"{fmt(x)}: {fmt(y)}"
                parts.append(
                    f'<circle cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="4.5" fill="{fill}" '
                    f'stroke="#fff" stroke-width="1.5"><title>{escape(line.name)} · {escape(tip)}</title>'
                    f"</circle>"
                )
    for hline in hlines:
        if _finite(hline.y):
            y = frame.y(hline.y)
            ends = f'x1="{frame.left}" y1="{y:.1f}" x2="{frame.right}" y2="{y:.1f}"'
            label_at = f'x="{frame.right - 4}" y="{y - 5:.1f}" text-anchor="end"'
            parts.append(_reference_line(ends, "6 4", label_at, hline.color, hline.label))
    for vline in vlines:
        if _finite(vline.x):
            x = frame.x(vline.x)
            ends = f'x1="{x:.1f}" y1="{frame.top}" x2="{x:.1f}" y2="{frame.bottom}"'
            label_at = f'x="{x + 4:.1f}" y="{frame.top + 12}"'
            parts.append(_reference_line(ends, "3 3", label_at, vline.color, vline.label))
    return _svg(title, parts, legend if len(drawn) > 1 else ())


def grouped_bars(
    categories: Sequence[str],
    groups: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    y_label: str,
) -> str:
    """Bars per category, one bar per group (e.g. metrics x runs); missing values leave a gap."""
    values = [v for _, vals in groups for v in vals if _finite(v)]
    if not categories or not values:
        return empty(title)
    frame = _Frame([0, len(categories)], nice_ticks(0, max(values)))
    parts = frame.axes("", y_label, x_tick_labels=False)
    slot = (frame.right - frame.left) / len(categories)
    bar = (slot - 12) / max(len(groups), 1)

    def color_index(c_index: int, g_index: int) -> int:
        # One group: each category gets its own colour, so run A is the same colour in every chart.
        return (c_index if len(groups) == 1 else g_index) % len(PALETTE)

    for c_index, category in enumerate(categories):
        x0 = frame.left + c_index * slot + 6
        parts.append(
            f'<text x="{x0 + (slot - 12) / 2:.1f}" y="{frame.bottom + 17}" text-anchor="middle">'
            f"{escape(category)}</text>"
        )
        for g_index, (name, vals) in enumerate(groups):
            value = vals[c_index] if c_index < len(vals) else None
            centre = x0 + g_index * bar + (bar - 2) / 2
            if not _finite(value):
                parts.append(
                    f'<text x="{centre:.1f}" y="{frame.bottom - 6}" text-anchor="middle" class="axis-label">'
                    f"no data</text>"
                )
                continue
            y = frame.y(value)  # type: ignore[arg-type]
            parts.append(
                f'<text x="{centre:.1f}" y="{y - 4:.1f}" text-anchor="middle">{escape(fmt(value))}</text>'  # type: ignore[arg-type]
            )
            parts.append(
                f'<rect x="{x0 + g_index * bar:.1f}" y="{y:.1f}" width="{max(bar - 2, 1):.1f}" '
                f'height="{frame.bottom - y:.1f}" fill="{PALETTE[color_index(c_index, g_index)]}">'
                f"<title>{escape(name)} · {escape(category)}: {escape(fmt(value))}</title></rect>"  # type: ignore[arg-type]
            )
    legend = (
        [(name, PALETTE[i % len(PALETTE)]) for i, (name, _) in enumerate(groups)] if len(groups) > 1 else []
    )
    return _svg(title, parts, legend)
