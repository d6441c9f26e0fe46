"""Long jobs, off the request path: imports of uploaded files and full CSV exports.

``start_import`` and ``start_export`` record a job (``models.jobs``) and hand it on:

- With Redis (``JOBS_REDIS_URL``, by default ``REDIS_URL``), the job goes on the RQ queue
  ``JOBS_QUEUE`` ("fueldash") and a worker runs it: ``flask --app wsgi jobs worker``, on
  any host that shares the database and the instance folder (uploads and exports).
- Without Redis (``make run``'s default), or when Redis does not take the job, it runs in a
  background thread of the web process that started it.

Either way the job's status and progress are in the database, so every web worker shows
the same page. An import writes all its rows in one transaction or none. An export is
written under ``EXPORT_DIR`` (by default ``instance/exports``) to a temporary name and
renamed when complete, so a file that can be downloaded is whole; exports are deleted
after ``EXPORT_KEEP_HOURS`` (24). An export whose success cannot be recorded removes its
file, which no job would name.

A worker that dies mid-job leaves it ``running``: ``checked_jobs`` (used by the pages and
the CLI) marks such a job failed once its heartbeat (each progress report) is older than
``JOBS_STALE_SECONDS`` (300), or at once when RQ says the job failed or was stopped.
"""

import logging
import os
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.job import Job as QueuedJob
from rq.job import JobStatus
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict

from models.api_queries import count_vehicles
from models.audit import Actor
from models.datasets import UnknownDataset
from models.db import db
from models.editing import write_transaction
from models.export import partial_path, write_vehicles_csv
from models.importer import (
    ImportFileError,
    ImportRejected,
    commit_import,
    estimate_rows,
    read_columns,
)
from models.jobs import (
    JobState,
    claim_job,
    create_job,
    fail_job,
    fail_running_job,
    finish_job,
    forget_result_files,
    load_job,
    recent_jobs,
    report_progress,
    stop_heartbeat,
    without_statement_timeout,
)
from models.user import utcnow
from server.admin.mapping import mapping_from_json
from server.admin.query_args import list_args
from server.admin.uploads import stored_upload
from server.config import whole_number

log = logging.getLogger(__name__)

#: Whole-number settings: (default, smallest allowed).
JOB_NUMBERS: dict[str, tuple[int, int]] = {
    #: RQ stops a job that runs longer than this (seconds); it is then marked failed.
    "JOBS_TIMEOUT": (6 * 3600, 1),
    #: Finished exports are deleted after this many hours.
    "EXPORT_KEEP_HOURS": (24, 0),
    #: Files with more rows skip the dry run on the mapping page (it would outlast a
    #: request); their import job checks every row instead.
    "IMPORT_CHECK_MAX_ROWS": (100_000, 0),
    #: A running job that has reported no progress for this long (seconds) is taken for
    #: gone (its worker was killed) and marked failed. Longer than any step a job takes
    #: between reports: a count, a batch, an import's final commit.
    "JOBS_STALE_SECONDS": (300, 1),
}
#: Progress is written at most this often (seconds), not once per batch.
PROGRESS_INTERVAL = 1.0
#: How long the web process waits for Redis to take a job before running it itself.
ENQUEUE_TIMEOUT = 2.0
#: RQ statuses of a job that will never finish on its own.
QUEUE_GAVE_UP = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


def init_jobs(app: Flask) -> None:
    """Settings from the environment (unless the app's config already names them), and
    the ``flask jobs ...`` commands."""
    for name, (default, minimum) in JOB_NUMBERS.items():
        value = os.environ.get(name)
        app.config.setdefault(name, whole_number(name, value, minimum) if value else default)
    app.config.setdefault("JOBS_QUEUE", os.environ.get("JOBS_QUEUE") or "fueldash")
    app.config.setdefault(
        "JOBS_REDIS_URL", os.environ.get("JOBS_REDIS_URL") or os.environ.get("REDIS_URL")
    )
    app.config.setdefault(
        "EXPORT_DIR", os.environ.get("EXPORT_DIR") or str(Path(app.instance_path) / "exports")
    )
    app.cli.add_command(jobs_cli)


# --- starting jobs ------------------------------------------------------------------------


def start_import(actor: Actor, token: str, dataset: str, mapping_json: str) -> str:
    """Queue the import of a stored upload (as the admin's dry run mapped it); its id."""
    params = {
        "token": token,
        "dataset": dataset,
        "mapping": mapping_json,
        "actor": actor.name,
        "source": actor.source,
    }
    job_id = create_job("import", params, actor.name, actor.user_id)
    enqueue(job_id)
    return job_id


def start_export(actor: Actor, filter_args: Mapping[str, Any]) -> str:
    """Queue a CSV export of the vehicles the admin list's filter arguments select; its id."""
    job_id = create_job("export", {"filter": dict(filter_args)}, actor.name, actor.user_id)
    enqueue(job_id)
    return job_id


def redis_connection(url: str, timeout: float | None) -> Redis:
    """A Redis client for the job queue; ``timeout`` bounds connecting and each reply
    (None for the worker, which blocks on the queue on purpose)."""
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout or 5)


def job_queue(connection: Redis) -> Queue:
    return Queue(current_app.config["JOBS_QUEUE"], connection=connection)


def enqueue(job_id: str) -> None:
    """Put the job on the RQ queue, or, with no Redis to take it, start it in a thread."""
    if url := current_app.config.get("JOBS_REDIS_URL"):
        try:
            job_queue(redis_connection(url, ENQUEUE_TIMEOUT)).enqueue(
                perform,
                job_id,
                job_id=job_id,
                job_timeout=current_app.config["JOBS_TIMEOUT"],
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
            )
            return
        except RedisError as error:
            log.warning("job %s runs in this process: Redis did not take it (%s)", job_id, error)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threading.Thread(
        target=_perform_in_app, args=(app, job_id), name=f"job-{job_id[:8]}", daemon=True
    ).start()


def _perform_in_app(app: Flask, job_id: str) -> None:
    with app.app_context():
        perform(job_id)


# --- jobs whose worker went away ---------------------------------------------------------


def checked_jobs(jobs: list[JobState]) -> list[JobState]:
    """The jobs as they really stand: a running job whose worker went away (no heartbeat
    for JOBS_STALE_SECONDS, or RQ gave up on it) is marked failed first, and an export's
    unfinished file removed."""
    running = [job for job in jobs if job.status == "running"]
    if not running:
        return jobs
    cutoff = utcnow() - timedelta(seconds=current_app.config["JOBS_STALE_SECONDS"])
    gave_up = _queue_gave_up([job.id for job in running if not job.stale(cutoff)])
    changed = set()
    for job in running:
        if job.stale(cutoff):
            failed = fail_running_job(job.id, _stale_message(job.heartbeat_at), cutoff)
        elif job.id in gave_up:
            message = f"Stopped: the queue reports the job {gave_up[job.id]}."
            failed = fail_running_job(job.id, message)
        else:
            continue
        changed.add(job.id)  # failed here, or it beat or ended meanwhile: read it again
        if failed:
            log.warning("job %s: its worker went away; marked failed", job.id)
            if job.kind == "export":
                _remove_export_files(job.id)
    return [(load_job(job.id) or job) if job.id in changed else job for job in jobs]


def _stale_message(heartbeat_at: datetime | None) -> str:
    since = f" since {heartbeat_at:%Y-%m-%d %H:%M:%S} UTC" if heartbeat_at else ""
    return f"Stopped: the worker went away (no progress reported{since})."


def _queue_gave_up(job_ids: list[str]) -> dict[str, str]:
    """RQ's status of each of the jobs that RQ will not run again, in one round trip;
    nothing without Redis or when Redis does not answer (within REDIS_SOCKET_TIMEOUT), and
    nothing for a job that ran in a thread (RQ has no such job)."""
    url = current_app.config.get("JOBS_REDIS_URL")
    if not url or not job_ids:
        return {}
    timeout = current_app.config.get("REDIS_SOCKET_TIMEOUT", ENQUEUE_TIMEOUT)
    try:
        queued = QueuedJob.fetch_many(job_ids, connection=redis_connection(url, timeout))
    except RedisError:
        return {}
    statuses = {job.id: job.get_status(refresh=False) for job in queued if job is not None}
    return {job_id: status.value for job_id, status in statuses.items() if status in QUEUE_GAVE_UP}


def load_checked_job(job_id: str) -> JobState | None:
    """``load_job``, with a job whose worker went away shown (and recorded) as failed."""
    job = load_job(job_id)
    return None if job is None else checked_jobs([job])[0]


def recent_checked_jobs(user_id: int | None) -> list[JobState]:
    """``recent_jobs``, with jobs whose worker went away shown (and recorded) as failed."""
    return checked_jobs(recent_jobs(user_id))


# --- running jobs -------------------------------------------------------------------------


def perform(job_id: str) -> None:
    """Run a queued job to its end, recording the outcome; the entry point for RQ workers
    and background threads (both run it inside the app context)."""
    job = load_job(job_id)
    if job is None or not claim_job(job_id):
        log.warning("job %s is not waiting to run; skipped", job_id)
        return
    run = {"import": _run_import, "export": _run_export}[job.kind]
    try:
        run(job)
    except Exception as error:  # any failure must show on the job's page
        log.exception("job %s failed", job_id)
        fail_job(job_id, f"Failed: {error.__class__.__name__}: {error}".splitlines()[0])
    finally:
        db.session.remove()


class Progress:
    """Counts rows as a job reports them and writes the count at most once a second."""

    def __init__(self, job_id: str, *, live: bool = True) -> None:
        self.job_id = job_id
        self.rows = 0
        self.live = live
        self._written_at = time.monotonic()

    def add(self, rows: int) -> None:
        self.set(self.rows + rows)

    def set(self, rows: int) -> None:
        self.rows = rows
        if self.live and time.monotonic() - self._written_at >= PROGRESS_INTERVAL:
            report_progress(self.job_id, rows)
            self._written_at = time.monotonic()


def _run_import(job: JobState) -> None:
    params = job.params
    path = stored_upload(params["token"])
    if path is None:
        fail_job(job.id, "Nothing imported: the upload is no longer available.")
        return
    try:
        mapping = mapping_from_json(params["mapping"], read_columns(path))
        if mapping is None:
            fail_job(job.id, "Nothing imported: the mapping does not fit the file.")
            return
        report_progress(job.id, 0, estimate_rows(path))
        # SQLite lets one connection write at a time and the import holds that lock until
        # it commits, so progress can only be written on server databases.
        progress = Progress(job.id, live=db.engine.dialect.name != "sqlite")
        if not progress.live:
            stop_heartbeat(job.id)  # silent until it commits, which is not being gone
        actor = Actor(params["actor"], params["source"], job.user_id)
        with write_transaction() as conn:
            without_statement_timeout(conn)
            report = commit_import(
                conn, actor, path, params["dataset"], mapping, progress=progress.add
            )
    except ImportRejected as rejected:
        report = rejected.report
        outcome = {"new": 0, "updated": 0, "invalid": report.invalid, "errors": report.errors}
        fail_job(job.id, f"Nothing imported: {rejected}.", outcome)
        return
    except (ImportFileError, UnknownDataset, SQLAlchemyError) as error:
        fail_job(job.id, f"Nothing imported: {error.__class__.__name__}: {error}".splitlines()[0])
        return
    finally:
        path.unlink(missing_ok=True)
    finish_job(
        job.id,
        f"Imported: {report.new} new vehicles, {report.updated} updated.",
        {"new": report.new, "updated": report.updated, "invalid": 0},
        rows_done=report.rows,
    )


def export_folder() -> Path:
    folder = Path(current_app.config["EXPORT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def export_file(job: JobState) -> Path | None:
    """A finished export's file, or None when it was never written or has been removed."""
    if job.kind != "export" or job.status != "done" or not job.result_file:
        return None
    path = export_folder() / job.result_file
    return path if path.is_file() else None


def remove_old_exports() -> int:
    """Delete the exports older than EXPORT_KEEP_HOURS; returns how many files went."""
    keep = timedelta(hours=float(current_app.config["EXPORT_KEEP_HOURS"]))
    names = forget_result_files(utcnow() - keep)
    folder = export_folder()
    for name in names:
        (folder / name).unlink(missing_ok=True)
    return len(names)


def export_name(job_id: str) -> str:
    """The file an export job writes, in the export folder."""
    return f"vehicles-{job_id}.csv"


def _remove_export_files(job_id: str) -> None:
    """An export's file and its part-written temporary file, if any."""
    path = export_folder() / export_name(job_id)
    for leftover in (path, partial_path(path)):
        leftover.unlink(missing_ok=True)


def _run_export(job: JobState) -> None:
    remove_old_exports()
    vehicle_filter = list_args(MultiDict(job.params["filter"])).vehicle_filter
    name = export_name(job.id)
    with db.engine.connect() as conn, conn.begin():
        without_statement_timeout(conn)
        report_progress(job.id, 0, count_vehicles(conn, vehicle_filter))
        progress = Progress(job.id)
        rows = write_vehicles_csv(conn, export_folder() / name, vehicle_filter, progress.set)
    try:
        finish_job(job.id, f"Exported {rows} vehicles.", {"rows": rows}, name, rows_done=rows)
    except BaseException:
        # No job names the file, so nothing would ever remove it; the job fails instead.
        _remove_export_files(job.id)
        raise


# --- the worker ---------------------------------------------------------------------------


@click.group("jobs")
def jobs_cli() -> None:
    """Run and inspect long jobs (imports, exports)."""


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run queued jobs from Redis (JOBS_REDIS_URL or REDIS_URL) until stopped."""
    url = current_app.config.get("JOBS_REDIS_URL")
    if not url:
        raise click.ClickException(
            "no Redis is configured (set REDIS_URL); without one, jobs run in the web process"
        )
    connection = redis_connection(url, None)
    # SimpleWorker runs each job in this process, inside the app context pushed above.
    worker = SimpleWorker([job_queue(connection)], connection=connection)
    worker.work(burst=burst)


@jobs_cli.command("status")
@click.argument("job_id")
@with_appcontext
def status_command(job_id: str) -> None:
    """Show a job's status, progress and outcome (a job whose worker went away: failed)."""
    job = load_checked_job(job_id)
    if job is None:
        raise click.ClickException(f"there is no job {job_id}")
    total = f" of {job.rows_total}" if job.rows_total is not None else ""
    click.echo(f"{job.kind} {job.id}: {job.status}, {job.rows_done}{total} rows")
    if job.message:
        click.echo(job.message)
