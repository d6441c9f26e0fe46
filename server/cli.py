"""Command-line tools, grouped by noun: ``flask --app wsgi vehicles
seed|import|export|recount``."""

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from models.api_queries import count_vehicles
from models.audit import Actor
from models.datasets import UnknownDataset
from models.db import SQLITE_BUSY_TIMEOUT_MS, db
from models.editing import write_transaction
from models.export import write_vehicles_csv
from models.filters import VehicleFilter
from models.importer import (
    ImportFileError,
    ImportRejected,
    ImportReport,
    commit_import,
    estimate_rows,
    parse_map_option,
)
from models.importer import dry_run as check_import
from models.jobs import without_statement_timeout
from models.sample import seed_shipped
from models.summary import rebuild as rebuild_summary
from models.vehicle import bump_data_version

#: How long a seeder waits for another one to finish (the EPA import takes seconds).
SEED_WAIT_S = 600


@click.group("vehicles")
def vehicles_cli() -> None:
    """Manage the vehicle store."""


@vehicles_cli.command("seed")
@with_appcontext
def seed_command() -> None:
    """Fill an empty store with the shipped datasets (the 406-car sample and the EPA's
    1984-2015 list). Safe to run again, and concurrently."""
    try:
        with db.engine.connect() as conn, _waiting_for_other_seeders(conn):
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                seeded = seed_shipped(conn, _cli_actor())
    except SQLAlchemyError as error:
        raise click.ClickException(
            f"could not seed the store ({error.__class__.__name__}: "
            f"{getattr(error, 'orig', None) or error}). "
            "Has `flask --app wsgi db upgrade` been run?"
        ) from error
    if seeded:
        click.echo(
            "Seeded "
            + " and ".join(f"{n} vehicles into {slug}" for slug, n in seeded.items())
            + "."
        )
    else:
        click.echo("The store already holds vehicles; nothing seeded.")


@contextmanager
def _waiting_for_other_seeders(conn: Connection) -> Iterator[None]:
    """On SQLite, wait for another seeder's write lock as long as its import may take.

    Requests give up after the connection's usual busy timeout; a seeder started beside
    others (gunicorn workers, several hosts) must instead wait its turn. The pragma goes
    to the driver, outside any transaction, and is put back before the pool reuses it.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA busy_timeout={SEED_WAIT_S * 1000}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def _cli_actor() -> Actor:
    return Actor(name=f"cli:{getpass.getuser()}", source="cli")


def _print_report(report: ImportReport, limit: int) -> None:
    for column, choice in report.columns.items():
        if choice is not None:
            unit = f" ({choice.unit})" if choice.unit else ""
            click.echo(f"  {column} -> {choice.field}{unit}")
    if report.ignored:
        click.echo(f"Ignored columns: {', '.join(report.ignored)}")
    click.echo(
        f"{report.new} new, {report.updated} updated, {report.invalid} invalid "
        f"({report.rows} rows); {report.plottable} would be plotted in {report.dataset}."
    )
    for warning in report.warnings:
        click.echo(f"Warning: {warning}")
    for problem in report.errors[:limit]:
        click.echo(f"  {problem}")
    if report.invalid > min(limit, len(report.errors)):
        click.echo(f"  ... and more; {report.invalid} invalid rows in all.")


@vehicles_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dataset", required=True, help="The slug of the dataset to import into.")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=FIELD[:UNIT]",
    help="Map a column to a field (and its unit); COLUMN= ignores it. Repeatable.",
)
@click.option("--dry-run", is_flag=True, help="Only check the file and report; write nothing.")
@click.option("--show", default=20, show_default=True, help="How many invalid rows to list.")
@with_appcontext
def import_command(
    path: Path, dataset: str, maps: tuple[str, ...], dry_run: bool, show: int
) -> None:
    """Import vehicles from a CSV or XLSX file into a dataset: all rows in one transaction,
    or none.

    A row whose own id the dataset already holds updates that vehicle; other rows add
    vehicles. A fueldash export (with a fueldash_id column) updates by fueldash id.
    """
    try:
        mapping = dict(parse_map_option(text) for text in maps)
        total = estimate_rows(path)
        with (
            click.progressbar(length=total, label="Checking", file=sys.stderr) as bar,
            db.engine.connect() as conn,
        ):
            report = check_import(conn, path, dataset, mapping, progress=bar.update)
        _print_report(report, show)
        if report.invalid:
            raise click.ClickException("the file has invalid rows; nothing was imported")
        if dry_run:
            click.echo("Dry run: nothing was written.")
            return
        with (
            click.progressbar(length=total, label="Importing", file=sys.stderr) as bar,
            write_transaction() as conn,
        ):
            report = commit_import(conn, _cli_actor(), path, dataset, mapping, progress=bar.update)
    except ImportFileError as error:
        raise click.ClickException(f"cannot import {path.name}: {error}") from None
    except UnknownDataset as error:
        raise click.ClickException(f"{error}; create it in the admin first") from None
    except ImportRejected as rejected:
        raise click.ClickException(str(rejected)) from None
    except SQLAlchemyError as error:
        raise click.ClickException(
            f"nothing was imported ({error.__class__.__name__}). "
            "Has `flask --app wsgi db upgrade` been run?"
        ) from None
    click.echo(f"Imported {report.new} new and {report.updated} updated vehicles.")


@vehicles_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dataset", "datasets", multiple=True, help="Only this dataset's vehicles. Repeatable."
)
@with_appcontext
def export_command(path: Path, datasets: tuple[str, ...]) -> None:
    """Write the vehicles to PATH as CSV (the admin export's format), with a progress bar.

    The rows go to a temporary file that becomes PATH only when every row is written, so
    PATH is never a cut-short export.
    """
    vehicle_filter = VehicleFilter(datasets=datasets)
    try:
        with db.engine.connect() as conn, conn.begin():
            without_statement_timeout(conn)
            total = count_vehicles(conn, vehicle_filter)
            with click.progressbar(length=total, label="Exporting", file=sys.stderr) as bar:
                rows = write_vehicles_csv(
                    conn, path, vehicle_filter, progress=lambda done: bar.update(done - bar.pos)
                )
    except SQLAlchemyError as error:
        raise click.ClickException(
            f"nothing was exported ({error.__class__.__name__}). "
            "Has `flask --app wsgi db upgrade` been run?"
        ) from None
    except OSError as error:
        raise click.ClickException(f"nothing was exported: {error}") from None
    click.echo(f"Exported {rows} vehicles to {path}.")


@vehicles_cli.command("recount")
@with_appcontext
def recount_command() -> None:
    """Recount the summary tables (counts per maker, filter values) from the vehicles.

    Every write through fueldash keeps them in step; run this after changing vehicles
    around it (raw SQL, a restored dump). Cached figures and ETags go stale.
    """
    try:
        with write_transaction() as conn:
            without_statement_timeout(conn)
            rebuild_summary(conn)
            bump_data_version(conn)
    except SQLAlchemyError as error:
        raise click.ClickException(
            f"nothing was recounted ({error.__class__.__name__}). "
            "Has `flask --app wsgi db upgrade` been run?"
        ) from None
    click.echo("Recounted the vehicle summary from the vehicles.")
