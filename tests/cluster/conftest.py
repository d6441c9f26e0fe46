"""The cluster test runs only when asked for (``make cluster-test``, ``-m cluster``): it needs
root, nginx, socat and PostgreSQL, and takes minutes. Every other run deselects it."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.cluster.cluster import Cluster, cluster, unavailable
from tests.conftest import TEST_PASSWORD


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "cluster" in (config.getoption("markexpr") or ""):
        return
    deselected = [item for item in items if item.get_closest_marker("cluster")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("cluster")]


def prepare_store(url: str) -> str:
    """Migrate and seed the store as `make db` does, add an admin; returns an API token."""
    from flask_migrate import upgrade

    from models import seed_sample
    from models.db import db
    from models.user import create_user, issue_token
    from server import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "cluster-setup"})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            seed_sample(conn)
        admin = create_user(db.session(), "admin", TEST_PASSWORD, "admin")
        db.session.flush()
        _token, secret = issue_token(db.session(), admin, "cluster test")
        db.session.commit()
        db.engine.dispose()
    return secret


@pytest.fixture(scope="package")
def the_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two hosts behind nginx on TEST_DATABASE_URL's PostgreSQL database (recreated)."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        unavailable("TEST_DATABASE_URL must name a PostgreSQL database for the cluster test")
    workdir: Path = tmp_path_factory.mktemp("cluster")
    with cluster(workdir, make_url(url).render_as_string(False), prepare_store) as built:
        yield built
