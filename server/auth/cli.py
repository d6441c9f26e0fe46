"""``flask --app wsgi users create NAME --role admin`` and ``users set-password NAME``:
accounts from the command line."""

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from models.db import db
from models.user import ROLES, AccountError, create_user, find_user, password_problem


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


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
    password = _read_password(password_stdin)
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


@users_cli.command("set-password")
@click.argument("username")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the new password from the first line of standard input instead of prompting.",
)
@with_appcontext
def set_password_command(username: str, password_stdin: bool) -> None:
    """Give a user a new password (prompted for twice, or read from stdin); every session
    signed in before is ended."""
    user = find_user(db.session(), username)
    if user is None:
        raise click.ClickException(f"there is no user named {username.strip()!r}")
    password = _read_password(password_stdin)
    if problem := password_problem(password):
        raise click.ClickException(problem)
    user.set_password(password)
    db.session.commit()
    click.echo(f"Set a new password for {user.username!r}; their earlier sessions are ended.")
