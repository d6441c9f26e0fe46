"""Speed a person feels, measured in headless Chromium: ``python -m bench.browser``.

first chart: from navigation to the first drawn chart on /dash/, with a cold browser cache
    (a new browser context per run), over loopback, as ``make run`` serves the shipped store.
redraw: from the click that picks another x axis to the chart drawn on it, over
    ``REDRAW_CHANGES`` changes cycling through five axes (p50 and p95).

Both are timed inside the page on the browser's own clock (``performance.now()`` and the
click's ``event.timeStamp``), polled once per animation frame, so Playwright's own round
trips are not counted. Each first-chart run also records where its time went (see
``PHASES``), from the page's Navigation and Resource Timing entries. The machine is
shared, so the load average before and after is recorded with the numbers. Writes
bench/out/browser.json and prints the numbers with the issue's targets.

``python -m bench.browser URL`` measures a server already running at URL instead, and
``python -m bench.browser URL_A URL_B ...`` compares several (say, the same commit with
and without a change), alternating between them so that all see the same load.
"""

import json
import os
import statistics
import sys
from typing import Any

from playwright.sync_api import Page, sync_playwright

from bench.generate import sqlite_shipped_store
from bench.servers import REPO, gunicorn
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # the browser the suite drives

OUT = REPO / "bench" / "out"
GRAPH = "#fuel-efficiency-vs-horsepower-graph"
FIRST_CHART_RUNS = int(os.environ.get("BENCH_FIRST_CHART_RUNS", "7"))
REDRAW_CHANGES = int(os.environ.get("BENCH_REDRAW_CHANGES", "30"))
#: The x axes the redraw cycles through, by the dropdown's label.
AXES = (
    "Weight (lb)",
    "Displacement (litres)",
    "Acceleration (0-60 mph, s)",
    "Model year",
    "Horsepower (hp)",
)
TARGETS = {"first_chart_ms": 800, "redraw_p50_ms": 80, "redraw_p95_ms": 150}

#: Milliseconds since navigation when the chart has drawn points, polled per frame.
FIRST_CHART = """(selector) => new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error('no chart drawn in 30 s')), 30000);
    const drawn = () => {
        const gd = document.querySelector(selector + ' .js-plotly-plot');
        if (gd && gd._fullData && document.querySelector(selector + ' .scatterlayer .point')) {
            resolve(performance.now());
        } else {
            requestAnimationFrame(drawn);
        }
    };
    drawn();
})"""
#: Remember when the next option is pressed (the event's own time stamp).
ARM = """() => {
    window.__fueldashPicked = null;
    if (!window.__fueldashListening) {
        window.__fueldashListening = true;
        document.addEventListener('click', (event) => {
            if (window.__fueldashPicked === null && event.target.closest('[role=option]')) {
                window.__fueldashPicked = event.timeStamp;
            }
        }, {capture: true});
    }
}"""
#: Milliseconds from that press to the chart drawn with the x axis titled ``title``.
REDRAWN = """([selector, title]) => new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error('no redraw on ' + title + ' in 30 s')), 30000);
    const drawn = () => {
        const axis = document.querySelector(selector + ' .xtitle');
        const points = document.querySelector(selector + ' .scatterlayer .point');
        if (window.__fueldashPicked !== null && axis && axis.textContent === title && points) {
            resolve(performance.now() - window.__fueldashPicked);
        } else {
            requestAnimationFrame(drawn);
        }
    };
    drawn();
})"""


#: When each step of the first load ended, in ms since navigation: the page's scripts
#: have run (DOMContentLoaded), Dash's layout has arrived, the last of dcc's component
#: chunks (fetched only once the layout renders) has arrived, and the first callback's
#: request was sent and answered. Steps that did not happen are null.
PHASES = """() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const resources = performance.getEntriesByType('resource');
    const path = (entry) => new URL(entry.name).pathname;
    const layout = resources.find((r) => path(r).endsWith('/_dash-layout'));
    const chunks = resources.filter((r) => path(r).includes('/dcc/async-'));
    const callback = resources.find((r) => path(r).endsWith('/_dash-update-component'));
    return {
        scripts_run: nav.domContentLoadedEventEnd,
        layout_received: layout ? layout.responseEnd : null,
        chunks_received: chunks.length ? Math.max(...chunks.map((r) => r.responseEnd)) : null,
        callback_sent: callback ? callback.startTime : null,
        callback_answered: callback ? callback.responseEnd : null,
    };
}"""


def first_chart(browser: Any, url: str) -> tuple[float, dict[str, float | None]]:
    """One cold load (a fresh context has an empty cache): the first chart's time and
    the ``PHASES`` that led to it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(url + "/dash/", wait_until="commit")
        drawn = float(page.evaluate(FIRST_CHART, GRAPH))
        return drawn, page.evaluate(PHASES)
    finally:
        context.close()


def first_chart_ms(browser: Any, url: str) -> float:
    """One cold load's time from navigation to the first drawn chart."""
    return first_chart(browser, url)[0]


def redraw_ms(page: Page, title: str) -> float:
    """Pick the x axis ``title`` and time the redraw."""
    page.evaluate(ARM)
    page.locator("#x-axis").click()
    page.get_by_role("option", name=title, exact=True).click()
    return float(page.evaluate(REDRAWN, [GRAPH, title]))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def median_phases(runs: list[dict[str, float | None]]) -> dict[str, float | None]:
    """Each phase's median over the runs that reached it."""
    medians: dict[str, float | None] = {}
    for name in runs[0]:
        reached = [value for run in runs if (value := run[name]) is not None]
        medians[name] = round(statistics.median(reached), 1) if reached else None
    return medians


def load_average() -> float:
    """The machine's one-minute load average (it is shared; timings depend on it)."""
    return round(os.getloadavg()[0], 2)


def measure_all(urls: list[str]) -> dict[str, dict[str, Any]]:
    """The first chart's times and the redraws' p50/p95 against each of ``urls``.

    With several servers (an A/B of a change), their cold loads alternate one by one and
    their redraws change by change, so every server is measured under the same load.
    """
    load_before = load_average()
    runs: dict[str, list[tuple[float, dict[str, float | None]]]] = {url: [] for url in urls}
    redraws: dict[str, list[float]] = {url: [] for url in urls}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for url in urls:
                first_chart_ms(browser, url)  # the server's first page load warms its workers
            for _ in range(FIRST_CHART_RUNS):
                for url in urls:
                    runs[url].append(first_chart(browser, url))
            pages = {}
            for url in urls:
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.goto(url + "/dash/")
                page.evaluate(FIRST_CHART, GRAPH)
                pages[url] = page
            for i in range(REDRAW_CHANGES):
                for url, page in pages.items():
                    page.bring_to_front()  # the page being timed is the one on screen
                    redraws[url].append(redraw_ms(page, AXES[i % len(AXES)]))
        finally:
            browser.close()
    load_after = load_average()
    results = {}
    for url in urls:
        loads = [drawn for drawn, _phases in runs[url]]
        results[url] = {
            "first_chart_ms": round(statistics.median(loads), 1),
            "first_chart_runs_ms": [round(t, 1) for t in loads],
            "first_chart_phases_ms": median_phases([phases for _drawn, phases in runs[url]]),
            "redraw_p50_ms": round(percentile(redraws[url], 0.5), 1),
            "redraw_p95_ms": round(percentile(redraws[url], 0.95), 1),
            "redraw_changes": len(redraws[url]),
            "targets": TARGETS,
            "load_average": [load_before, load_after],
        }
    return results


def measure(url: str) -> dict[str, Any]:
    """The first chart's times and the redraws' p50/p95 against ``url``."""
    return measure_all([url])[url]


def run() -> dict[str, Any]:
    """Serve fueldash as ``make run`` does on the shipped store and measure it."""
    store = sqlite_shipped_store()
    OUT.mkdir(parents=True, exist_ok=True)
    with gunicorn("fueldash", "wsgi:app", f"sqlite:///{store}", OUT / "browser.log") as server:
        result = measure(server.url)
    (OUT / "browser.json").write_text(json.dumps(result, indent=1))
    for name, target in TARGETS.items():
        verdict = "ok" if result[name] <= target else "OVER"
        print(f"{name}={result[name]} (target <= {target}: {verdict})", flush=True)
    print(f"first chart phases (median ms): {result['first_chart_phases_ms']}")
    print(f"load average before/after: {result['load_average']}", flush=True)
    return result


def main(argv: list[str]) -> int:
    urls = [url.rstrip("/") for url in argv[1:]]
    if len(urls) == 1:  # an already running server
        print(json.dumps(measure(urls[0]), indent=1))
    elif urls:  # several running servers, compared under the same load
        print(json.dumps(measure_all(urls), indent=1))
    else:
        run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
