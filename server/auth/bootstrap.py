"""Create the first admin from ``ADMIN_USERNAME``/``ADMIN_PASSWORD`` at start-up.

An existing user is never changed, and a database without the users table (before
``flask db upgrade``) is not an error: the bootstrap waits for the next start.
"""

import logging

from flask import Flask
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from models.db import db
from models.user import AccountError, create_user, find_user

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
            log.warning(
                "admin bootstrap skipped; is the database migrated? (%s)", error.__class__.__name__
            )
            return "no users table"
        finally:
            db.session.remove()
    log.info("created admin user %r from ADMIN_USERNAME", username)
    return "created"
