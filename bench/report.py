"""Turn the full benchmark's result rows into bench/RESULTS.md and bench/latency.png."""

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from models.sample import EPA_DATASET

REPO = Path(__file__).resolve().parent.parent
RESULTS_MD = REPO / "bench" / "RESULTS.md"
CHART = REPO / "bench" / "latency.png"
OPTIMISATIONS = REPO / "bench" / "optimisations.md"
PACKAGES = ("dash", "plotly", "flask", "sqlalchemy", "pandas", "orjson", "gunicorn")

Row = dict[str, Any]


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} x {cpu}{memory}, {platform.system()} {platform.release()}"


def _tool_version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def _versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    parts += [f"{name} {version(name)}" for name in PACKAGES]
    parts.append(_tool_version(["wrk", "--version"]).split(" [")[0])
    datasette = REPO / "bench" / "out" / "datasette-venv" / "bin" / "datasette"
    parts.append(_tool_version([str(datasette), "--version"]))
    return ", ".join(parts)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table(rows: list[Row], columns: list[tuple[str, str]]) -> list[str]:
    lines = ["| " + " | ".join(title for title, _ in columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(key)) for _, key in columns) + " |")
    return lines


LOAD_COLUMNS = [
    ("server", "server"),
    ("store", "store"),
    ("vehicles", "size"),
    ("selection", "maker"),
    ("points", "points"),
    ("clients", "clients"),
    ("req/s", "rps"),
    ("p50 ms", "p50_ms"),
    ("p95 ms", "p95_ms"),
    ("p99 ms", "p99_ms"),
    ("bytes/response", "bytes_per_response"),
    ("errors", "errors"),
]


def _completed(row: Row) -> Row:
    """A run in which no request finished has no latency to show, only a note."""
    if row.get("requests") == 0:
        latency = ("rps", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "bytes_per_response")
        return {**{k: v for k, v in row.items() if k not in latency}, "errors": "none finished"}
    return row


def _by(rows: list[Row], **match: Any) -> list[Row]:
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def _median_p50(rows: list[Row]) -> float | None:
    finished = sorted(r["p50_ms"] for r in rows if r.get("requests") != 0 and "p50_ms" in r)
    return finished[len(finished) // 2] if finished else None


def _headline(rows: list[Row]) -> list[str]:
    lines = []
    small = min(r["size"] for r in rows if "size" in r)
    one_client = dict(size=small, endpoint="callback", clients=1)
    baseline = _median_p50(_by(rows, server="baseline", **one_client))
    noop = _median_p50(_by(rows, server="noop", **one_client))
    for label, server in (
        ("as `make run` configures it (per-worker figure cache)", "fueldash+cache"),
        ("figure cache off (what a view not drawn yet costs)", "fueldash"),
        ("Redis figure cache (`make run` with REDIS_URL)", "fueldash+redis"),
    ):
        fueldash = _median_p50(_by(rows, server=server, store="sqlite", **one_client))
        if fueldash and baseline and noop:
            lines.append(
                f"- {small} vehicles, one client, {label}: fueldash callback p50 "
                f"{fueldash:.2f} ms against the seed-style baseline's {baseline:.2f} ms "
                f"(**{baseline / fueldash:.1f}x** faster) and a no-op Dash callback's "
                f"{noop:.2f} ms (**{fueldash / noop:.2f}x** the no-op)."
            )
    for row in _by(rows, dataset=EPA_DATASET, clients=1):
        if "p50_ms" in row:
            lines.append(
                f"- Both shipped datasets ({row['size']:,} vehicles) on {row['store']}, one "
                f"client, figure cache off: the callback for {row['maker']} "
                f"({row['points']:,} points, displacement against combined mpg) answers at "
                f"p50 **{row['p50_ms']:.2f} ms**."
            )
    for row in _by(rows, endpoint="page_js"):
        lines.append(
            f"- First load of /dash/: {row['scripts']} scripts, **{row['gzip_kb']} KB** of "
            f"gzipped JavaScript ({row['raw_kb']} KB raw); Cache-Control "
            f"{', '.join(row['cache_control'])}. The table's grid is loaded only when asked "
            "for; the browser test also counts the chunks Dash fetches while rendering."
        )
    scaling = sorted(_by(rows, endpoint="scaling"), key=lambda r: r["workers"])
    if scaling:
        lines.append(
            "- Throughput with 16 clients (406 vehicles, cache off): "
            + ", ".join(
                f"{r['workers']} worker{'s' if r['workers'] > 1 else ''} "
                f"{r['rps']:.0f} req/s (p50 {r['p50_ms']:.1f} ms)"
                for r in scaling
            )
            + f"; {os.cpu_count()} cores, with wrk on the same machine."
        )
    return lines


def write_chart(rows: list[Row]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = {
        "fueldash (callback, largest maker)": dict(
            server="fueldash", store="sqlite", endpoint="callback", maker="largest"
        ),
        "fueldash + Redis cache": dict(
            server="fueldash+redis", endpoint="callback", maker="largest"
        ),
        "seed-style baseline (callback, largest maker)": dict(
            server="baseline", endpoint="callback", maker="largest"
        ),
        "fueldash API page (median maker)": dict(server="fueldash", store="sqlite", endpoint="api"),
        "Datasette JSON page (median maker)": dict(server="datasette", endpoint="api"),
    }
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for ax, key, title in zip(axes, ("p50_ms", "p99_ms"), ("p50", "p99"), strict=True):
        for label, match in series.items():
            finished = [r for r in _by(rows, clients=1, **match) if r.get("requests") != 0]
            points = sorted((r["size"], r[key]) for r in finished if key in r)
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("vehicles in the store")
        ax.set_title(f"{title} latency, one client")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("milliseconds")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(CHART, dpi=110)
    plt.close(fig)


def write_report(rows: list[Row], measured: datetime | None = None) -> None:
    """Write RESULTS.md (tables, machine, versions, date) and the latency chart.

    ``measured`` is when the runs ended, for a report rewritten later from saved results.
    """
    write_chart(rows)
    load_rows = [
        _completed(r) for r in rows if "p50_ms" in r and r.get("endpoint") not in ("csv", "scaling")
    ]
    lines = [
        "# fueldash benchmark results",
        "",
        "Regenerated by `make bench` (bench/run.py full); the chart is "
        "[latency.png](latency.png). What each optimisation bought is at the end.",
        "",
        f"- Date: {measured or datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {_machine()}",
        f"- Versions: {_versions()}",
        "- Servers: gunicorn with gunicorn.conf.py (sync workers, WEB_CONCURRENCY default "
        "cores + 1), FUELDASH_ENV=production; fueldash without its figure cache unless "
        "marked `+cache` (per-worker, as `make run` serves it) or `+redis`. Load: wrk on loopback, "
        f"{os.environ.get('BENCH_DURATION', '5')} s per run after a 3 s warm-up, "
        "`Accept-Encoding: gzip, deflate, br, zstd` like Chromium.",
        "",
        "## Headline",
        "",
        *_headline(rows),
        "",
        "![p50 and p99 latency against store size](latency.png)",
        "",
        "## Load runs",
        "",
        *_table(load_rows, LOAD_COLUMNS),
        "",
        "## CSV export of every row (one client; median of 3 downloads, 1 at 1M rows)",
        "",
        *_table(
            _by(rows, endpoint="csv"),
            [
                ("store", "store"),
                ("vehicles", "size"),
                ("time ms", "p50_ms"),
                ("bytes on the wire", "bytes_per_response"),
                ("peak RSS per worker MB", "peak_rss_mb"),
            ],
        ),
        "",
        "## Peak RSS per worker (VmHWM, MB) after all runs",
        "",
        *_table(
            _by(rows, endpoint="memory"),
            [
                ("server", "server"),
                ("store", "store"),
                ("vehicles", "size"),
                ("peak RSS per worker", "peak_rss_mb"),
            ],
        ),
        "",
    ]
    for row in _by(rows, endpoint="api"):
        if row.get("note"):
            lines.append(
                f"- {row['server']} on {row['store']} at {row['size']}: "
                f"GET /api/v1/vehicles {row['note']}."
            )
    if OPTIMISATIONS.exists():
        lines += ["", OPTIMISATIONS.read_text()]
    RESULTS_MD.write_text("\n".join(lines).rstrip() + "\n")
