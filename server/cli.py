"""Command-line tools, grouped by noun: ``flask --app wsgi vehicles seed``."""

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from models import seed_sample
from server.extensions import db


@click.group("vehicles")
def vehicles_cli() -> None:
    """Manage the vehicle store."""


@vehicles_cli.command("seed")
@with_appcontext
def seed_command() -> None:
    """Fill an empty store with the 406-car sample. Safe to run again, and concurrently."""
    try:
        with db.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                inserted = seed_sample(conn)
    except SQLAlchemyError as error:
        raise click.ClickException(
            f"could not seed the store ({error.__class__.__name__}: "
            f"{getattr(error, 'orig', None) or error}). "
            "Has `flask --app wsgi db upgrade` been run?"
        ) from error
    if inserted:
        click.echo(f"Seeded {inserted} vehicles from the sample.")
    else:
        click.echo("The store already holds vehicles; nothing seeded.")
