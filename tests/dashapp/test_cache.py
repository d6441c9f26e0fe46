"""The figure cache: keyed by (selection, versions of the data shown), on SimpleCache and on
real Redis."""

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis
from flask import Flask
from sqlalchemy import insert, select

from dashapp.cache import cache_environment
from dashapp.figures import GRAPH_ID
from dashapp.view import FIGURE_CACHE
from models import Manufacturer, Vehicle, summary
from models.audit import Actor
from models.datasets import dataset_id_for
from models.db import db
from models.editing import rename_manufacturer, update_vehicle, write_transaction
from tests.dashapp.helpers import (
    UPDATE_URL,
    callback_payload,
    decode_array,
    marker_traces,
    point_count,
    post_figure,
    post_view,
)
from tests.server.api.helpers import counting_statements

REDIS_URL = "redis://127.0.0.1:6379/0"


def add_toyota_behind_the_apps_back(app: Flask, *, bump: bool) -> None:
    """Insert a plottable Toyota with Core; only when asked, count the store into the
    summary again, which gives Toyota's summary row a new version as every real write does."""
    with app.app_context(), db.engine.begin() as conn:
        toyota_id = conn.scalar(select(Manufacturer.id).where(Manufacturer.name == "Toyota"))
        conn.execute(
            insert(Vehicle).values(
                manufacturer_id=toyota_id,
                dataset_id=dataset_id_for(conn, "auto-mpg"),
                model="prius",
                year=2001,
                horsepower=70,
                combined_mpg=41,
            )
        )
        if bump:
            summary.rebuild(conn)


def check_cache_follows_the_data_version(app: Flask) -> None:
    client = app.test_client()
    assert point_count(post_figure(client, "Toyota")) == 26
    # A write that does not change the version is invisible: the answer came from the cache.
    add_toyota_behind_the_apps_back(app, bump=False)
    assert point_count(post_figure(client, "Toyota")) == 26
    # A new version of Toyota's data, as every real write makes, makes the figure stale.
    add_toyota_behind_the_apps_back(app, bump=True)
    assert point_count(post_figure(client, "Toyota")) == 28


def test_simple_cache_is_invalidated_by_a_data_version_change(make_app: Any, app: Flask) -> None:
    check_cache_follows_the_data_version(make_app(CACHE_TYPE="SimpleCache"))


def test_cached_views_that_differ_only_in_units_or_trend_stay_apart(make_app: Any) -> None:
    client = make_app(CACHE_TYPE="SimpleCache").test_client()
    views = [
        post_view(client, ["Toyota"]),
        post_view(client, ["Toyota"], mpg_units="l100km"),
        post_view(client, ["Toyota"], trend=["on"]),
    ]
    again = [
        post_view(client, ["Toyota"]),
        post_view(client, ["Toyota"], mpg_units="l100km"),
        post_view(client, ["Toyota"], trend=["on"]),
    ]
    assert again == views  # each view answered from its own entry, token included
    titles = [v["layout"]["yaxis"]["title"]["text"] for v in views]
    assert titles[0] != titles[1] and titles[0] == titles[2]
    trends = [[t.get("visible") for t in v["data"] if t.get("mode") == "lines"] for v in views]
    assert trends[0] == [False] and trends[2] == [True]


def test_entries_are_plotly_json_and_a_hit_sends_what_the_miss_sent(
    make_app: Any, app: Flask
) -> None:
    from dashapp.cache import cache

    cached = make_app(CACHE_TYPE="SimpleCache")
    client = cached.test_client()
    miss = client.post(UPDATE_URL, json=callback_payload(["Toyota", "Honda"]))
    hit = client.post(UPDATE_URL, json=callback_payload(["Toyota", "Honda"]))
    assert miss.status_code == hit.status_code == 200
    assert json.loads(hit.data) == json.loads(miss.data)
    with cached.app_context():
        stored = [cache.get(key) for key in cache.cache._cache]
    assert len(stored) == 1 and isinstance(stored[0], bytes)
    figure = json.loads(stored[0])
    assert figure == json.loads(miss.data)["response"][GRAPH_ID]["figure"]
    assert {"dtype", "bdata"} <= set(figure["data"][0]["x"])  # typed arrays, as sent
    assert point_count(figure) == 26 + 13


def test_null_cache_always_reads_the_store(make_app: Any, app: Flask) -> None:
    uncached = make_app(CACHE_TYPE="NullCache")
    client = uncached.test_client()
    assert point_count(post_figure(client, "Toyota")) == 26
    add_toyota_behind_the_apps_back(uncached, bump=True)
    assert point_count(post_figure(client, "Toyota")) == 27


@pytest.fixture
def redis_app(make_app: Any, app: Flask) -> Iterator[Flask]:
    """An app caching in the real Redis, under a key prefix no other run shares."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail(f"no Redis at {REDIS_URL}; CI needs it")
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"fueldash-test-{uuid.uuid4().hex}:"
    yield make_app(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX=prefix)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_redis_cache_is_shared_and_invalidated_by_a_data_version_change(
    redis_app: Flask, make_app: Any
) -> None:
    check_cache_follows_the_data_version(redis_app)
    prefix = redis_app.config["CACHE_KEY_PREFIX"]
    # A second app on the same Redis (another worker) sees the first one's entries.
    other_worker = make_app(
        CACHE_TYPE="RedisCache", CACHE_REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX=prefix
    )
    # A write behind both apps' backs, without a version bump, stays invisible to the other
    # worker too: it answers from the entry the first worker put in Redis.
    add_toyota_behind_the_apps_back(redis_app, bump=False)
    assert point_count(post_figure(other_worker.test_client(), "Toyota")) == 28
    with redis.Redis.from_url(REDIS_URL) as client:
        assert list(client.scan_iter(f"{prefix}{FIGURE_CACHE}:*"))


def test_a_broken_cache_backend_still_answers(make_app: Any, app: Flask) -> None:
    broken = make_app(
        CACHE_TYPE="RedisCache", CACHE_REDIS_URL="redis://127.0.0.1:1/0", CACHE_KEY_PREFIX="x:"
    )
    assert point_count(post_figure(broken.test_client(), "Toyota")) == 26


def test_cache_settings_from_the_environment() -> None:
    assert cache_environment({}) == {}
    assert cache_environment({"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": "p:"}) == {
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": "p:",
    }
    assert (
        cache_environment({"REDIS_URL": REDIS_URL, "CACHE_TYPE": "NullCache"})["CACHE_TYPE"]
        == "NullCache"
    )


def queries(statements: list[str]) -> list[str]:
    """The SELECTs among recorded statements, without transaction control."""
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_every_query_of_a_figure_reaches_sqlalchemy_events(make_app: Any, app: Flask) -> None:
    uncached = make_app(CACHE_TYPE="NullCache")
    client = uncached.test_client()
    post_figure(client, "Toyota")  # Dash's one-off set-up is not the figure's to count
    with counting_statements(uncached) as statements:
        assert point_count(post_figure(client, ["Toyota", "Honda"])) == 39
    # Cache off, no versions to read: one statement reads each maker's counts from the
    # summary, one reads the points.
    counts, points = queries(statements)
    assert "vehicle_summary" in counts and "FROM vehicles" not in counts
    assert "FROM vehicles" in points


def test_a_cache_hit_reads_only_the_versions(app: Flask) -> None:
    client = app.test_client()
    post_figure(client, "Honda")  # Dash's one-off set-up is not the figure's to count
    with counting_statements(app) as miss:
        assert point_count(post_figure(client, "Toyota")) == 26
    with counting_statements(app) as hit:
        assert point_count(post_figure(client, "Toyota")) == 26
    assert len(queries(miss)) == 3
    (version,) = queries(hit)
    assert "vehicle_summary" in version and "FROM vehicles" not in version


def first_vehicle(app: Flask, maker: str) -> int:
    with app.app_context(), db.engine.connect() as conn:
        return (
            conn.execute(
                select(Vehicle.id)
                .join(Manufacturer)
                .where(
                    Manufacturer.name == maker,
                    Vehicle.horsepower.is_not(None),
                    Vehicle.combined_mpg.is_not(None),
                )
                .order_by(Vehicle.id)
            )
            .scalars()
            .first()
        )


def test_editing_a_ford_keeps_the_cached_toyota_and_redraws_the_ford(app: Flask) -> None:
    client = app.test_client()
    post_figure(client, "Honda")  # Dash's one-off set-up is not the figure's to count
    toyota, ford = post_figure(client, "Toyota"), post_figure(client, "Ford")
    ford_id = first_vehicle(app, "Ford")
    with app.app_context(), write_transaction() as conn:
        update_vehicle(conn, Actor(name="test", source="cli"), ford_id, {"horsepower": 321.0})
    with counting_statements(app) as toyota_again:
        assert post_figure(client, "Toyota") == toyota
    assert len(queries(toyota_again)) == 1  # the versions: a hit
    with counting_statements(app) as ford_again:
        redrawn = post_figure(client, "Ford")
    assert len(queries(ford_again)) > 1  # a miss
    assert redrawn != ford
    horsepower = np.concatenate([decode_array(t["x"]) for t in marker_traces(redrawn)])
    assert np.isclose(horsepower, 321.0).any()


def test_renaming_a_maker_redraws_its_figures(app: Flask) -> None:
    client = app.test_client()
    assert point_count(post_figure(client, "Toyota")) == 26
    with app.app_context(), write_transaction() as conn:
        toyota_id = conn.scalar(select(Manufacturer.id).where(Manufacturer.name == "Toyota"))
        rename_manufacturer(conn, Actor(name="test", source="cli"), toyota_id, "Toyoda")
    assert point_count(post_figure(client, "Toyota")) == 0
    assert point_count(post_figure(client, "Toyoda")) == 26
