"""PostgreSQL can answer the request paths' ordered reads from an index, without sorting:
a sorted API page, a cursor page deep in a sort, and the point budget's sample.

The sample store is small enough that the planner would rather sort it, so sequential
scans and sorts are priced out (not forbidden): a plan that still sorts has no index for
that order.
"""

import os
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, Select, text

from models.api_queries import Sort, _after, _order_by, select_vehicles
from models.db import db
from models.explore import _sample_statement
from models.filters import VehicleFilter

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="index plans are PostgreSQL's"
)


def plan(conn: Connection, stmt: Select[Any], params: dict[str, Any] | None = None) -> str:
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    conn.execute(text("SET LOCAL enable_sort = off"))
    compiled = stmt.compile(conn, compile_kwargs={"render_postcompile": True})
    values = {**compiled.params, **(params or {})}
    lines = conn.exec_driver_sql(f"EXPLAIN {compiled}", values)
    return "\n".join(row[0] for row in lines)


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("-combined_mpg", "ix_vehicles_sort_combined_mpg_desc"),
        ("combined_mpg", "ix_vehicles_sort_combined_mpg"),
        ("-horsepower", "ix_vehicles_sort_horsepower_desc"),
        ("year", "ix_vehicles_sort_year"),
    ],
)
def test_a_sorted_page_reads_its_index_in_order(app: Flask, sort: str, index: str) -> None:
    with app.app_context(), db.engine.begin() as conn:
        order = Sort.parse(sort)
        page = select_vehicles(VehicleFilter()).order_by(*_order_by(conn, order)).limit(51)
        deep, _nulls = _after(conn, order, 30.0, 100)
        for stmt in (page, page.where(deep)):
            found = plan(conn, stmt)
            assert index in found
            assert "Sort" not in found


def test_the_point_budget_samples_a_maker_off_its_index(app: Flask) -> None:
    shape = VehicleFilter(datasets=("auto-mpg",)).shape()
    stmt = _sample_statement("horsepower", "combined_mpg", shape, bounded=False)
    with app.app_context(), db.engine.begin() as conn:
        params = {"maker_id": 1, "share": 10, "f_dataset_0": "auto-mpg"}
        found = plan(conn, stmt, params)
    assert "ix_vehicles_sample" in found
