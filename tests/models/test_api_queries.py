"""Keyset pages, NULL ordering, cursors, stats and the streamed CSV, on the real store."""

import csv
import io

import pytest
from sqlalchemy import Connection, insert, select

from models import Manufacturer, Vehicle
from models.api_queries import (
    BadCursor,
    Sort,
    count_vehicles,
    count_vehicles_upto,
    decode_cursor,
    encode_cursor,
    iter_vehicle_rows,
    vehicle_page,
    vehicle_stats,
)
from models.datasets import dataset_id_for
from models.export import iter_vehicles_csv
from models.filters import VehicleFilter


def walk_ids(conn: Connection, vehicle_filter: VehicleFilter, sort: Sort, limit: int) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        page = vehicle_page(conn, vehicle_filter, sort, limit, cursor)
        ids.extend(item["id"] for item in page.items)
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


@pytest.mark.parametrize(
    "sort", ["horsepower", "-horsepower", "combined_mpg", "-combined_mpg", "origin", "-year"]
)
def test_walk_in_pages_equals_one_sorted_read(conn: Connection, sort: str) -> None:
    order = Sort.parse(sort)
    in_one_go = [
        row[0] for batch in iter_vehicle_rows(conn, VehicleFilter(), order) for row in batch
    ]
    # Page sizes that do and do not split runs of equal values and the NULL block.
    for limit in (5, 100):
        assert walk_ids(conn, VehicleFilter(), order, limit) == in_one_go
    assert len(in_one_go) == 406


def test_nulls_sort_last_in_both_directions(conn: Connection) -> None:
    for sort in ("horsepower", "-horsepower"):
        page = vehicle_page(conn, VehicleFilter(), Sort.parse(sort), 406)
        values = [item["horsepower"] for item in page.items]
        assert values[-6:] == [None] * 6
        assert None not in values[:-6]


def test_text_sorts_bytewise_on_every_dialect(conn: Connection) -> None:
    maker = conn.scalar(select(Manufacturer.id).where(Manufacturer.name == "Ford"))
    conn.execute(
        insert(Vehicle),
        [
            {
                "dataset_id": dataset_id_for(conn, "auto-mpg"),
                "manufacturer_id": maker,
                "model": model,
            }
            for model in ("qqa", "qqB", "qqA-2")
        ],
    )
    for sort, expected in (("model", ["qqA-2", "qqB", "qqa"]), ("-model", ["qqa", "qqB", "qqA-2"])):
        page = vehicle_page(conn, VehicleFilter(q="qq"), Sort.parse(sort), 10)
        assert [item["model"] for item in page.items] == expected
    conn.rollback()


def test_cursor_round_trip_and_rejections() -> None:
    class Row:
        id = 12
        combined_mpg = None

    sort = Sort.parse("-combined_mpg")
    assert decode_cursor(encode_cursor(sort, Row()), sort) == (None, 12)
    with pytest.raises(BadCursor, match="sort=-combined_mpg"):
        decode_cursor(encode_cursor(sort, Row()), Sort.parse("combined_mpg"))
    for token in ("", "!!!", "bnVsbA", "WyJpZCIsMSwidHdvIl0"):
        with pytest.raises(BadCursor):
            decode_cursor(token, Sort())
    with pytest.raises(ValueError, match="unknown sort field"):
        Sort.parse("-price")


def test_stats_means_are_rounded(conn: Connection) -> None:
    groups = vehicle_stats(conn, VehicleFilter(manufacturers=("Toyota",)), "origin")
    assert [(g.key, g.count) for g in groups] == [("Japan", 26)]
    assert groups[0].mpg_mean == round(groups[0].mpg_mean or 0, 2)


def test_csv_is_produced_in_batches(conn: Connection) -> None:
    chunks = list(iter_vehicles_csv(conn, VehicleFilter(), Sort(), batch_size=100))
    assert len(chunks) == 1 + 5  # the header, then 406 rows in batches of at most 100
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert len(rows) == 407
    assert rows[0][:4] == ["fueldash_id", "dataset", "manufacturer", "model"]
    assert all(chunk.count("\r\n") <= 100 for chunk in chunks)


def test_a_search_total_stops_at_the_cap(conn: Connection) -> None:
    # "corolla" is in 10 of the sample's model names; the page holds 3 of them.
    search = VehicleFilter(q="corolla")
    for cap, total, capped in ((10, 10, False), (11, 10, False), (9, 9, True), (1, 1, True)):
        page = vehicle_page(conn, search, Sort(), 3, count_cap=cap)
        assert (page.total, page.total_capped, len(page.items)) == (total, capped, 3)
    assert count_vehicles_upto(conn, search, 4) == (4, True)
    assert count_vehicles_upto(conn, VehicleFilter(q="no such model"), 4) == (0, False)


def test_the_cap_leaves_totals_without_a_search_exact(conn: Connection) -> None:
    page = vehicle_page(conn, VehicleFilter(), Sort(), 3, count_cap=5)
    assert (page.total, page.total_capped) == (406, False)
    toyotas = VehicleFilter(manufacturers=("toyota",), year_min=1975)
    assert count_vehicles_upto(conn, toyotas, 2) == (count_vehicles(conn, toyotas), False)
    assert count_vehicles(conn, toyotas) > 2
