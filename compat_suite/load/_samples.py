"""Raw samples as compact columns, and HDR histograms, that merge exactly across workers.

Workers ship both to the master: the columns (so percentiles are computed over the union of every
worker's raw samples) and HDR histograms encoded with `hdrhistogram` (so the histograms in the
report, and percentiles of runs too long to ship raw ITL, come from added histograms, never from
averaged percentiles).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from ._metrics import RequestSample

# Histograms count integer microseconds from 1 us to 10 minutes with 3 significant digits.
HDR_LOWEST_US = 1
HDR_HIGHEST_US = 600_000_000
HDR_DIGITS = 3
HISTOGRAM_METRICS = ("ttfb_ms", "tfe_ms", "ttft_ms", "tpot_ms", "itl_ms", "e2e_ms")

# Per-request scalar columns, in the order `samples` in load.json lists them.
COLUMNS = (
    "t",  # start, seconds since the run's epoch (wall clock, so workers line up)
    "kind",
    "worker",
    "status",
    "error",
    "ttfb_ms",
    "tfe_ms",
    "ttft_ms",
    "tpot_ms",
    "e2e_ms",
    "output_tokens",
    "content_events",
    "usage_tokens",
    "lag_ms",
    "itl_count",  # how many of the pooled `itl_ms` values belong to this request, in order
    "seq",  # the request's number in its worker (joins the conformance verdicts)
    "warmup",  # a warm-up request: left out of percentiles, histograms and goodput
)


def new_histogram() -> HdrHistogram:
    return HdrHistogram(HDR_LOWEST_US, HDR_HIGHEST_US, HDR_DIGITS)


def _us(ms: float) -> int:
    return min(HDR_HIGHEST_US, max(HDR_LOWEST_US, round(ms * 1000)))


@dataclass
class SampleTable:
    """Column-oriented samples: cheap to append, to ship as JSON and to concatenate."""

    columns: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in COLUMNS})
    itl_ms: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.columns["t"])

    def add(self, sample: RequestSample, *, t: float, worker: str = "local", seq: int = 0) -> None:
        row = {
            "t": round(t, 6),
            "kind": sample.kind,
            "worker": worker,
            "status": sample.status,
            "error": sample.error,
            "ttfb_ms": _round(sample.ttfb_ms),
            "tfe_ms": _round(sample.tfe_ms),
            "ttft_ms": _round(sample.ttft_ms),
            "tpot_ms": _round(sample.tpot_ms),
            "e2e_ms": _round(sample.e2e_ms),
            "output_tokens": sample.output_tokens,
            "content_events": sample.content_events,
            "usage_tokens": sample.usage_tokens,
            "lag_ms": _round(sample.lag_ms),
            "itl_count": len(sample.itl_ms),
            "seq": seq,
            "warmup": sample.warmup,
        }
        for name, value in row.items():
            self.columns[name].append(value)
        self.itl_ms.extend(round(v, 4) for v in sample.itl_ms)

    def extend(self, other: SampleTable) -> None:
        for name in COLUMNS:
            self.columns[name].extend(other.columns[name])
        self.itl_ms.extend(other.itl_ms)

    def drain(self) -> SampleTable:
        """Hand over everything recorded so far and start empty (what a worker ships per report)."""
        out = SampleTable(self.columns, self.itl_ms)
        self.columns = {c: [] for c in COLUMNS}
        self.itl_ms = []
        return out

    def to_json(self) -> dict[str, Any]:
        return {**self.columns, "itl_ms": self.itl_ms}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SampleTable:
        missing = [c for c in COLUMNS if c not in data]
        if missing:
            raise ValueError(f"sample table lacks columns {missing}")
        lengths = {len(data[c]) for c in COLUMNS}
        if len(lengths) != 1:
            raise ValueError("sample table columns differ in length")
        return cls({c: list(data[c]) for c in COLUMNS}, list(data.get("itl_ms", [])))

    def values(self, metric: str, *, warmup: bool | None = False) -> list[float]:
        """Non-null values of one metric column (`itl_ms` is the pooled gaps) of the measured
        requests (`warmup=False`), the warm-up ones (`True`) or all (`None`)."""
        keep = [warmup is None or bool(w) == warmup for w in self.columns["warmup"]]
        if metric == "itl_ms":
            out: list[float] = []
            start = 0
            for count, kept in zip(self.columns["itl_count"], keep, strict=True):
                if kept:
                    out += self.itl_ms[start : start + count]
                start += count
            return out
        return [v for v, kept in zip(self.columns[metric], keep, strict=True) if kept and v is not None]

    def histograms(self) -> dict[str, HdrHistogram]:
        """An HDR histogram per latency metric, built from the measured (not warm-up) samples."""
        out = {}
        for metric in HISTOGRAM_METRICS:
            hist = new_histogram()
            for value in self.values(metric):
                hist.record_value(_us(value))
            out[metric] = hist
        return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def encode_histograms(histograms: Mapping[str, HdrHistogram]) -> dict[str, str]:
    """Compressed, base64 HDR encodings (the format `HdrHistogram.encode` writes), by metric."""
    return {name: hist.encode().decode("ascii") for name, hist in histograms.items()}


def merge_encoded(into: dict[str, HdrHistogram], encoded: Mapping[str, str]) -> None:
    """Add encoded histograms (from one worker) into `into`, creating metrics not seen yet."""
    for name, blob in encoded.items():
        into.setdefault(name, new_histogram()).decode_and_add(blob.encode("ascii"))


def histogram_buckets(hist: HdrHistogram) -> list[list[float]]:
    """`[[bucket_upper_ms, count], ...]` for the recorded values of a histogram."""
    return [
        [round(item.value_iterated_to / 1000.0, 3), item.count_at_value_iterated_to]
        for item in hist.get_recorded_iterator()
    ]


def histogram_summary(hist: HdrHistogram) -> dict[str, float | int | None]:
    """Percentiles of an HDR histogram in ms (for runs where raw samples were not shipped)."""
    count = hist.get_total_count()
    if not count:
        return {"p50": None, "p90": None, "p95": None, "p99": None, "mean": None, "max": None, "count": 0}
    pct = {f"p{q}": hist.get_value_at_percentile(q) / 1000.0 for q in (50, 90, 95, 99)}
    return {
        **pct,
        "mean": hist.get_mean_value() / 1000.0,
        "max": hist.get_max_value() / 1000.0,
        "count": count,
    }


def concat(tables: Iterable[SampleTable]) -> SampleTable:
    out = SampleTable()
    for table in tables:
        out.extend(table)
    return out
