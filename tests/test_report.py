"""The HTML report, run comparison and baseline diff, built from the fixture runs in tests/data/report/."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _repo import REPO_ROOT

from reports import RunDirError, _plots, build_report, compare_runs, diff_runs, main
from reports._runs import MAX_TEXT, load_run
from reports._view import matrix, printable, sweep_value

DATA = Path(__file__).parent / "data" / "report"


@pytest.fixture()
def runs(tmp_path: Path) -> Path:
    """A writable copy of the fixture runs (reports are written into the run directories)."""
    shutil.copytree(DATA, tmp_path / "runs")
    return tmp_path / "runs"


class _Elements(HTMLParser):
    """Collects the tags, ids and external references of a page, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.external: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            value = values.get(name) or ""
            if re.match(r"(?i)(https?:)?//", value):
                self.external.append(f"{tag} {name}={value}")


def _parse(page: Path) -> tuple[str, _Elements]:
    html = page.read_text(encoding="utf-8")
    elements = _Elements()
    elements.feed(html)
    return html, elements


# --- one run ----------------------------------------------------------------------------------------


def test_report_is_one_self_contained_page_with_every_section(runs: Path) -> None:
    page = build_report(runs / "run-fail")

    assert page == (runs / "run-fail" / "index.html").resolve()
    html, elements = _parse(page)
    assert {"verdict", "matrix", "deviations", "failures", "error-matrix", "load"} <= elements.ids
    assert elements.external == []
    assert elements.scripts == 1  # our own inline script, and nothing from the evidence
    assert "<link" not in html and "@import" not in html and "url(" not in html
    # Plots: 3 histograms + 3 percentile curves + 2 time series + 6 sweep charts (one per budget metric).
    assert elements.tags.count("svg") == 14
    assert '<div class="verdict-word">FAIL</div>' in html


def test_hostile_evidence_is_escaped_and_control_bytes_shown(runs: Path) -> None:
    html, elements = _parse(build_report(runs / "run-fail"))

    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert '<img src=x onerror="window.__pwned=2">' not in html
    assert "img" not in elements.tags
    # The body tried to close our <pre> and <details>: it stays text.
    assert "Hello&lt;/pre&gt;&lt;/details&gt;&lt;b&gt;broken&lt;/b&gt;" in html
    assert "\\x00\\x1b[31m" in html and "\x00" not in html and "\x1b" not in html


def test_keys_are_redacted_again(runs: Path) -> None:
    raw = (runs / "run-fail" / "results.json").read_text()
    assert "sk-live-0123456789abcdefXYZ" in raw  # the fixture slips a key through on purpose

    html = build_report(runs / "run-fail").read_text()

    assert "sk-live-0123456789abcdefXYZ" not in html
    assert "session=abc123" not in html  # set-cookie header value
    assert "[REDACTED]" in html


def test_matrix_takes_the_worst_verdict_per_check_and_endpoint(runs: Path) -> None:
    run = load_run(runs / "run-fail")
    extra = dict(run.findings[0], verdict="fail", message="second look failed")
    run.results["findings"].append(extra)

    grid = matrix(run)

    assert grid.endpoints == ["chat", "completions", "embeddings", "models"]
    cell = next(r for r in grid.rows if r.check == extra["check"]).cells[extra["endpoint"]]
    assert (cell.verdict, cell.count) == ("fail", 2)
    assert "second look failed" in cell.tip and extra["description"] in cell.tip
    done = next(r for r in grid.rows if r.check == "stream.done-terminator")
    assert done.cells["chat"].verdict == "fail" and done.cells["completions"].verdict == "pass"
    assert done.severity == "MUST"


def test_hover_text_and_failure_evidence_are_on_the_page(runs: Path) -> None:
    html = build_report(runs / "run-fail").read_text()

    assert 'title="stream.done-terminator [chat] — fail' in html
    assert html.count('<details class="failure">') == 5
    assert "no [DONE] terminator: the stream closed after 2 events" in html
    assert "POST http://127.0.0.1:8417/v1/embeddings" in html
    assert "KeyError: &#39;no-such-model&#39;" in html
    assert "closed_after_ms" in html  # evidence without a known place is still shown
    assert "no response" in html  # the error matrix row whose request got no answer


def test_deviations_show_their_citations_and_drift(runs: Path) -> None:
    html = build_report(runs / "run-deviation").read_text()

    assert html.count('<div class="card deviation">') == 3
    assert "karta-chat-completions.txt: &#34;object&#34;: &#34;text_completion&#34;" in html
    assert "badge v-drift" in html
    assert "remove the deviation from schemas/profiles/karta.yaml" in html
    assert "No load results in this run" in html
    assert '<div class="verdict-word">PASS</div>' in html


def test_error_matrix_rows_show_the_providers_citation(runs: Path) -> None:
    path = runs / "run-deviation" / "results.json"
    data = json.loads(path.read_text())
    cite = 'karta-chat-completions.txt:71 "| 422 | Validation error |"'
    data["error_matrix"][5] |= {"expected_status": 422, "status": 422, "verdict": "pass", "cite": cite}
    path.write_text(json.dumps(data))
    html = build_report(runs / "run-deviation").read_text()
    section = html[html.index('id="error-matrix"') :]
    section = section[: section.index("</section>")]
    assert section.count('<blockquote class="cite">') == 1  # only the row whose status a doc gives
    assert "karta-chat-completions.txt:71 &#34;| 422 | Validation error |&#34;" in section


def test_load_section_prints_metrics_budget_and_formulas(runs: Path) -> None:
    html = build_report(runs / "run-pass").read_text()
    load = json.loads((runs / "run-pass" / "load.json").read_text())

    assert f'<td class="num">{_plots.fmt(load["metrics"]["ttft_ms"]["p95"])}</td>' in html
    assert load["formulas"]["tpot"].replace(">", "&gt;") in html
    assert "interactive-chat" in html
    assert "highest rate that meets it: 4 req/s" in html
    assert (
        "TTFT distribution" in html
        and "ITL by percentile" in html
        and "Requests and errors over time" in html
    )


def test_load_section_shows_conformance_under_load_warmup_and_calibration(runs: Path) -> None:
    path = runs / "run-pass" / "load.json"
    load = json.loads(path.read_text())
    load["conformance"] = {
        "judged": 80,
        "judgeable": 80,
        "sampled": False,
        "nonconformant_responses": 80,
        "verdict": "fail",
        "checks": [
            {
                "check": "stream.done-terminator",
                "severity": "must",
                "endpoint": "chat",
                "verdicts": {"fail": 80},
                "failed": 80,
                "judged": 80,
                "examples": [{"seq": 1, "message": "no `data: [DONE]` terminator", "evidence": "{}"}],
            },
            {"check": "stream.chunk.object", "severity": "must", "endpoint": "chat",
             "verdicts": {"pass": 80}, "failed": 0, "judged": 80, "examples": []},
        ],
    }  # fmt: skip
    load["warmup"] = {
        "count": 4,
        "metrics": {"ttft_ms": {"p50": 86.2, "max": 88.9}, "e2e_ms": {"p50": 92.6, "max": 94.0}},
    }
    load["calibration"] = {
        "added_ttft_ms": {"p50": 0.05, "p95": 0.21, "p99": 0.47},
        "events_per_s_per_core": 21000.0,
    }
    load["schedule"].update(
        valid=False, invalid_reason="achieved 9 req/s against the schedule's 10; server-bound"
    )
    path.write_text(json.dumps(load))

    html = build_report(runs / "run-pass").read_text()
    section = html[html.index('id="load-conformance"') :]
    assert "80 of 80 successful answers judged" in section and "stream.done-terminator" in section
    assert "no `data: [DONE]` terminator" in section
    assert "warm-up requests" in html and "added TTFT p99 (ms)" in html and "0.470" in html
    assert "server-bound" in html


def test_report_tolerates_a_load_json_with_missing_parts(runs: Path) -> None:
    (runs / "run-pass" / "load.json").write_text(json.dumps({"metrics": {"ttft_ms": {"p95": 12.5}}}))

    html = build_report(runs / "run-pass").read_text()

    assert "TTFT distribution" in html and "no data" in html
    assert "load.json has no timeline" in html
    assert "load.json carries no formulas" in html


def test_invalid_schedule_is_called_out(runs: Path) -> None:
    path = runs / "run-pass" / "load.json"
    load = json.loads(path.read_text())
    load["schedule"]["valid"] = False
    path.write_text(json.dumps(load))

    assert "This run is <b>invalid</b>" in build_report(runs / "run-pass").read_text()


def test_summary_is_recomputed_when_results_lack_it(runs: Path) -> None:
    path = runs / "run-fail" / "results.json"
    results = json.loads(path.read_text())
    del results["summary"]
    path.write_text(json.dumps(results))

    run = load_run(runs / "run-fail")

    assert run.summary["fail"] == 5 and run.summary["verdict"] == "fail"


# --- diff -------------------------------------------------------------------------------------------


def test_diff_finds_new_failures_and_latency_regressions(runs: Path) -> None:
    diff = diff_runs(runs / "run-fail", runs / "run-pass")

    assert [(c.check, c.endpoint) for c in diff.new_failures] == [
        ("chat.finish-reason.enum", "chat"),
        ("chat.seed.determinism", "chat"),
        ("chat.usage.sum", "completions"),
        ("errors.unknown-model.status", "embeddings"),
        ("stream.done-terminator", "chat"),
    ]
    assert diff.fixed == ()
    assert [c.metric for c in diff.latency_regressions] == ["ttft_ms", "itl_ms", "e2e_ms"]
    assert all(c.change > 0.3 for c in diff.latency_regressions)
    assert diff.regressed
    text = diff.to_text()
    assert "new failures (5)" in text and "p95 ttft_ms" in text and "REGRESSED" in text


def test_diff_the_other_way_round_reports_fixes_and_no_regression(runs: Path) -> None:
    diff = diff_runs(runs / "run-pass", runs / "run-fail")

    assert len(diff.fixed) == 5 and diff.new_failures == ()
    assert diff.latency_regressions == () and all(c.change < 0 for c in diff.latency)
    assert not diff.regressed


def test_latency_threshold_decides_what_counts(runs: Path) -> None:
    assert diff_runs(runs / "run-pass", runs / "run-pass").latency_regressions == ()
    # The slow run is about 35 % slower: a 50 % threshold tolerates it.
    lenient = diff_runs(runs / "run-fail", runs / "run-pass", latency_threshold=0.5)
    assert lenient.latency_regressions == () and lenient.new_failures
    with pytest.raises(ValueError):
        diff_runs(runs / "run-fail", runs / "run-pass", latency_threshold=-0.1)


def test_diff_without_load_results_says_so(runs: Path) -> None:
    diff = diff_runs(runs / "run-deviation", runs / "run-pass")

    assert diff.latency == ()
    assert any("no load.json in run-deviation" in note for note in diff.notes)
    assert not diff.regressed
    assert {(c.check, c.current) for c in diff.other_changes} >= {("chat.response.object", "deviation")}


def test_baseline_diff_is_on_the_page(runs: Path) -> None:
    html = build_report(runs / "run-fail", baseline=runs / "run-pass").read_text()

    assert 'id="diff"' in html and "5 new failures" in html and "3 latency regressions" in html


# --- several runs -----------------------------------------------------------------------------------


def test_compare_puts_runs_side_by_side(runs: Path) -> None:
    out = compare_runs([runs / "run-pass", runs / "run-fail", runs / "run-deviation"], runs / "side.html")

    html, elements = _parse(out)
    assert out == runs / "side.html"
    assert elements.external == []
    row = re.search(r"chat\.finish-reason\.enum</td><td>chat</td>(.*?)</tr>", html, re.S)
    assert row is not None
    assert re.findall(r'class="cell v-(\w+)"', row.group(1)) == ["pass", "fail", "pass"]
    # Rows where the runs differ come first.
    checks = re.findall(r'<td class="left mono">([^<]+)</td>', html)
    assert checks.index("chat.finish-reason.enum") < checks.index("models.list.schema")
    assert "TTFT p95 (ms)" in html and elements.tags.count("svg") == 4


def test_compare_defaults_beside_the_runs(runs: Path) -> None:
    assert compare_runs([runs / "run-pass", runs / "run-fail"]) == runs / "compare.html"


# --- the command ------------------------------------------------------------------------------------


def test_main_exit_codes(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(runs / "run-pass")]) == 0
    assert (runs / "run-pass" / "index.html").is_file()

    assert main([str(runs / "run-fail"), "--baseline", str(runs / "run-pass")]) == 1
    out = capsys.readouterr().out
    assert "new failures (5)" in out and "REGRESSED" in out

    assert main([str(runs / "run-pass"), "--baseline", str(runs / "run-fail")]) == 0
    assert (
        main([str(runs / "run-fail"), "--baseline", str(runs / "run-pass"), "--latency-threshold", "5"]) == 1
    )
    out_file = runs / "out" / "both.html"
    assert main([str(runs / "run-pass"), str(runs / "run-fail"), "--out", str(out_file)]) == 0
    assert out_file.is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{runs}/missing"], "no such run directory"),
        (["{runs}/run-pass", "--baseline", "{runs}/missing"], "no such run directory"),
        (["{runs}"], "neither results.json nor load.json"),
        (["{runs}/run-pass", "--latency-threshold", "-1"], "must be zero or more"),
        (["{runs}/run-pass", "--latency-threshold", "ten"], "not a number"),
        ([], "RUN_DIR"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(
    runs: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([a.format(runs=runs) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_broken_results_json_is_a_usage_error(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (runs / "run-pass" / "results.json").write_text('{"findings": [')

    assert main([str(runs / "run-pass")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    with pytest.raises(RunDirError):
        build_report(runs / "run-pass")


def test_module_entry_point_runs_as_a_command(runs: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reports", str(runs / "nowhere")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no such run directory" in done.stderr and "Traceback" not in done.stderr


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


def test_huge_bodies_are_cut_and_a_key_on_the_cut_is_still_redacted(runs: Path) -> None:
    path = runs / "run-fail" / "results.json"
    results = json.loads(path.read_text())
    failure = next(f for f in results["findings"] if f["verdict"] == "fail")
    failure["evidence"]["body"] = "a" * (MAX_TEXT - 5) + "sk-straddling0123456789" + "b" * 1_000_000
    path.write_text(json.dumps(results))

    html = build_report(runs / "run-fail").read_text()

    assert "straddling" not in html and "sk-stra" not in html
    assert "1,000,018 more characters not shown" in html
    assert len(html) < 400_000


def test_scenario_errors_are_shown_and_escaped(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    results = {
        "target": {"base_url": "http://t/v1", "model": "m"},
        "profile": "openai",
        "findings": [],
        "errors": [
            {"test": "suites/x.py::test_y", "phase": "call", "message": "KeyError: <script>boom</script>"}
        ],
        "summary": {"pass": 0, "fail": 0, "errors": 1, "verdict": "fail"},
    }
    (run_dir / "results.json").write_text(json.dumps(results), encoding="utf-8")
    html = build_report(run_dir).read_text(encoding="utf-8")
    assert "suites/x.py::test_y" in html
    assert "&lt;script&gt;boom&lt;/script&gt;" in html and "<script>boom" not in html


# --- verdicts a user can believe --------------------------------------------------------------------


def _rewrite(run_dir: Path, edit: object) -> None:
    path = run_dir / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)  # type: ignore[operator]
    path.write_text(json.dumps(data), encoding="utf-8")


def test_a_failure_not_run_again_is_not_counted_as_fixed(runs: Path) -> None:
    def not_run(data: dict) -> None:
        for finding in data["findings"]:
            if finding["check"] == "stream.done-terminator":
                finding["verdict"] = "blocked"
                finding["root_cause"] = "request.accepted"

    _rewrite(runs / "run-fail", lambda d: None)
    shutil.copytree(runs / "run-fail", runs / "run-now")
    _rewrite(runs / "run-now", not_run)
    diff = diff_runs(runs / "run-now", runs / "run-fail")
    assert [(c.check, c.current) for c in diff.not_run] == [("stream.done-terminator", "blocked")]
    assert not diff.fixed
    assert "not run this time, so not known to be fixed (1)" in diff.to_text()


def test_the_page_opens_with_root_causes_and_counts_every_verdict(runs: Path) -> None:
    cause = {"check": "request.accepted", "endpoint": "chat", "verdict": "fail", "severity": "must",
             "message": "a spec-valid request was refused with 500", "findings": 7,
             "curl": 'curl -sS -X POST http://x/v1/chat/completions -H "Authorization: Bearer $OPENAI_API_KEY"'}  # fmt: skip

    def add(data: dict) -> None:
        data["root_causes"] = [cause]
        data["findings"].append({**data["findings"][0], "verdict": "blocked", "root_cause": "request.accepted",
                                 "message": "not judged: request.accepted failed first"})  # fmt: skip
        data.pop("summary", None)

    _rewrite(runs / "run-fail", add)
    html = build_report(runs / "run-fail").read_text(encoding="utf-8")
    assert html.index('id="root-causes"') < html.index('id="matrix"')
    assert "explains 7 findings" in html and "$OPENAI_API_KEY" in html
    for verdict in ("warn", "blocked", "inconclusive", "scenario errors", "requests sent"):
        assert f'<span class="what">{verdict}</span>' in html, verdict
    assert "No deviations" not in html  # a failing run never says so
    assert re.search(r"\d+ of \d+ fail", html)


def test_behaviour_and_undocumented_findings_have_their_own_sections(runs: Path) -> None:
    results = runs / "run-pass" / "results.json"
    data = json.loads(results.read_text(encoding="utf-8"))
    data["behaviour"] = [
        {
            "id": "tools.auto.calls",
            "description": "calls under auto",
            "endpoint": "chat",
            "k": 3,
            "n": 4,
            "rate": 0.75,
            "wilson_low": 0.3006,
            "wilson_high": 0.9544,
            "note": "temperature 1.0",
            "test": None,
        }
    ]
    data["findings"].append(
        {
            "check": "tools.choice.none",
            "verdict": "undocumented",
            "severity": "must",
            "endpoint": "chat",
            "message": "tool_choice silently ignored: 1 call(s) made",
            "description": "none gives no call",
            "evidence": {},
        }
    )
    results.write_text(json.dumps(data), encoding="utf-8")
    html, elements = _parse(build_report(runs / "run-pass"))
    assert {"behaviour", "undocumented"} <= elements.ids
    assert "3 / 4" in html and "30% – 95%" in html
    assert "Observed: tool_choice silently ignored" in html
    assert '<div class="verdict-word">PASS</div>' in html  # neither counts against the run
