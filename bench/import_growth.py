"""RSS of a CSV import's confirm, every 10,000 rows: does a worker grow with the file?

    python -m bench.import_growth                          # 200,000 EPA rows into SQLite
    python -m bench.import_growth --rows 100000 --database-url postgresql+psycopg://...
    python -m bench.import_growth --dry-run                # the dry run instead
    python -m bench.import_growth --tracemalloc            # also Python's own allocations

Writes a CSV of ``--rows`` rows of the EPA's list (models/data), repeated with distinct
ids, then imports it into the EPA dataset in a fresh process, as an import job does (one
transaction, ``commit_import`` with a progress callback), and prints that process's RSS
every 10,000 rows. The transaction is rolled back at the end, so the database (migrated
here if it is not yet) is left as it was and the run can be repeated. With
``--tracemalloc`` each line also shows the memory Python's allocator traces, and the end
the source lines whose allocations grew most since the first 10,000 rows.
"""

import argparse
import gc
import gzip
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from importlib import resources
from pathlib import Path

from models.sample import EPA_DATASET, EPA_FILE

EVERY = 10_000
#: Copies of the EPA list get ids this far apart (its own ids are below 35,000).
ID_STRIDE = 100_000


def write_csv(path: Path, rows: int) -> None:
    """``rows`` rows of the EPA's list, repeated as often as needed, each with its own id."""
    source = resources.files("models") / "data" / EPA_FILE
    with gzip.open(source.open("rb"), "rt", encoding="utf-8") as handle:
        header, *lines = handle.read().splitlines()
    with path.open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        for n in range(rows):
            copy, index = divmod(n, len(lines))
            epa_id, rest = lines[index].split(",", 1)
            out.write(f"{int(epa_id) + copy * ID_STRIDE},{rest}\n")


def rss_mib() -> float:
    """This process's resident set now (not its peak)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Meter:
    """A progress callback that prints RSS (and traced memory) every ``EVERY`` rows."""

    def __init__(self, traced: bool) -> None:
        self.rows = 0
        self.traced = traced
        self.first: tracemalloc.Snapshot | None = None
        self.last: tracemalloc.Snapshot | None = None
        self.started = time.perf_counter()

    def __call__(self, rows: int) -> None:
        before = self.rows
        self.rows += rows
        if self.rows // EVERY == before // EVERY:
            return
        line = f"{self.rows:>9,} rows  RSS {rss_mib():7.1f} MiB"
        if self.traced:
            line += f"  traced {tracemalloc.get_traced_memory()[0] / 2**20:7.1f} MiB"
            # Taken inside the import, while its objects are alive.
            self.last = tracemalloc.take_snapshot()
            self.first = self.first or self.last
        print(f"{line}  {time.perf_counter() - self.started:6.1f} s", flush=True)


def child(path: Path, database_url: str, dry: bool, traced: bool) -> None:
    """Import ``path`` in this (fresh) process and print its memory as it goes."""
    from flask_migrate import upgrade

    from models.audit import Actor
    from models.db import db
    from models.importer import commit_import, dry_run
    from server import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench-only"})
    with app.app_context():
        upgrade()
        import pandas  # noqa: F401  (loaded before the baseline, as in a warm worker)

        meter = Meter(traced)
        if traced:
            tracemalloc.start(1)
        print(f"{0:>9,} rows  RSS {rss_mib():7.1f} MiB", flush=True)
        with db.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            transaction = conn.begin()
            if dry:
                report = dry_run(conn, path, EPA_DATASET, progress=meter)
            else:
                actor = Actor(name="bench", source="cli")
                report = commit_import(conn, actor, path, EPA_DATASET, progress=meter)
            print(f"end of the import: RSS {rss_mib():.1f} MiB", flush=True)
            transaction.rollback()
        gc.collect()
        print(
            f"{report.new:,} new, {report.updated:,} updated, {report.invalid} invalid; "
            f"after rollback and gc: RSS {rss_mib():.1f} MiB",
            flush=True,
        )
        if meter.first is not None and meter.last is not None:
            print(f"grown most from the first {EVERY:,} rows to the last:")
            grown = meter.last.compare_to(meter.first, "lineno")
            for stat in sorted(grown, key=lambda stat: -stat.size_diff)[:12]:
                print(f"  {stat}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("PATH", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1], args.dry_run, args.tracemalloc)
        return

    with tempfile.TemporaryDirectory(prefix="fueldash-import-growth-") as tmp:
        workdir = Path(tmp)
        path = workdir / "epa.csv"
        write_csv(path, args.rows)
        print(f"{path.name}: {args.rows:,} rows, {path.stat().st_size / 2**20:.1f} MiB")
        with open("/proc/loadavg") as loadavg:
            print(f"load average: {' '.join(loadavg.read().split()[:3])}", flush=True)
        url = args.database_url or f"sqlite:///{workdir / 'store.sqlite3'}"
        command = [sys.executable, "-m", "bench.import_growth", "--child", str(path), url]
        command += ["--dry-run"] * args.dry_run + ["--tracemalloc"] * args.tracemalloc
        subprocess.run(command, check=True)
        with open("/proc/loadavg") as loadavg:
            print(f"load average: {' '.join(loadavg.read().split()[:3])}")


if __name__ == "__main__":
    main()
