"""The fueldash benchmark: ``python -m bench.run quick`` or ``python -m bench.run full``.

quick: the 406-car sample on SQLite, one client at a time, fueldash against the seed-style
    baseline and a no-op Dash app. Its last line is ``callback_speedup_vs_seed_style=<x>``.
full: every store size (406, 50,000, 1,000,000) on SQLite and PostgreSQL, 1 and 16
    clients, the dashboard callback for the smallest, a median and the largest maker, the
    API and CSV export, Datasette beside fueldash; then the store ``make run`` seeds, both
    shipped datasets, with the callback for the EPA's Chevrolets; writes
    bench/out/results.json, then bench/RESULTS.md and bench/latency.png.
epa: only that last case, its rows printed.
scale: ten million vehicles on PostgreSQL (built once with SQL, then cached), one client,
    the p50 of each request the issue 15 table names against its target, uncached; writes
    the "Scale" section of bench/RESULTS.md.

Every server listens on 127.0.0.1 and is stopped when its runs end; every load run is
bounded by ``BENCH_DURATION`` seconds (default 5; quick uses ``BENCH_QUICK_DURATION``, 8).
"""

import gzip
import json
import os
import re
import sqlite3
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.generate import (
    SCALE_SIZE,
    SIZES,
    postgres_scale_store,
    postgres_shipped_store,
    postgres_store,
    sqlite_shipped_store,
    sqlite_store,
)
from bench.load import ACCEPT_ENCODING, LoadResult, fetch_once, run_wrk
from bench.servers import REPO, Server, datasette, gunicorn
from dashapp.figures import GRAPH_ID
from dashapp.layout import DROPDOWN_ID
from models.datasets import DEFAULT_DATASET, SHIPPED
from models.sample import EPA_DATASET

OUT = REPO / "bench" / "out"
UPDATE_PATH = "/dash/_dash-update-component"
API_PATH = "/api/v1/vehicles"
API_PAGE_SIZE = 50
CONCURRENCY = (1, 16)
MAX_RUN_S = 30
#: Enough clients, for long enough, that every gunicorn worker is warm before measuring.
WARM_UP_CONNECTIONS = 8
WARM_UP_S = 3
PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
#: fueldash without its figure cache: what a cache miss costs.
UNCACHED = {"CACHE_TYPE": "NullCache"}
#: The EPA's largest maker, drawn on its dataset's default axes.
EPA_MAKER = "Chevrolet"


def log(message: str) -> None:
    print(message, flush=True)


def callback_body(manufacturer: str, app: str = "seed", dataset: str = DEFAULT_DATASET) -> str:
    """The body Dash's renderer posts when the dropdown changes.

    The baseline and the no-op app have the seed's one callback (dropdown -> figure);
    fueldash's dashboard callback takes every control and also answers the summary cards,
    the table rows and the CSV link, so it gets the body its own page sends.
    """
    if app == "fueldash":
        return json.dumps(fueldash_callback_body(manufacturer, dataset))
    return json.dumps(
        {
            "output": f"{GRAPH_ID}.figure",
            "outputs": {"id": GRAPH_ID, "property": "figure"},
            "inputs": [{"id": DROPDOWN_ID, "property": "value", "value": manufacturer}],
            "changedPropIds": [f"{DROPDOWN_ID}.value"],
            "state": [],
        }
    )


def fueldash_callback_body(manufacturer: str, dataset: str) -> dict[str, Any]:
    """The explorer's main callback for one maker of ``dataset`` on its default axes, every
    other control at its default."""
    from tests.dashapp.helpers import main_callback_body

    info = SHIPPED[dataset]
    return main_callback_body(
        {
            "manufacturers": [manufacturer],
            "x": info.default_x,
            "y": info.default_y,
            "units": "mpg",
            "dataset": dataset,
        }
    )


def makers_by_points(sqlite_path: Path) -> list[tuple[int, str, int]]:
    """(id, name, plottable points) of every maker with points, fewest first."""
    with sqlite3.connect(sqlite_path) as conn:
        return conn.execute(
            "SELECT m.id, m.name, count(*) FROM vehicles v "
            "JOIN manufacturers m ON m.id = v.manufacturer_id "
            "WHERE v.horsepower IS NOT NULL AND v.combined_mpg IS NOT NULL "
            "GROUP BY m.id, m.name ORDER BY count(*), m.name"
        ).fetchall()


def roles(makers: list[tuple[int, str, int]]) -> dict[str, tuple[int, str, int]]:
    return {"smallest": makers[0], "median": makers[len(makers) // 2], "largest": makers[-1]}


def duration(quick: bool = False) -> float:
    key, default = ("BENCH_QUICK_DURATION", "8") if quick else ("BENCH_DURATION", "5")
    return float(os.environ.get(key, default))


def callback_load(
    server: Server,
    names: list[str],
    connections: int,
    seconds: float,
    dataset: str = DEFAULT_DATASET,
) -> LoadResult:
    app = "seed" if server.name in ("noop", "baseline") else "fueldash"
    bodies = [callback_body(n, app, dataset) for n in names]
    warm = run_wrk(
        server.url,
        [UPDATE_PATH],
        method="POST",
        bodies=bodies,
        connections=max(connections, WARM_UP_CONNECTIONS),
        duration_s=WARM_UP_S,
    )  # warm-up: every worker's connection, compiled statements and page cache
    # Slow servers (the baseline at 1M rows) get long enough for a few requests to finish.
    seconds = max(seconds, min(MAX_RUN_S, 5 * warm.mean_ms / 1000 if warm.requests else MAX_RUN_S))
    return run_wrk(
        server.url,
        [UPDATE_PATH],
        method="POST",
        bodies=bodies,
        connections=connections,
        duration_s=seconds,
    )


def script_sources(html: str) -> list[str]:
    return re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)


def page_javascript(server: Server) -> dict[str, Any]:
    """What a first load of /dash/ costs in JavaScript, gzipped as it travels."""
    total_gzip, total_raw, cache_controls = 0, 0, set()
    with urllib.request.urlopen(server.url + "/dash/", timeout=30) as response:
        html = response.read().decode()
    for src in script_sources(html):
        request = urllib.request.Request(
            urllib.parse.urljoin(server.url + "/dash/", src),
            headers={"Accept-Encoding": ACCEPT_ENCODING},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            cache_controls.add(response.headers.get("Cache-Control", ""))
            encoded = response.headers.get("Content-Encoding") == "gzip"
        total_raw += len(gzip.decompress(body)) if encoded else len(body)
        total_gzip += len(body) if encoded else len(gzip.compress(body, 6))
    return {
        "scripts": len(script_sources(html)),
        "gzip_kb": round(total_gzip / 1024, 1),
        "raw_kb": round(total_raw / 1024, 1),
        "cache_control": sorted(cache_controls),
    }


def api_available(server: Server) -> bool:
    try:
        with urllib.request.urlopen(f"{server.url}{API_PATH}?limit=1", timeout=30) as r:
            return r.status == 200
    except urllib.error.HTTPError:
        return False


def quick() -> float:
    """fueldash vs the seed-style baseline and the no-op app on the 406-car sample.

    fueldash runs twice: as ``make run`` configures it (a per-worker figure cache, which
    this benchmark's few repeated bodies always hit after the warm-up), and with the cache
    off, which is what a view a worker has not drawn yet costs. Returns the first speedup:
    the issue defines the headline on fueldash as ``make run`` configures it.
    """
    store = sqlite_store(406)
    url = f"sqlite:///{store}"
    names = [name for _id, name, _n in makers_by_points(store)]
    seconds = duration(quick=True)
    results: dict[str, LoadResult] = {}
    for label, app, env in (
        ("noop", "bench.noop_app:server", {}),
        ("baseline", "bench.baseline_app:server", {}),
        ("fueldash-cached", "wsgi:app", {}),
        ("fueldash", "wsgi:app", UNCACHED),
    ):
        server_name = "fueldash" if label.startswith("fueldash") else label
        with gunicorn(server_name, app, url, OUT / f"{label}.log", env) as server:
            results[label] = callback_load(server, names, 1, seconds)
            log(
                f"{label:15s} p50 {results[label].p50_ms:7.2f} ms  p99 "
                f"{results[label].p99_ms:7.2f} ms  {results[label].rps:7.1f} req/s  "
                f"{results[label].bytes_per_response:7.0f} B/response  "
                f"errors {results[label].errors}"
            )
    baseline, noop = results["baseline"].p50_ms, results["noop"].p50_ms
    cached, uncached = results["fueldash-cached"].p50_ms, results["fueldash"].p50_ms
    log(f"fueldash_cache_off_speedup_vs_seed_style={baseline / uncached:.1f}")
    log(f"fueldash_cache_off_callback_vs_noop={uncached / noop:.2f}")
    log(f"fueldash_callback_vs_noop={cached / noop:.2f}")
    errors = sum(r.errors for r in results.values())
    if errors:
        log(f"ERRORS: {errors} failed requests")
    log("(the last line: fueldash as `make run` configures it, its per-worker figure cache on)")
    return baseline / cached


def scaling(results: list[dict[str, Any]], url: str, names: list[str], seconds: float) -> None:
    """Throughput at 16 clients as gunicorn's worker count grows (figure cache off)."""
    for workers in (1, 2, 4):
        env = {**UNCACHED, "WEB_CONCURRENCY": str(workers)}
        with gunicorn("fueldash", "wsgi:app", url, OUT / "fueldash.log", env) as s:
            result = callback_load(s, names, 16, seconds)
            _record(
                results,
                server="fueldash",
                store="sqlite",
                size=406,
                endpoint="scaling",
                workers=workers,
                clients=16,
                **result.as_dict(),
            )


def _record(results: list[dict[str, Any]], **fields: Any) -> None:
    results.append(fields)
    shown = {k: v for k, v in fields.items() if k not in ("requests",)}
    log("  " + json.dumps(shown))


def _callbacks(
    results: list[dict[str, Any]],
    server: Server,
    label: str,
    size: int,
    store: str,
    chosen: dict[str, tuple[int, str, int]],
    seconds: float,
) -> None:
    for role, (_id, name, points) in chosen.items():
        for clients in CONCURRENCY:
            result = callback_load(server, [name], clients, seconds)
            _record(
                results,
                server=label,
                store=store,
                size=size,
                endpoint="callback",
                maker=role,
                points=points,
                clients=clients,
                **result.as_dict(),
            )


def _api(
    results: list[dict[str, Any]],
    server: Server,
    label: str,
    size: int,
    store: str,
    median: str,
    seconds: float,
) -> None:
    if not api_available(server):
        log(f"  {label}: {API_PATH} not available on this branch; API and CSV runs skipped")
        _record(results, server=label, store=store, size=size, endpoint="api", note="not available")
        return
    query = urllib.parse.urlencode({"manufacturer": median, "limit": API_PAGE_SIZE})
    for clients in CONCURRENCY:
        result = run_wrk(
            server.url,
            [f"{API_PATH}?{query}"],
            connections=clients,
            duration_s=seconds,
            headers={"Accept-Encoding": ACCEPT_ENCODING},
        )
        _record(
            results,
            server=label,
            store=store,
            size=size,
            endpoint="api",
            clients=clients,
            **result.as_dict(),
        )
    times = []
    for _ in range(1 if size >= 1_000_000 else 3):  # a 1M-row export takes many seconds
        status, size_bytes, took = fetch_once(f"{server.url}{API_PATH}?format=csv")
        times.append(took)
    _record(
        results,
        server=label,
        store=store,
        size=size,
        endpoint="csv",
        clients=1,
        status=status,
        bytes_per_response=size_bytes,
        p50_ms=round(statistics.median(times) * 1000, 1),
        peak_rss_mb=[round(x, 1) for x in server.peak_rss_mb()],
    )


def epa_points(sqlite_path: Path) -> tuple[int, int]:
    """(vehicles in the store, the EPA maker's points on its dataset's default axes)."""
    info = SHIPPED[EPA_DATASET]
    with sqlite3.connect(sqlite_path) as conn:
        vehicles = conn.execute("SELECT count(*) FROM vehicles").fetchone()[0]
        points = conn.execute(
            "SELECT count(*) FROM vehicles v "
            "JOIN manufacturers m ON m.id = v.manufacturer_id "
            "JOIN datasets d ON d.id = v.dataset_id "
            f"WHERE d.slug = ? AND m.name = ? AND v.{info.default_x} IS NOT NULL "
            f"AND v.{info.default_y} IS NOT NULL",
            (EPA_DATASET, EPA_MAKER),
        ).fetchone()[0]
    return vehicles, points


def epa(results: list[dict[str, Any]], seconds: float) -> None:
    """The EPA maker's callback, figure cache off, in the store with both shipped datasets."""
    sqlite_path = sqlite_shipped_store()
    stores = {"sqlite": f"sqlite:///{sqlite_path}"}
    if os.environ.get("BENCH_POSTGRES", "1") != "0":
        stores["postgresql"] = postgres_shipped_store(PG_ADMIN_URL)
    vehicles, points = epa_points(sqlite_path)
    log(f"== both shipped datasets, {vehicles} vehicles")
    for store, url in stores.items():
        with gunicorn("fueldash", "wsgi:app", url, OUT / "fueldash.log", UNCACHED) as s:
            for clients in CONCURRENCY:
                result = callback_load(s, [EPA_MAKER], clients, seconds, EPA_DATASET)
                _record(
                    results,
                    server="fueldash",
                    store=store,
                    size=vehicles,
                    endpoint="callback",
                    dataset=EPA_DATASET,
                    maker=f"EPA {EPA_MAKER}",
                    points=points,
                    clients=clients,
                    **result.as_dict(),
                )


def full() -> list[dict[str, Any]]:
    """Every size, store and server; returns the result rows."""
    results: list[dict[str, Any]] = []
    seconds = duration()
    log("== worker scaling, 406 vehicles, 16 clients")
    sample = sqlite_store(406)
    scaling(results, f"sqlite:///{sample}", [n for _i, n, _p in makers_by_points(sample)], seconds)
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", ",".join(map(str, SIZES))).split(",")]
    for size in sizes:
        log(f"== {size} vehicles")
        sqlite_path = sqlite_store(size)
        stores = {"sqlite": f"sqlite:///{sqlite_path}"}
        if os.environ.get("BENCH_POSTGRES", "1") != "0":
            stores["postgresql"] = postgres_store(PG_ADMIN_URL, size)
        makers = makers_by_points(sqlite_path)
        chosen = roles(makers)
        median = chosen["median"][1]
        every = [name for _id, name, _n in makers]

        with gunicorn("noop", "bench.noop_app:server", stores["sqlite"], OUT / "noop.log") as s:
            for clients in CONCURRENCY:
                result = callback_load(s, every, clients, seconds)
                _record(
                    results,
                    server="noop",
                    store="sqlite",
                    size=size,
                    endpoint="callback",
                    maker="any",
                    clients=clients,
                    **result.as_dict(),
                )

        with gunicorn(
            "baseline", "bench.baseline_app:server", stores["sqlite"], OUT / "baseline.log"
        ) as s:
            _callbacks(results, s, "baseline", size, "sqlite", chosen, seconds)
            _record(
                results,
                server="baseline",
                store="sqlite",
                size=size,
                endpoint="memory",
                peak_rss_mb=[round(x, 1) for x in s.peak_rss_mb()],
            )

        for store, url in stores.items():
            with gunicorn("fueldash", "wsgi:app", url, OUT / "fueldash.log", UNCACHED) as s:
                if size == sizes[0] and store == "sqlite":
                    _record(
                        results,
                        server="fueldash",
                        store=store,
                        size=size,
                        endpoint="page_js",
                        **page_javascript(s),
                    )
                _callbacks(results, s, "fueldash", size, store, chosen, seconds)
                _api(results, s, "fueldash", size, store, median, seconds)
                _record(
                    results,
                    server="fueldash",
                    store=store,
                    size=size,
                    endpoint="memory",
                    peak_rss_mb=[round(x, 1) for x in s.peak_rss_mb()],
                )

        # As `make run` serves it: each worker keeps its own in-memory figure cache.
        with gunicorn("fueldash", "wsgi:app", stores["sqlite"], OUT / "fueldash.log") as s:
            _callbacks(results, s, "fueldash+cache", size, "sqlite", chosen, seconds)

        redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
        cached_env = {"REDIS_URL": redis_url, "CACHE_KEY_PREFIX": f"fueldash-bench-{size}:"}
        with gunicorn(
            "fueldash", "wsgi:app", stores["sqlite"], OUT / "fueldash.log", cached_env
        ) as s:
            _callbacks(results, s, "fueldash+redis", size, "sqlite", chosen, seconds)

        with datasette(sqlite_path, OUT / "datasette.log") as s:
            maker_id = chosen["median"][0]
            path = f"/{sqlite_path.stem}/vehicles.json?" + urllib.parse.urlencode(
                {"manufacturer_id": maker_id, "_size": API_PAGE_SIZE, "_shape": "objects"}
            )
            for clients in CONCURRENCY:
                result = run_wrk(
                    s.url,
                    [path],
                    connections=clients,
                    duration_s=seconds,
                    headers={"Accept-Encoding": ACCEPT_ENCODING},
                )
                _record(
                    results,
                    server="datasette",
                    store="sqlite",
                    size=size,
                    endpoint="api",
                    clients=clients,
                    **result.as_dict(),
                )
    epa(results, seconds)
    return results


#: The requests the scale run times, with their p50 targets in ms (issue 15).
SCALE_TARGETS_MS: dict[str, float] = {
    "`/dash/` layout (`/dash/_dash-layout`)": 300,
    "`/`": 200,
    "`/api/v1/manufacturers`": 50,
    "an unfiltered API page": 50,
    "a page sorted by `-combined_mpg`": 50,
    "stats by manufacturer (`/api/v1/stats?group_by=manufacturer`)": 200,
    "similar vehicles (the query, in process)": 50,
    "the largest maker's uncached callback": 150,
}
SCALE_BEGIN, SCALE_END = "<!-- scale: bench.run scale writes this section -->", "<!-- /scale -->"
RESULTS_MD = REPO / "bench" / "RESULTS.md"


def _scale_subjects(url: str) -> tuple[str, int]:
    """The largest maker's name, and a vehicle of its with horsepower and weight."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        name, maker_id = conn.execute(
            text(
                "SELECT m.name, m.id FROM vehicle_summary s JOIN manufacturers m "
                "ON m.id = s.manufacturer_id ORDER BY s.vehicles DESC LIMIT 1"
            )
        ).one()
        vehicle = conn.execute(
            text(
                "SELECT id FROM vehicles WHERE manufacturer_id = :maker AND horsepower "
                "IS NOT NULL AND weight IS NOT NULL ORDER BY id LIMIT 1"
            ),
            {"maker": maker_id},
        ).scalar_one()
    engine.dispose()
    return name, vehicle


def _similar_p50_ms(url: str, vehicle_id: int, runs: int = 20) -> float:
    """The median time of ``similar_vehicles`` for one vehicle, called in process (the
    dashboard reaches it only through a clicked point)."""
    from sqlalchemy import create_engine

    from models.explore import similar_vehicles

    engine = create_engine(url)
    times = []
    with engine.connect() as conn:
        similar_vehicles(conn, vehicle_id)  # warm: statements compiled, pages cached
        for _ in range(runs):
            started = time.perf_counter()
            assert similar_vehicles(conn, vehicle_id)
            times.append(time.perf_counter() - started)
    engine.dispose()
    return statistics.median(times) * 1000


def scale_size() -> int:
    """Vehicles in the scale store: ten million unless BENCH_SCALE_SIZE says otherwise."""
    return int(os.environ.get("BENCH_SCALE_SIZE", SCALE_SIZE))


def scale() -> list[dict[str, Any]]:
    """Time each request of issue 15's table on the ten-million-vehicle store."""
    size = scale_size()
    log(f"== {size:,} vehicles on PostgreSQL (built once, then cached)")
    url = postgres_scale_store(PG_ADMIN_URL, size)
    largest, vehicle_id = _scale_subjects(url)
    first = new_worker(url, largest)
    for row in first:
        log(f"  new worker, {row['request']}: {row['ms']:.0f} ms")
    seconds = duration()
    paths = dict(
        zip(
            SCALE_TARGETS_MS,
            [
                "/dash/_dash-layout",
                "/",
                "/api/v1/manufacturers",
                f"{API_PATH}?limit={API_PAGE_SIZE}",
                f"{API_PATH}?limit={API_PAGE_SIZE}&sort=-combined_mpg",
                "/api/v1/stats?group_by=manufacturer",
            ],
            strict=False,
        )
    )
    results: list[dict[str, Any]] = []
    with gunicorn("fueldash", "wsgi:app", url, OUT / "fueldash.log", UNCACHED) as server:
        for request, path in paths.items():
            run_wrk(server.url, [path], connections=2, duration_s=WARM_UP_S)  # warm-up
            result = run_wrk(server.url, [path], connections=1, duration_s=seconds)
            results.append({"request": request, **result.as_dict()})
            log(f"  {request}: p50 {result.p50_ms:.1f} ms ({result.errors} errors)")
        result = callback_load(server, [largest], 1, seconds)
        request = "the largest maker's uncached callback"
        results.append({"request": request, "maker": largest, **result.as_dict()})
        log(f"  {request} ({largest}): p50 {result.p50_ms:.1f} ms ({result.errors} errors)")
    request = "similar vehicles (the query, in process)"
    results.append({"request": request, "p50_ms": _similar_p50_ms(url, vehicle_id)})
    log(f"  {request}: p50 {results[-1]['p50_ms']:.1f} ms")
    return results + [{**row, "new_worker": True} for row in first]


#: What a new worker answers first on the scale store: nothing it does once may read the
#: whole table (issue 15 measured 5.4 s before the summary tables).
NEW_WORKER_PATHS = {
    "`/dash/` page, a second time": "/dash/",
    "`/`": "/",
    "`/dash/` layout": "/dash/_dash-layout",
    "an unfiltered API page": f"{API_PATH}?limit={API_PAGE_SIZE}",
}


def new_worker(url: str, largest: str) -> list[dict[str, Any]]:
    """The first requests of a freshly started one-worker server: how long from starting
    gunicorn to the first answer of ``/dash/`` (boot included), then each request below
    as the first of its kind the worker serves, and its first callback."""
    started = time.perf_counter()
    env = {**UNCACHED, "WEB_CONCURRENCY": "1"}
    results: list[dict[str, Any]] = []
    with gunicorn("fueldash", "wsgi:app", url, OUT / "fueldash.log", env) as server:
        # The probe that said "up" was the worker's first /dash/ request.
        results.append({"request": "gunicorn started to the first `/dash/`", "ms": _ms(started)})
        for request, path in NEW_WORKER_PATHS.items():
            status, _size, seconds = fetch_once(server.url + path)
            assert status == 200, (path, status)
            results.append({"request": request, "ms": seconds * 1000})
        body = json.dumps(fueldash_callback_body(largest, DEFAULT_DATASET)).encode()
        call = urllib.request.Request(
            server.url + UPDATE_PATH, body, {"Content-Type": "application/json"}
        )
        call_started = time.perf_counter()
        with urllib.request.urlopen(call, timeout=120) as response:
            response.read()
        results.append({"request": "the largest maker's callback", "ms": _ms(call_started)})
    return results


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def scale_section(results: list[dict[str, Any]], load: float) -> str:
    """The RESULTS.md section for a scale run; ``load`` is the 1-minute load average."""
    lines = [
        SCALE_BEGIN,
        f"## Scale: {scale_size():,} vehicles on PostgreSQL",
        "",
        f"`python -m bench.run scale`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: one client,",
        f"{duration():g} s per request after a warm-up, figure cache off (a miss every time),",
        "the store built once by `bench.generate.postgres_scale_store` (`INSERT ... SELECT`",
        "over `generate_series`). The CSV export job of all rows is measured separately.",
        f"Load average at the end of the run: {load:.1f} on {os.cpu_count()} cores; what",
        "`/` takes (two small reads of the summary) is about what the loaded machine adds",
        "to every request.",
        "",
        "| request | p50 ms | target ms | met | errors |",
        "|---|---:|---:|---|---:|",
    ]
    for row in results:
        if row.get("new_worker"):
            continue
        target = SCALE_TARGETS_MS[row["request"]]
        met = "yes" if row["p50_ms"] <= target else "**no**"
        errors = row.get("errors", 0)
        lines.append(f"| {row['request']} | {row['p50_ms']:.1f} | {target:g} | {met} | {errors} |")
    lines += [
        "",
        "A new worker: gunicorn started with one worker on the same store, figure cache off;",
        "each request after the first is the first of its kind that worker serves.",
        "",
        "| a new worker's first request of each kind | ms |",
        "|---|---:|",
        *(f"| {r['request']} | {r['ms']:,.0f} |" for r in results if r.get("new_worker")),
    ]
    return "\n".join([*lines, SCALE_END])


def write_scale_section(section: str) -> None:
    """Put ``section`` into RESULTS.md in place of the last scale section, or at its end."""
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else ""
    if SCALE_BEGIN in text and SCALE_END in text:
        before, rest = text.split(SCALE_BEGIN, 1)
        text = before + section + rest.split(SCALE_END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS_MD.write_text(text)


def saved_scale_section() -> str | None:
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else ""
    if SCALE_BEGIN not in text or SCALE_END not in text:
        return None
    return SCALE_BEGIN + text.split(SCALE_BEGIN, 1)[1].split(SCALE_END, 1)[0] + SCALE_END


def main(argv: list[str]) -> int:
    mode = argv[1] if len(argv) > 1 else "quick"
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if mode == "quick":
        speedup = quick()
        log(f"(quick benchmark took {time.monotonic() - started:.0f} s)")
        log(f"callback_speedup_vs_seed_style={speedup:.1f}")
        return 0
    if mode == "full":
        from bench.report import write_report

        results = full()
        (OUT / "results.json").write_text(json.dumps(results, indent=1))
        kept = saved_scale_section()  # write_report writes the file afresh
        write_report(results)
        if kept:
            write_scale_section(kept)
        log(f"(full benchmark took {time.monotonic() - started:.0f} s)")
        return 0
    if mode == "scale":
        results = scale()
        (OUT / "scale.json").write_text(json.dumps(results, indent=1))
        write_scale_section(scale_section(results, os.getloadavg()[0]))
        log(f"(scale benchmark took {time.monotonic() - started:.0f} s)")
        return 0
    if mode == "epa":
        epa([], duration())
        return 0
    if mode == "report":  # set BENCH_DURATION as it was for the saved runs
        from bench.report import write_report

        saved = OUT / "results.json"
        ended = datetime.fromtimestamp(saved.stat().st_mtime, UTC)
        write_report(json.loads(saved.read_text()), measured=ended)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
