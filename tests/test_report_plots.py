"""The report's inline SVG plots and the small view helpers behind its load section and evidence."""

from __future__ import annotations

import re

from reports import _plots
from reports._view import printable, sweep_value

# --- plots ------------------------------------------------------------------------------------------


def test_plots_escape_labels_and_handle_empty_data() -> None:
    svg = _plots.histogram([[10, 3], [20, 5]], title="<b>x</b>", x_label="ms & more")
    assert svg.startswith("<svg") and "<b>" not in svg and "&lt;b&gt;" in svg and "ms &amp; more" in svg
    assert svg.count("<rect") == 2
    assert "no data" in _plots.histogram([], title="t", x_label="x")
    assert "no data" in _plots.histogram([[1, 0], ["bad", 3]], title="t", x_label="x")
    assert "no data" in _plots.line_chart(
        [_plots.Series("s", [(float("nan"), 1)])], title="t", x_label="", y_label=""
    )


def test_histogram_merges_bins_past_what_fits() -> None:
    svg = _plots.histogram([[i + 1, 1] for i in range(500)], title="t", x_label="x")
    bars = svg.count("<rect")
    assert 0 < bars <= 48
    counts = [int(m) for m in re.findall(r": (\d+)</title></rect>", svg)]
    assert sum(counts) == 500  # merging keeps every sample


def test_line_chart_places_points_and_budget_line() -> None:
    svg = _plots.line_chart(
        [_plots.Series("p95", [(1, 100), (2, 300)], marker_colors=["green", "red"])],
        title="sweep",
        x_label="rate",
        y_label="ms",
        hlines=[_plots.HLine(250, "budget 250")],
        markers=True,
    )
    assert svg.count("<circle") == 2 and 'fill="red"' in svg
    assert "stroke-dasharray" in svg and "budget 250" in svg


def test_nice_ticks_cover_the_range() -> None:
    ticks = _plots.nice_ticks(0, 873)
    assert ticks[0] <= 0 and ticks[-1] >= 873 and len(ticks) <= 13
    assert _plots.nice_ticks(5, 5)[-1] > 5  # a flat series still gets an axis


def test_sweep_values_resolve_flat_and_nested_names() -> None:
    metrics = {
        "ttft_ms": {"p95": 210.0},
        "e2e_p95_ms": 900,
        "output_tokens_per_s": {"mean": 512},
        "error_rate": 0.01,
    }
    assert sweep_value(metrics, "ttft_p95_ms") == 210.0
    assert sweep_value(metrics, "e2e_p95_ms") == 900
    assert sweep_value(metrics, "min_output_tokens_per_s") == 512
    assert sweep_value(metrics, "max_error_rate") == 0.01
    assert sweep_value(metrics, "itl_p95_ms") is None


def test_printable_cuts_long_text() -> None:
    shown = printable("a" * 100, limit=10)
    assert shown.startswith("a" * 10) and "90 more characters not shown" in shown
