"""What an import keeps in memory from chunk to chunk: the source ids it has seen (to refuse a
duplicate within the file) and nothing else that grows with the file. Issue 15's 200,000-row
import grew about 0.26 MB per 1,000 rows on PostgreSQL, most of it psycopg's tally of
statements to prepare, which kept each chunk's insert (see ``importer._unprepared``)."""

import gc
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, event

from models.audit import Actor
from models.db import db
from models.importer import BATCH_SIZE, ImportRejected, commit_import

ACTOR = Actor(name="test", source="cli")
CHUNKS = 10
#: What the seen source ids may cost per row, with room to spare: an 8-character id is a
#: 57-byte string, its row number 32 bytes, its dict entry 30-60 bytes (about 130 in all).
BYTES_PER_ROW = 300


def _file(tmp_path: Path, rows: int, bad_row: int | None = None) -> Path:
    """An EPA-like CSV. A few cylinders and displacement cells are empty, at different
    places in each chunk, as in the EPA's list: on PostgreSQL each chunk's insert then
    binds its own list of parameter types (a NULL's type is 0)."""
    lines = ["id,make,model,year,cyl,displ,cty,hwy"]
    for i in range(rows):
        cylinders, litres = ("", "") if i % 997 == 0 else (4 + i % 3 * 2, 1.2 + i % 40 / 10)
        year = "not a year" if i == bad_row else 1984 + i % 30
        lines.append(f"src-{i},Ford,Model {i},{year},{cylinders},{litres},{10 + i % 30},20")
    path = tmp_path / "vehicles.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _growth(path: Path) -> tuple[int, int]:
    """(rows imported, traced memory at the import's peak above that at its start); the
    import is rolled back."""
    with db.engine.connect() as conn, conn.begin() as transaction:
        gc.collect()  # garbage left by earlier work is not the import's
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        report = commit_import(conn, ACTOR, path, "auto-mpg")
        peak = tracemalloc.get_traced_memory()[1]
        transaction.rollback()
    return report.new, peak - start


def test_an_import_keeps_only_the_source_ids_from_chunk_to_chunk(
    app: Flask, tmp_path: Path
) -> None:
    """Peak memory of a 10-chunk import against a 2-chunk one: the chunks in between
    add at most their source ids."""
    rows = CHUNKS * BATCH_SIZE - 1  # the header shares the first chunk
    few = 2 * BATCH_SIZE - 1
    with app.app_context():
        tracemalloc.start()
        try:
            _growth(_file(tmp_path, few))  # loads modules and compiles every statement
            small = _growth(_file(tmp_path, few))
            large = _growth(_file(tmp_path, rows))
        finally:
            tracemalloc.stop()
    assert (small[0], large[0]) == (few, rows)
    assert large[1] - small[1] < (rows - few) * BYTES_PER_ROW, (small, large)


@pytest.mark.parametrize("bad_row", [None, 1500])
def test_only_the_inserts_of_new_vehicles_are_left_unprepared(
    app: Flask, tmp_path: Path, bad_row: int | None
) -> None:
    """psycopg prepares no insert of new vehicles, and prepares the import's other
    statements as before; the connection keeps its own setting, whether the import
    commits or is refused (row 1500 is in the second chunk)."""
    with app.app_context():
        if db.engine.dialect.driver != "psycopg":
            pytest.skip("prepared statements are psycopg's (PostgreSQL)")
        path = _file(tmp_path, 3 * BATCH_SIZE, bad_row)
        thresholds: dict[str, set[int | None]] = {}

        def record(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
            table = statement.split()[2] if statement.startswith("INSERT INTO") else "other"
            driver = conn.connection.driver_connection
            assert driver is not None
            thresholds.setdefault(table, set()).add(driver.prepare_threshold)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            with db.engine.connect() as conn:
                driver = conn.connection.driver_connection
                assert driver is not None
                before = driver.prepare_threshold
                assert before is not None  # the test configuration prepares, as psycopg does
                try:
                    with conn.begin():
                        commit_import(conn, ACTOR, path, "auto-mpg")
                except ImportRejected:
                    assert bad_row is not None
                after = driver.prepare_threshold
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    assert after == before
    assert thresholds["vehicles"] == {None}
    assert thresholds["audit_log"] == thresholds["other"] == {before}
