"""gunicorn.conf.py, the settings `make run` serves with, read as gunicorn reads it."""

import multiprocessing
import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def settings(monkeypatch: pytest.MonkeyPatch, **environ: str) -> dict[str, object]:
    for name in ("PORT", "HOST", "WEB_CONCURRENCY", "GUNICORN_ACCESS_LOG", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = settings(monkeypatch)
    assert conf["bind"] == "127.0.0.1:8050"
    assert conf["worker_class"] == "sync"
    assert conf["accesslog"] == "-"
    assert conf["workers"] == multiprocessing.cpu_count() + 1


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = settings(monkeypatch, PORT="9001", WEB_CONCURRENCY="2", GUNICORN_ACCESS_LOG="")
    assert conf["bind"] == "127.0.0.1:9001"
    assert conf["workers"] == 2
    # An empty value turns the access log off; gunicorn would refuse "" as a path.
    assert conf["accesslog"] is None


def test_each_worker_freezes_what_it_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    post_worker_init = settings(monkeypatch)["post_worker_init"]
    assert gc.get_freeze_count() == 0
    held = [{"loaded": n} for n in range(1000)]
    try:
        post_worker_init(object())  # type: ignore[operator]
        assert gc.get_freeze_count() >= len(held)
    finally:
        gc.unfreeze()
