"""Peak memory (RSS) of a worker importing a large, legitimate XLSX file.

    python -m bench.import_memory                       # a sheet near the 256 MiB bound
    python -m bench.import_memory --uncompressed-mib 32  # a smaller one

Writes an EPA-like workbook (every model name and source id distinct, so the shared-strings
table is as large as it gets) whose members inflate to about ``--uncompressed-mib`` MiB,
then runs the import's dry run and its confirm, each in a fresh process as a gunicorn
worker would, into a new SQLite store (or ``--database-url``), and prints each process's
peak RSS next to its RSS before the import. Issue 16's target: no request takes a worker
above 400 MB.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HEADER = ["id", "make", "model", "year", "cylinders", "displ", "city08", "highway08", "VClass"]
MAKES = ["Chevrolet", "Ford", "Toyota", "Honda", "BMW", "Volkswagen", "Mazda", "Subaru"]
CLASSES = ["Compact Cars", "Midsize Cars", "Small Pickup Trucks", "Sport Utility Vehicle"]


def _row(n: int) -> list[object]:
    return [
        f"src-{n}",
        MAKES[n % len(MAKES)],
        f"Model {n} {n * 7919 % 100003:05d}",
        1984 + n % 40,
        4 + n % 3 * 2,
        1.2 + n % 40 / 10,
        10 + n % 30,
        15 + n % 30,
        CLASSES[n % len(CLASSES)],
    ]


def write_workbook(path: Path, rows: int) -> None:
    """An XLSX of ``rows`` vehicles, written by openpyxl in write-only mode."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for n in range(rows):
        sheet.append(_row(n))
    book.save(path)


def uncompressed_bytes(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(member.file_size for member in archive.infolist())


def rss_mib() -> float:
    """This process's peak RSS so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(step: str, path: Path, database_url: str) -> None:
    """Run one import step in this (fresh) process and print its memory as JSON."""
    from models.audit import Actor
    from models.db import db
    from models.editing import write_transaction
    from models.importer import commit_import, dry_run
    from server import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench-only"})
    with app.app_context():
        if step == "dry-run":
            from flask_migrate import upgrade

            upgrade()
        import openpyxl  # noqa: F401  (loaded before the baseline, as in a warm worker)
        import pandas  # noqa: F401

        before = rss_mib()
        started = time.perf_counter()
        if step == "dry-run":
            with db.engine.connect() as conn:
                report = dry_run(conn, path, "auto-mpg")
        else:
            with write_transaction() as conn:
                report = commit_import(conn, Actor(name="bench", source="cli"), path, "auto-mpg")
        seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "step": step,
                "rows": report.new + report.updated,
                "invalid": report.invalid,
                "seconds": round(seconds, 1),
                "rss_before_mib": round(before, 1),
                "rss_peak_mib": round(rss_mib(), 1),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uncompressed-mib", type=float, default=240)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--child", nargs=3, metavar=("STEP", "PATH", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2])
        return

    with tempfile.TemporaryDirectory(prefix="fueldash-import-memory-") as tmp:
        workdir = Path(tmp)
        probe = workdir / "probe.xlsx"
        write_workbook(probe, 10_000)
        per_row = uncompressed_bytes(probe) / 10_000
        rows = int(args.uncompressed_mib * 1024 * 1024 / per_row)
        path = workdir / "vehicles.xlsx"
        started = time.perf_counter()
        write_workbook(path, rows)
        print(
            f"workbook: {rows} rows, {path.stat().st_size / 2**20:.1f} MiB on disk, "
            f"{uncompressed_bytes(path) / 2**20:.1f} MiB uncompressed "
            f"(written in {time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        url = args.database_url or f"sqlite:///{workdir / 'store.sqlite3'}"
        for step in ("dry-run", "confirm"):
            command = [sys.executable, "-m", "bench.import_memory", "--child", step, str(path), url]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode:
                sys.exit(f"{step} failed:\n{result.stderr[-3000:]}")
            print(result.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
