"""The report in a real headless browser (Debian's chromium + chromium-driver, via selenium).

Installed by `.ci/setup-browser`; without the browser these tests skip with the reason.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from _repo import REPO_ROOT

from reports import build_report, compare_runs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOTS = REPO_ROOT / "compat-reports" / "runs" / "browser-test"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)

pytestmark = [
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="chromium and chromedriver are not installed (run .ci/setup-browser)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    profile = tempfile.mkdtemp(prefix="compat-suite-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path keeps Selenium Manager from trying to download one.
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(driver, page: Path) -> list[dict]:
    driver.get_log("browser")  # drop what an earlier page logged
    driver.get(page.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    return driver.get_log("browser")


def _screenshot(driver, name: str) -> Path:
    """A full-page screenshot for the record, under compat-reports/runs/browser-test/ (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(int(height) + 120, 12000))
    path = SCREENSHOTS / name
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 900)
    print(f"screenshot: {path}")
    return path


def _click(driver, element) -> None:
    """Click like a user who scrolled the element to mid-screen (the sticky header covers the top edge)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def _svg_sizes(driver) -> list[tuple[float, float]]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('svg.plot'))"
        ".map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; });"
    )


def test_run_report_renders_without_errors_or_network(browser, runs: Path) -> None:
    page = build_report(runs / "run-fail", baseline=runs / "run-pass")
    console = _open(browser, page)

    errors = [entry for entry in console if entry.get("level") == "SEVERE"]
    assert errors == [], f"console errors: {errors}"
    for section in ("verdict", "diff", "matrix", "deviations", "failures", "error-matrix", "load"):
        element = browser.find_element("id", section)
        assert element.is_displayed(), section
        assert element.size["height"] > 0, section
    assert browser.find_element("css selector", ".verdict-word").text == "FAIL"
    # Hostile evidence stays text: neither the <script> nor the onerror handler in a body ran.
    assert browser.execute_script("return window.__pwned === undefined") is True
    assert "<script>window.__pwned = 1</script>" in browser.find_element("id", "failures").get_attribute(
        "textContent"
    )
    # Every plot draws at a real size: 3 histograms, 3 percentile curves, 2 timelines, sweep plots.
    sizes = _svg_sizes(browser)
    assert len(sizes) >= 9, sizes
    assert all(width > 100 and height > 50 for width, height in sizes), sizes
    assert (
        browser.execute_script("return document.querySelectorAll('svg.plot rect, svg.plot polyline').length")
        > 50
    )
    # Nothing was fetched: no fonts, scripts, styles or images from anywhere.
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    _screenshot(browser, "run-fail.png")


def test_folded_evidence_opens_and_matrix_filters(browser, runs: Path) -> None:
    page = build_report(runs / "run-fail")
    _open(browser, page)
    failures = browser.find_elements("css selector", "details.failure")
    assert len(failures) == 5
    assert not any(d.get_attribute("open") for d in failures)
    _click(browser, browser.find_element("id", "expand-all"))
    assert all(d.get_attribute("open") for d in failures)
    body = failures[0].find_element("css selector", "pre.body")
    assert body.size["height"] > 0

    def visible_rows() -> int:
        rows = browser.find_elements("css selector", "table.matrix tbody tr")
        return sum(1 for row in rows if row.is_displayed())

    all_rows = visible_rows()
    _click(browser, browser.find_element("id", "only-problems"))
    assert 0 < visible_rows() < all_rows


def test_deviation_and_compare_reports_render(browser, runs: Path) -> None:
    page = build_report(runs / "run-deviation")
    console = _open(browser, page)
    assert [e for e in console if e.get("level") == "SEVERE"] == []
    citations = browser.find_elements("css selector", "#deviations blockquote.cite")
    assert len(citations) == 3
    assert "karta-chat-completions.txt" in citations[0].text
    _screenshot(browser, "run-deviation.png")

    compare = compare_runs(
        [runs / "run-pass", runs / "run-fail", runs / "run-deviation"], runs / "compare.html"
    )
    console = _open(browser, compare)
    assert [e for e in console if e.get("level") == "SEVERE"] == []
    header_cells = browser.find_elements("css selector", "#matrix thead th")
    assert len(header_cells) == 2 + 3  # check, endpoint, one column per run
    sizes = _svg_sizes(browser)
    assert len(sizes) == 4  # one p95 chart per metric: TTFT, TPOT, ITL, E2E
    assert all(width > 100 and height > 50 for width, height in sizes), sizes
    _screenshot(browser, "compare.png")
