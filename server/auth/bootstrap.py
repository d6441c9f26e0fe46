"""Create the first admin from ``ADMIN_USERNAME``/``ADMIN_PASSWORD`` at start-up.

An existing user is never changed, and a database without the users table (before
``flask db upgrade``) or one that does not answer is not an error: the bootstrap waits for
the next start, and its log line says which of the two it was.
"""

import logging

from flask import Flask
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from models.db import db
from models.user import AccountError, User, create_user, find_user

log = logging.getLogger(__name__)


def bootstrap_admin(app: Flask) -> str:
    """Create the configured admin if missing; returns what happened, for logs and tests."""
    username = app.config.get("ADMIN_USERNAME")
    password = app.config.get("ADMIN_PASSWORD")
    if not username or not password:
        return "not configured"
    with app.app_context():
        try:
            if find_user(db.session(), username) is not None:
                return "exists"
            create_user(db.session(), username, password, "admin")
            db.session.commit()
        except AccountError as error:
            db.session.rollback()
            log.error("ADMIN_USERNAME/ADMIN_PASSWORD not used: %s", error)
            return "rejected"
        except IntegrityError:
            db.session.rollback()  # another worker created it at the same moment
            return "exists"
        except SQLAlchemyError as error:
            db.session.rollback()
            return _skipped(error)
        finally:
            db.session.remove()
    log.info("created admin user %r from ADMIN_USERNAME", username)
    return "created"


def _skipped(error: SQLAlchemyError) -> str:
    """Say why the bootstrap failed: a database that does not answer, one without the
    users table (not migrated yet, or being migrated right now), or another error."""
    try:
        migrated = inspect(db.engine).has_table(User.__tablename__)
    except SQLAlchemyError as unreachable:
        log.warning(
            "admin bootstrap skipped: the database is unreachable (%s); "
            "the admin is created at the next start",
            unreachable.__class__.__name__,
        )
        return "unreachable"
    if not migrated:
        log.info(
            "admin bootstrap waits: the database has no users table yet; "
            "run `flask db upgrade`, and the admin is created at the next start"
        )
        return "no users table"
    log.warning("admin bootstrap failed: %s", error.__class__.__name__)
    return "failed"
