"""Load metrics, histogram merging, open-loop scheduling and budgets, on synthetic data (no locust)."""

from __future__ import annotations

import random

import pytest

from compat_suite.load._metrics import (
    FORMULAS,
    RequestTiming,
    goodput_count,
    percentile,
    sample_from_timing,
    summarize,
)
from compat_suite.load._samples import SampleTable, encode_histograms, histogram_buckets, merge_encoded
from compat_suite.load._schedule import OpenLoopDispatcher, arrival_offsets, schedule_stats
from schemas import BudgetError, load_budget
from schemas import evaluate_budget as evaluate

MS = 1_000_000


def _timing(**kw) -> RequestTiming:
    base = dict(
        kind="chat-stream",
        start_ns=1_000 * MS,
        first_byte_ns=1_010 * MS,
        first_event_ns=1_020 * MS,
        content_ns=[1_050 * MS, 1_060 * MS, 1_075 * MS, 1_090 * MS],
        end_ns=1_100 * MS,
        status=200,
        usage_tokens=4,
        events=6,
    )
    base.update(kw)
    return RequestTiming(**base)


def test_vllm_formulas_on_synthetic_timestamps() -> None:
    s = sample_from_timing(_timing())
    assert (s.ttfb_ms, s.tfe_ms, s.ttft_ms, s.e2e_ms) == (10.0, 20.0, 50.0, 100.0)
    assert s.tpot_ms == pytest.approx((100.0 - 50.0) / (4 - 1))  # (E2E - TTFT) / (output_tokens - 1)
    assert s.itl_ms == (10.0, 15.0, 15.0)  # gaps between successive content events
    assert s.output_tokens == 4 and not s.token_mismatch
    assert "(E2E - TTFT) / (output_tokens - 1)" in FORMULAS["tpot_ms"]


def test_usage_wins_and_mismatch_is_reported() -> None:
    s = sample_from_timing(_timing(usage_tokens=7))
    assert s.output_tokens == 7 and s.token_mismatch
    assert s.tpot_ms == pytest.approx(50.0 / 6)
    no_usage = sample_from_timing(_timing(usage_tokens=None))
    assert no_usage.output_tokens == 4 and not no_usage.token_mismatch


def test_single_token_has_no_tpot_and_failures_have_no_latency() -> None:
    one = sample_from_timing(_timing(content_ns=[1_050 * MS], usage_tokens=1))
    assert one.tpot_ms is None and one.itl_ms == ()
    failed = sample_from_timing(_timing(error="http-429:rate_limit_exceeded", status=429, content_ns=[]))
    assert not failed.ok and failed.ttft_ms is None and failed.e2e_ms is None and failed.output_tokens == 0
    lagged = sample_from_timing(_timing(intended_ns=990 * MS))
    assert lagged.lag_ms == 10.0


def test_percentiles_match_numpy_linear() -> None:
    data = sorted([1.0, 2.0, 3.0, 4.0, 10.0])
    assert percentile(data, 50) == 3.0
    assert percentile(data, 95) == pytest.approx(8.8)  # numpy.percentile(data, 95)
    summary = summarize([None, 5.0, 1.0])
    assert summary["count"] == 2 and summary["p50"] == 3.0 and summary["max"] == 5.0
    assert summarize([])["p95"] is None


def test_goodput_counts_requests_meeting_every_slo() -> None:
    good = sample_from_timing(_timing())
    slow = sample_from_timing(_timing(content_ns=[1_500 * MS, 1_510 * MS], end_ns=1_600 * MS, usage_tokens=2))
    assert goodput_count([good, slow], {"ttft_ms": 100, "e2e_ms": 1000}) == 1
    assert goodput_count([good, slow], {"tpot_ms": 5}) == 0


def test_hdr_merge_across_workers_equals_histogram_of_union() -> None:
    rng = random.Random(7)
    workers = []
    for _ in range(3):
        table = SampleTable()
        for _ in range(200):
            start = 0
            content = [start + int(rng.uniform(5, 500) * MS)]
            for _ in range(rng.randint(1, 8)):
                content.append(content[-1] + int(rng.expovariate(1 / 20) * MS) + 1)
            t = RequestTiming(
                kind="chat-stream",
                start_ns=start,
                first_byte_ns=content[0] - MS,
                first_event_ns=content[0],
                content_ns=content,
                end_ns=content[-1] + MS,
                status=200,
            )
            table.add(sample_from_timing(t), t=0.0)
        workers.append(table)
    merged: dict = {}
    for table in workers:  # what the master does with each worker's encoded histograms
        merge_encoded(merged, encode_histograms(table.histograms()))
    union = SampleTable()
    for table in workers:
        union.extend(table)
    direct = union.histograms()
    for metric, hist in direct.items():
        assert histogram_buckets(merged[metric]) == histogram_buckets(hist), metric
        assert merged[metric].get_total_count() == hist.get_total_count() > 0
        for q in (50, 90, 95, 99):
            assert merged[metric].get_value_at_percentile(q) == hist.get_value_at_percentile(q)
    # and the raw-sample percentiles of the union are not the average of per-worker percentiles
    per_worker = [summarize(w.values("e2e_ms"))["p99"] for w in workers]
    assert (
        summarize(union.values("e2e_ms"))["p99"]
        == summarize([v for w in workers for v in w.values("e2e_ms")])["p99"]
    )
    assert len(set(per_worker)) > 1


def test_sample_table_round_trips_and_rejects_ragged_columns() -> None:
    table = SampleTable()
    table.add(sample_from_timing(_timing()), t=12.5, worker="w1")
    again = SampleTable.from_json(table.to_json())
    assert again.columns == table.columns and again.itl_ms == table.itl_ms
    broken = table.to_json()
    broken["ttft_ms"] = []
    with pytest.raises(ValueError, match="differ in length"):
        SampleTable.from_json(broken)


def test_arrivals_constant_and_poisson() -> None:
    assert list(arrival_offsets(4, "constant", 1.0)) == [0.0, 0.25, 0.5, 0.75]
    poisson = list(arrival_offsets(50, "poisson", 20.0, seed=3))
    assert 800 < len(poisson) < 1200 and poisson == sorted(poisson)
    assert poisson == list(arrival_offsets(50, "poisson", 20.0, seed=3))
    with pytest.raises(ValueError):
        next(arrival_offsets(0, "constant", 1.0))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0

    def clock(self) -> int:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)


def test_open_loop_fires_on_schedule_regardless_of_slow_replies() -> None:
    clock = FakeClock()
    launched: list[tuple[int, int]] = []
    dispatcher = OpenLoopDispatcher(
        launch=lambda intended: launched.append((intended, clock.now)),
        clock_ns=clock.clock,
        sleep=clock.sleep,
    )
    dispatcher.run(arrival_offsets(10, "constant", 1.0), start_ns=0)
    # requests never finish in this test, yet each went out at its intended time: no coordinated omission
    assert [i for i, _ in launched] == [k * 100 * MS for k in range(10)]
    assert all(actual == intended for intended, actual in launched)
    stats = schedule_stats([d.lag_ms for d in dispatcher.dispatches], threshold_ms=5)
    assert stats["valid"] and stats["max_lag_ms"] == 0


def test_open_loop_records_lag_when_the_inflight_cap_is_hit() -> None:
    clock = FakeClock()
    in_flight: list[int] = []

    def acquire() -> None:  # a cap of 2: the third waits 250 ms for a slot (a reply ending)
        if len(in_flight) >= 2:
            clock.sleep(0.25)
            in_flight.pop(0)

    dispatcher = OpenLoopDispatcher(
        launch=in_flight.append, acquire=acquire, clock_ns=clock.clock, sleep=clock.sleep
    )
    dispatches = dispatcher.run(arrival_offsets(10, "constant", 0.5), start_ns=0)
    lags = [d.lag_ms for d in dispatches]
    assert lags[:2] == [0.0, 0.0] and lags[2] == 250.0 and max(lags) > 250.0
    stats = schedule_stats(lags, threshold_ms=50)
    assert not stats["valid"] and stats["late"] >= 1 and stats["lag_p99_ms"] > 50
    assert schedule_stats([], 50)["open_loop"] is False


def test_budget_evaluation_pass_fail_and_unevaluable() -> None:
    result = {
        "metrics": {
            "ttft_ms": {"p95": 120.0},
            "tpot_ms": {"p95": None},
            "itl_ms": {"p95": None},
            "e2e_ms": {"p95": 900.0},
        },
        "throughput": {"output_tokens_per_s": None, "error_rate": 0.02},
        "requests": {"completed": 10},
    }
    rows = {
        r["metric"]: r
        for r in evaluate(
            {
                "ttft_p95_ms": 200,
                "e2e_p95_ms": 500,
                "tpot_p95_ms": 50,
                "min_output_tokens_per_s": 5,
                "max_error_rate": 0.01,
            },
            result,
        )
    }
    assert rows["ttft_p95_ms"]["passed"] is True
    assert rows["e2e_p95_ms"]["passed"] is False and "900.0" in rows["e2e_p95_ms"]["reason"]
    assert rows["tpot_p95_ms"]["passed"] is None and "stream" in rows["tpot_p95_ms"]["reason"]
    assert (
        rows["min_output_tokens_per_s"]["passed"] is None
        and "usage" in rows["min_output_tokens_per_s"]["reason"]
    )
    assert rows["max_error_rate"]["passed"] is False


def test_shipped_budget_files_load_and_bad_ones_are_refused(tmp_path) -> None:
    for name in ("default", "ci-scripted"):
        budget = load_budget(name)
        assert budget.shapes and all(s.budget for s in budget.shapes.values())
    bad = tmp_path / "bad.yaml"
    bad.write_text("shapes: {x: {users: 2, duration_s: 3, budget: {ttft_p50_ms: 3}}}")
    with pytest.raises(BudgetError, match="unknown budget metrics"):
        load_budget(bad)
    bad.write_text("shapes: {x: {users: 2, rate: 3, duration_s: 3}}")
    with pytest.raises(BudgetError, match="exactly one of"):
        load_budget(bad)


def test_itl_is_per_token_from_per_chunk_usage_as_vllm_counts_it() -> None:
    """An event carrying k tokens (per-chunk usage) counts its gap k times as gap / k; the first
    event's extra tokens count 0 ms (vLLM #27485)."""
    t = _timing(
        content_ns=[1_050 * MS, 1_060 * MS, 1_090 * MS],
        content_usage=[2, 3, 6],
        usage_tokens=6,
    )
    s = sample_from_timing(t)
    assert s.itl_ms == pytest.approx((0.0, 10.0, 10.0, 10.0, 10.0))
    assert len(s.itl_ms) == s.output_tokens - 1
    assert s.tpot_ms == pytest.approx((100 - 50) / 5)


def test_itl_uses_the_tokenizer_count_without_per_chunk_usage_and_one_per_event_without_either() -> None:
    counted = sample_from_timing(_timing(content_ns=[1_050 * MS, 1_070 * MS], content_counts=[1, 2]))
    assert counted.itl_ms == pytest.approx((10.0, 10.0))
    # usage on the last chunk only is no per-chunk usage: it is not split over the events
    partial = sample_from_timing(_timing(content_ns=[1_050 * MS, 1_070 * MS], content_usage=[None, 9]))
    assert partial.itl_ms == pytest.approx((20.0,))


def test_warmup_samples_are_kept_apart_from_the_percentiles() -> None:
    table = SampleTable()
    table.add(sample_from_timing(_timing(warmup=True, content_ns=[1_500 * MS, 1_600 * MS])), t=0.0)
    table.add(sample_from_timing(_timing()), t=1.0)
    assert table.values("ttft_ms") == [50.0]
    assert table.values("ttft_ms", warmup=True) == [500.0]
    assert table.values("itl_ms") == pytest.approx([10.0, 15.0, 15.0])
    assert table.values("itl_ms", warmup=True) == pytest.approx([100.0])
    assert table.histograms()["ttft_ms"].get_total_count() == 1


def test_goodput_leaves_out_answers_that_failed_a_must_check() -> None:
    samples = [sample_from_timing(_timing()) for _ in range(3)]
    assert goodput_count(samples, {"ttft_ms": 1000}) == 3
    assert goodput_count(samples, {"ttft_ms": 1000}, [True, False, True]) == 2


def test_achieved_rate_marks_a_schedule_the_client_did_not_keep() -> None:
    from compat_suite.load._schedule import achieved_rate

    shape = {"duration_s": 10.0, "rate": 10.0}
    kept = achieved_rate([i / 10 for i in range(100)], [1.0] * 100, shape, 0.05)
    assert kept["rate_ok"] and kept["achieved_rps"] == pytest.approx(10.0)
    # the last 20% of the requests went out 2.5 s late: past the window
    starts = [i / 10 + (2.5 if i >= 80 else 0.0) for i in range(100)]
    lags = [2500.0 if i >= 80 else 1.0 for i in range(100)]
    late = achieved_rate(starts, lags, shape, 0.05)
    assert not late["rate_ok"] and late["achieved_rps"] < late["scheduled_rps"] * 0.95


def test_sweep_bisects_between_the_last_passing_and_the_first_failing_rate() -> None:
    from compat_suite.load._runner import sweep
    from schemas import LoadShape

    capacity = 5.3

    def one(rate: float) -> dict:
        ok = rate <= capacity
        return {
            "valid": True,
            "requests": {"failed": 0 if ok else 1},
            "shape": {"rate": rate},
            "metrics": {m: {"p95": rate} for m in ("ttft_ms", "tpot_ms", "itl_ms", "e2e_ms")},
            "throughput": {"output_tokens_per_s": 1, "requests_per_s": rate, "error_rate": 0.0},
            "schedule": {"lag_p99_ms": 0.0},
        }

    shape = LoadShape(name="s", duration_s=1, sweep=(2.0, 4.0, 8.0, 16.0))
    result = sweep(shape, None, one, bisect_steps=3)
    rates = [row["rate"] for row in result["sweep"]]
    assert {2.0, 4.0, 8.0, 16.0} <= set(rates)  # the whole curve
    assert [r for r in rates if r not in (2.0, 4.0, 8.0, 16.0)] == [5.0, 5.5, 6.0]  # 6, 5, 5.5 in turn
    assert result["sweep_best_rate"] == 5.0 and result["shape"]["rate"] == 5.0
