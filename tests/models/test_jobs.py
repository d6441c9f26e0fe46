"""Job heartbeats: claiming and progress reports beat; only a running job whose heartbeat
is older than the cutoff is failed, and a job that beat or ended meanwhile is left alone."""

from datetime import timedelta

from flask import Flask

from models.jobs import (
    claim_job,
    create_job,
    fail_running_job,
    finish_job,
    load_job,
    report_progress,
    stop_heartbeat,
)
from models.user import utcnow


def test_claiming_and_progress_write_the_heartbeat(app: Flask) -> None:
    with app.app_context():
        job_id = create_job("export", {"filter": {}}, "admin")
        queued = load_job(job_id)
        assert queued is not None and queued.heartbeat_at is None
        assert not queued.stale(utcnow() + timedelta(days=1))  # queued jobs never go stale
        assert claim_job(job_id)
        claimed = load_job(job_id)
        assert claimed is not None and claimed.heartbeat_at is not None
        report_progress(job_id, 10, 406)
        beaten = load_job(job_id)
        assert beaten is not None and beaten.heartbeat_at is not None
        assert beaten.heartbeat_at >= claimed.heartbeat_at
        assert (beaten.rows_done, beaten.rows_total) == (10, 406)
        assert not beaten.stale(utcnow() - timedelta(minutes=1))
        assert beaten.stale(utcnow() + timedelta(seconds=1))


def test_only_a_job_silent_since_the_cutoff_is_failed(app: Flask) -> None:
    with app.app_context():
        job_id = create_job("import", {}, "admin")
        claim_job(job_id)
        # It beat after this cutoff: still alive.
        assert not fail_running_job(job_id, "gone", utcnow() - timedelta(minutes=5))
        assert load_job(job_id).status == "running"  # type: ignore[union-attr]
        assert fail_running_job(job_id, "Stopped: gone.", utcnow() + timedelta(seconds=1))
        job = load_job(job_id)
        assert job is not None
        assert (job.status, job.message, job.finished) == ("failed", "Stopped: gone.", True)
        assert not fail_running_job(job_id, "twice", utcnow() + timedelta(seconds=1))


def test_an_ended_job_or_one_without_heartbeat_is_never_failed_as_stale(app: Flask) -> None:
    later = utcnow() + timedelta(days=1)
    with app.app_context():
        done = create_job("export", {}, "admin")
        claim_job(done)
        finish_job(done, "Exported 1 vehicles.")
        assert not fail_running_job(done, "gone", later)
        assert load_job(done).status == "done"  # type: ignore[union-attr]
        silent = create_job("import", {}, "admin")
        claim_job(silent)
        stop_heartbeat(silent)  # an import on SQLite, holding the write lock until it commits
        job = load_job(silent)
        assert job is not None and job.heartbeat_at is None and not job.stale(later)
        assert not fail_running_job(silent, "gone", later)
        # Without a cutoff (the queue gave up on it) a running job is failed regardless.
        assert fail_running_job(silent, "Stopped: the queue reports the job canceled.")
        assert load_job(silent).status == "failed"  # type: ignore[union-attr]
