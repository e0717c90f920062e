"""The HTML report of one run and the side-by-side comparison, built from the fixture runs in
tests/data/report/ (the `runs` fixture). The baseline diff and the command: test_report_diff.py; the
plots: test_report_plots.py."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

from reports import _plots, build_report, compare_runs, diff_runs
from reports._runs import MAX_TEXT, load_run
from reports._view import matrix


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


# --- huge and broken runs -------------------------------------------------------------------------


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
