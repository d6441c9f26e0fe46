"""``flask --app wsgi users create NAME --role admin``: accounts from the command line."""

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from models.db import db
from models.user import ROLES, AccountError, create_user


@click.group("users")
def users_cli() -> None:
    """Manage the people who may sign in to /admin/."""


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="editor", show_default=True)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
@with_appcontext
def create_command(username: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password is prompted for (twice) or read from stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_user(db.session(), username, password, role)
        db.session.commit()
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    except SQLAlchemyError as error:
        db.session.rollback()
        raise click.ClickException(
            f"could not create the user ({error.__class__.__name__}). "
            "Has `flask --app wsgi db upgrade` been run?"
        ) from None
    click.echo(f"Created {role} {username.strip()!r}.")
