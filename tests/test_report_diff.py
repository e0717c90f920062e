"""The baseline diff between two fixture runs (tests/data/report/), and the `reports` command with its
exit codes and usage errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _repo import REPO_ROOT

from reports import RunDirError, build_report, diff_runs, main

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
