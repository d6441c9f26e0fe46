"""Imports and exports as jobs: on a real Redis with an in-process RQ worker, and in a
background thread where there is no Redis; their pages, downloads and access rules; jobs
whose worker was killed, and exports that cannot record their success."""

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job as QueuedJob

from models.db import db
from models.export import iter_vehicles_csv, write_vehicles_csv
from models.importer import guess_mapping, read_columns
from models.jobs import JobState, claim_job, create_job, load_job, report_progress
from models.user import utcnow
from server.admin.mapping import mapping_to_json
from server.jobs import enqueue, export_name, load_checked_job, perform
from tests.conftest import AuthActions, csrf_token
from tests.server.admin.helpers import audit_count, vehicle_count
from tests.server.jobs_support import MAX_WAIT_S, job_id_of, wait_for_job

REDIS_URL = "redis://127.0.0.1:6379/13"  # this module's own database number
GOOD_CSV = (
    "Make,Model,Year,HP,Miles_per_Gallon\n"
    "chevy,job one,1980,90,25.5\n"
    "Toyota,job two,1981,70,33\n"
    "NewCo,job three,1982,,28\n"
)


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


needs_redis = pytest.mark.skipif(not _redis_up(), reason="needs Redis on 127.0.0.1:6379")


class Jobs:
    """An app whose jobs run one way (``rq`` or ``thread``), and how to see them through."""

    def __init__(self, app: Flask, mode: str, queue: Queue | None) -> None:
        self.app = app
        self.mode = mode
        self.queue = queue

    def run(self, job_id: str) -> JobState:
        """Let the job run to its end: an RQ worker in this process drains the queue (inside
        the app context, as `flask jobs worker` does); a thread job is waited for."""
        if self.queue is not None:
            with self.app.app_context():
                worker = SimpleWorker([self.queue], connection=self.queue.connection)
                worker.work(burst=True)
        return wait_for_job(self.app, job_id)


@pytest.fixture(params=["rq", "thread"])
def jobs(request: pytest.FixtureRequest, app: Flask, tmp_path: Path) -> Iterator[Jobs]:
    """The seeded app with jobs on a real Redis queue of its own, or in a thread."""
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    if request.param == "thread":
        app.config["JOBS_REDIS_URL"] = None
        yield Jobs(app, "thread", None)
        return
    if not _redis_up():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    app.config["JOBS_REDIS_URL"] = REDIS_URL
    app.config["JOBS_QUEUE"] = f"fueldash-test-{uuid.uuid4().hex}"
    queue = Queue(app.config["JOBS_QUEUE"], connection=Redis.from_url(REDIS_URL))
    yield Jobs(app, "rq", queue)
    queue.delete(delete_jobs=True)
    # The queue's registries (finished, failed, ...) are named after it; job keys expire.
    for key in queue.connection.scan_iter(f"rq:*{queue.name}*"):
        queue.connection.delete(key)


def upload(client: FlaskClient, content: str, dataset: str = "auto-mpg") -> str:
    """Upload a file; the mapping step's HTML."""
    response = client.post(
        "/admin/import",
        data={
            "file": (io.BytesIO(content.encode()), "cars.csv"),
            "dataset": dataset,
            "csrf_token": csrf_token(client, "/admin/import"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def confirm_data(html: str) -> dict[str, str]:
    """The confirm form's fields, as the mapping step filled them."""
    form = re.search(r'action="/admin/import/confirm".*?</form>', html, re.S)
    assert form, "the page offers no confirm"
    return dict(
        (name, unescape(value))
        for name, value in re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', form[0])
    )


def start_import(client: FlaskClient, data: dict[str, str]) -> str:
    response = client.post("/admin/import/confirm", data=data)
    assert response.status_code == 302
    return job_id_of(response.location)


def start_export(client: FlaskClient, query: str = "") -> str:
    url = f"/admin/jobs{query}"
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    return job_id_of(response.location)


def synchronous_export(app: Flask, **filters: Any) -> str:
    from models.filters import VehicleFilter

    with app.app_context(), db.engine.connect() as conn:
        return "".join(iter_vehicles_csv(conn, VehicleFilter(**filters)))


# --- imports ------------------------------------------------------------------------------


def test_an_import_job_reaches_done_and_the_rows_are_there(
    jobs: Jobs, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    data = confirm_data(upload(client, GOOD_CSV))
    job_id = start_import(client, data)
    queued = client.get(f"/admin/jobs/{job_id}")
    assert queued.status_code == 200
    if jobs.mode == "rq":  # nothing runs it until a worker takes it from the queue
        assert "Waiting for a worker" in queued.get_data(as_text=True)
        assert queued.headers["Refresh"] == "2"
        assert vehicle_count(jobs.app) == 406

    job = jobs.run(job_id)
    assert (job.status, job.message) == ("done", "Imported: 3 new vehicles, 0 updated.")
    assert job.result == {"new": 3, "updated": 0, "invalid": 0}
    assert job.rows_done == 3
    assert vehicle_count(jobs.app) == 409
    page = client.get(f"/admin/jobs/{job_id}")
    html = page.get_data(as_text=True)
    assert "Refresh" not in page.headers
    assert "Added: 3" in html and "Updated: 0" in html and "Refused (invalid rows): 0" in html
    status = client.get(f"/admin/jobs/{job_id}.json").get_json()
    assert status["status"] == "done"
    assert (status["rows_done"], status["rows_total"], status["percent"]) == (3, 3, 100)
    assert status["started_by"] == "admin"
    # A job runs once: handed to a worker again (a retry, a second queue), it is skipped.
    with jobs.app.app_context():
        perform(job_id)
    assert vehicle_count(jobs.app) == 409
    # The upload was used up: the same confirm again cannot import twice.
    again = client.post("/admin/import/confirm", data=data)
    assert (again.status_code, again.location) == (302, "/admin/import")
    assert vehicle_count(jobs.app) == 409


def test_a_failing_import_leaves_nothing(
    jobs: Jobs, client: FlaskClient, auth: AuthActions, tmp_path: Path
) -> None:
    """Rows 1-1500 are good and 1501 is not: the first batch is written before the bad row
    is met, and the rollback takes it away again."""
    rows = [f"Ford,batch {i},1980,80,20" for i in range(1500)] + ["Ford,bad,1980,80,-5"]
    content = "Make,Model,Year,HP,Miles_per_Gallon\n" + "\n".join(rows) + "\n"
    auth.login()
    html = upload(client, content)
    assert "/admin/import/confirm" not in html  # the dry run refuses the file ...
    source = tmp_path / "cars.csv"
    source.write_text(content)
    forged = {  # ... so the confirm is forged from the check form and the guessed mapping
        "token": re.findall(r'name="token" type="hidden" value="([^"]*)"', html)[0],
        "dataset": "auto-mpg",
        "csrf_token": csrf_token(client, "/admin/import"),
        "mapping": mapping_to_json(guess_mapping(read_columns(source))),
    }
    before = audit_count(jobs.app)
    job_id = start_import(client, forged)
    job = jobs.run(job_id)
    assert job.status == "failed"
    assert job.message == "Nothing imported: 1 invalid rows; nothing was imported."
    assert job.result["invalid"] == 1
    assert vehicle_count(jobs.app) == 406
    assert audit_count(jobs.app) == before
    html = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "Failed." in html and "Refused (invalid rows): 1" in html
    assert "row 1502" in html  # the problem, by its line in the file


def test_an_unknown_dataset_fails_the_job_visibly(
    jobs: Jobs, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    data = confirm_data(upload(client, GOOD_CSV))
    job_id = start_import(client, {**data, "dataset": "no-such-set"})
    job = jobs.run(job_id)
    assert job.status == "failed"
    assert job.message is not None and job.message.startswith("Nothing imported: UnknownDataset")
    assert vehicle_count(jobs.app) == 406


# --- exports ------------------------------------------------------------------------------


def test_an_export_job_file_equals_the_synchronous_export(
    jobs: Jobs, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    job_id = start_export(client)
    assert client.get(f"/admin/jobs/{job_id}/vehicles.csv").status_code in (200, 404)
    job = jobs.run(job_id)
    assert (job.status, job.message, job.rows_done, job.rows_total) == (
        "done",
        "Exported 406 vehicles.",
        406,
        406,
    )
    download = client.get(f"/admin/jobs/{job_id}/vehicles.csv")
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert "vehicles.csv" in download.headers["Content-Disposition"]
    assert download.get_data(as_text=True) == synchronous_export(jobs.app)
    download.close()
    assert 'id="job-download"' in client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)


def test_a_filtered_export_job_keeps_the_list_filter(
    jobs: Jobs, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    job = jobs.run(start_export(client, "?manufacturer=Honda"))
    assert job.rows_done == 13
    download = client.get(f"/admin/jobs/{job.id}/vehicles.csv")
    assert download.get_data(as_text=True) == synchronous_export(jobs.app, manufacturers=("Honda",))
    download.close()


def test_an_export_that_cannot_write_fails_visibly(
    jobs: Jobs, client: FlaskClient, auth: AuthActions, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    jobs.app.config["EXPORT_DIR"] = str(not_a_folder)
    auth.login()
    job = jobs.run(start_export(client))
    assert job.status == "failed"
    assert job.message is not None and job.message.startswith("Failed: FileExistsError")
    assert job.result_file is None
    assert client.get(f"/admin/jobs/{job.id}/vehicles.csv").status_code == 404
    assert "Failed." in client.get(f"/admin/jobs/{job.id}").get_data(as_text=True)


def test_old_exports_are_removed(jobs: Jobs, client: FlaskClient, auth: AuthActions) -> None:
    jobs.app.config["EXPORT_KEEP_HOURS"] = 0
    auth.login()
    first = jobs.run(start_export(client))
    second = jobs.run(start_export(client))  # its start removes the older file
    folder = Path(jobs.app.config["EXPORT_DIR"])
    assert sorted(p.name for p in folder.iterdir()) == [f"vehicles-{second.id}.csv"]
    with jobs.app.app_context():
        gone = load_job(first.id)
    assert gone is not None and gone.result_file is None
    assert client.get(f"/admin/jobs/{first.id}/vehicles.csv").status_code == 404
    assert "The file has been removed" in client.get(f"/admin/jobs/{first.id}").get_data(
        as_text=True
    )


def test_an_export_cut_short_leaves_no_file(app: Flask, tmp_path: Path) -> None:
    """A failure after some rows are written (here: the progress callback raising) leaves
    neither the file nor its temporary part."""
    target = tmp_path / "vehicles.csv"

    def fail_after_first_batch(rows: int) -> None:
        raise OSError(f"disk full after {rows} rows")

    with (
        app.app_context(),
        db.engine.connect() as conn,
        pytest.raises(OSError, match="disk full after 406 rows"),
    ):
        write_vehicles_csv(conn, target, progress=fail_after_first_batch)
    assert list(tmp_path.iterdir()) == []


# --- who sees a job -----------------------------------------------------------------------


@pytest.fixture
def admins_job(jobs: Jobs, client: FlaskClient, auth: AuthActions) -> str:
    auth.login("admin")
    job_id = start_export(client)
    jobs.run(job_id)
    auth.logout()
    return job_id


JOB_URLS: list[Callable[[str], str]] = [
    lambda job_id: f"/admin/jobs/{job_id}",
    lambda job_id: f"/admin/jobs/{job_id}.json",
    lambda job_id: f"/admin/jobs/{job_id}/vehicles.csv",
]


@pytest.mark.parametrize("url", JOB_URLS)
def test_anonymous_visitors_are_sent_to_sign_in(
    client: FlaskClient, admins_job: str, url: Callable[[str], str]
) -> None:
    response = client.get(url(admins_job))
    assert response.status_code == 302
    assert "/login" in response.location


@pytest.mark.parametrize("url", JOB_URLS)
def test_someone_elses_job_is_not_found(
    client: FlaskClient, auth: AuthActions, admins_job: str, url: Callable[[str], str]
) -> None:
    auth.login("editor")
    response = client.get(url(admins_job))
    assert response.status_code == 404
    assert "There is no such job of yours." in response.get_data(as_text=True)
    assert admins_job not in client.get("/admin/jobs").get_data(as_text=True)


@pytest.mark.parametrize("job_id", ["0" * 32, "not-a-job", "A" * 32, "%00", "1" * 500])
def test_a_job_that_does_not_exist_is_not_found(
    client: FlaskClient, auth: AuthActions, job_id: str
) -> None:
    auth.login()
    for url in JOB_URLS:
        assert client.get(url(job_id)).status_code == 404


def test_an_editor_follows_their_own_job_and_an_admin_sees_all(
    jobs: Jobs, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("editor")
    job = jobs.run(start_export(client))
    assert client.get(f"/admin/jobs/{job.id}").status_code == 200
    assert job.id in client.get("/admin/jobs").get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    assert client.get(f"/admin/jobs/{job.id}.json").get_json()["started_by"] == "editor"


def test_starting_an_export_needs_the_form_token(client: FlaskClient, auth: AuthActions) -> None:
    auth.login()
    assert client.post("/admin/jobs").status_code == 400


# --- the command line ---------------------------------------------------------------------


def test_cli_export_writes_the_same_file(app: Flask, runner: Any, tmp_path: Path) -> None:
    target = tmp_path / "all.csv"
    result = runner.invoke(args=["vehicles", "export", str(target)])
    assert result.exit_code == 0, result.output
    assert "Exported 406 vehicles to" in result.output
    assert target.read_bytes().decode() == synchronous_export(app)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.csv"]


def test_cli_export_into_a_missing_folder_fails_and_writes_nothing(
    runner: Any, tmp_path: Path
) -> None:
    result = runner.invoke(args=["vehicles", "export", str(tmp_path / "no" / "such.csv")])
    assert result.exit_code == 1
    assert "nothing was exported" in result.output
    assert list(tmp_path.iterdir()) == []


def test_cli_job_status_and_worker_without_redis(
    jobs: Jobs, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    job = jobs.run(start_export(client))
    runner = jobs.app.test_cli_runner()
    shown = runner.invoke(args=["jobs", "status", job.id])
    assert shown.output.splitlines() == [
        f"export {job.id}: done, 406 of 406 rows",
        "Exported 406 vehicles.",
    ]
    missing = runner.invoke(args=["jobs", "status", "0" * 32])
    assert (missing.exit_code, "there is no job" in missing.output) == (1, True)
    if jobs.mode == "thread":
        refused = runner.invoke(args=["jobs", "worker", "--burst"])
        assert refused.exit_code == 1
        assert "no Redis is configured" in refused.output


def test_the_vehicle_list_and_the_menu_lead_to_export_jobs(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("editor")
    html = client.get("/admin/vehicles?manufacturer=Honda").get_data(as_text=True)
    assert 'href="/admin/jobs?manufacturer=Honda" id="export-job"' in html
    assert 'href="/admin/jobs">Jobs</a>' in html
    page = client.get("/admin/jobs?manufacturer=Honda").get_data(as_text=True)
    assert 'action="/admin/jobs?manufacturer=Honda"' in page
    assert "Export these vehicles to a CSV file" in page


# --- files too large to check while the user waits ----------------------------------------


def test_a_large_file_skips_the_dry_run_and_its_job_imports_it(
    jobs: Jobs, client: FlaskClient, auth: AuthActions
) -> None:
    jobs.app.config["IMPORT_CHECK_MAX_ROWS"] = 2
    auth.login()
    html = upload(client, GOOD_CSV)
    assert 'id="import-report"' not in html  # no dry run ...
    assert "The file has about 3 rows." in html
    job = jobs.run(start_import(client, confirm_data(html)))  # ... yet it can be confirmed
    assert (job.status, job.result["new"]) == ("done", 3)
    assert vehicle_count(jobs.app) == 409


def test_a_large_file_with_a_bad_row_imports_nothing(
    jobs: Jobs, client: FlaskClient, auth: AuthActions
) -> None:
    jobs.app.config["IMPORT_CHECK_MAX_ROWS"] = 2
    auth.login()
    html = upload(client, GOOD_CSV + "Ford,bad,1983,80,-5\n")
    job = jobs.run(start_import(client, confirm_data(html)))
    assert job.status == "failed"
    assert job.result["invalid"] == 1
    assert vehicle_count(jobs.app) == 406


def test_a_large_file_still_gets_the_mapping_checked(
    jobs: Jobs, client: FlaskClient, auth: AuthActions
) -> None:
    jobs.app.config["IMPORT_CHECK_MAX_ROWS"] = 2
    auth.login()
    html = upload(client, "Make,HP,Miles_per_Gallon\nFord,80,20\nFord,81,21\nFord,82,22\n")
    assert "missing required column: model" in html
    assert "/admin/import/confirm" not in html


def test_with_redis_down_the_job_runs_in_a_thread(
    app: Flask, client: FlaskClient, auth: AuthActions, tmp_path: Path
) -> None:
    app.config.update(JOBS_REDIS_URL="redis://127.0.0.1:1/0", EXPORT_DIR=str(tmp_path))
    auth.login()
    job = wait_for_job(app, start_export(client))
    assert (job.status, job.rows_done) == ("done", 406)


# --- a worker that goes away --------------------------------------------------------------

#: What a web process's job thread does, in a process of its own so that it can be killed.
THREAD_WORKER = """
import sys
from server import create_app
from server.jobs import perform
from tests.conftest import _test_config

url, export_dir, job_id = sys.argv[1:]
app = create_app(_test_config(url, EXPORT_DIR=export_dir, JOBS_REDIS_URL=None))
with app.app_context():
    perform(job_id)
"""


def held_export(jobs: Jobs) -> tuple[str, subprocess.Popen[bytes]]:
    """An export job running in another process (`flask jobs worker` with RQ, else what a
    job thread runs), held where it opens its file: the file's temporary name is a FIFO
    that no one reads, so the open waits as on a stalled disk, after the job has claimed
    itself and reported its total."""
    app = jobs.app
    folder = Path(app.config["EXPORT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        job_id = create_job("export", {"filter": {}}, "admin")
        os.mkfifo(folder / f"{export_name(job_id)}.part")
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        if jobs.mode == "rq":
            enqueue(job_id)
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "SECRET_KEY": "test-secret-key",
                "JOBS_REDIS_URL": REDIS_URL,
                "JOBS_QUEUE": app.config["JOBS_QUEUE"],
                "EXPORT_DIR": str(folder),
            }
            command = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi"]
            worker = subprocess.Popen([*command, "jobs", "worker", "--burst"], env=env)
        else:
            script = [sys.executable, "-c", THREAD_WORKER, url, str(folder), job_id]
            worker = subprocess.Popen(script)
    deadline = time.monotonic() + MAX_WAIT_S
    with app.app_context():
        while (job := load_job(job_id)) is None or job.rows_total is None:
            assert worker.poll() is None, f"the worker ended early ({worker.returncode})"
            assert time.monotonic() < deadline, "the held export never reported its total"
            time.sleep(0.05)
    return job_id, worker


def kill(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGKILL)
    assert worker.wait(timeout=30) == -signal.SIGKILL


def silent_for(app: Flask, job_id: str, seconds: float) -> None:
    """Wait until the job's last heartbeat is more than ``seconds`` old."""
    with app.app_context():
        job = load_job(job_id)
    assert job is not None and job.heartbeat_at is not None
    beat = job.heartbeat_at.replace(tzinfo=job.heartbeat_at.tzinfo or UTC)
    time.sleep(max(0.0, (beat + timedelta(seconds=seconds) - utcnow()).total_seconds()) + 0.2)


def test_a_killed_worker_s_export_is_shown_and_recorded_failed(
    jobs: Jobs, client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    job_id, worker = held_export(jobs)
    try:
        # Alive and held: well within JOBS_STALE_SECONDS (300), it shows as running.
        page = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
        assert 'data-status="running"' in page and "Running." in page
    finally:
        kill(worker)
    with jobs.app.app_context():
        assert load_job(job_id).status == "running"  # type: ignore[union-attr]  # as left
    jobs.app.config["JOBS_STALE_SECONDS"] = 1
    silent_for(jobs.app, job_id, 1)
    page = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert 'data-status="failed"' in page and "Failed." in page
    assert "Stopped: the worker went away (no progress reported since" in page
    assert "Refresh" not in client.get(f"/admin/jobs/{job_id}").headers
    with jobs.app.app_context():
        job = load_job(job_id)
    assert job is not None and (job.status, job.rows_total) == ("failed", 406)
    assert job.message and job.message.startswith("Stopped: the worker went away")
    # The part-written file (the FIFO) went with it.
    assert list(Path(jobs.app.config["EXPORT_DIR"]).iterdir()) == []
    listed = client.get("/admin/jobs").get_data(as_text=True)
    assert re.search(rf"{job_id}.*?<td>failed</td>", listed, re.S)


def test_the_cli_reports_a_killed_worker_s_job_failed(jobs: Jobs) -> None:
    job_id, worker = held_export(jobs)
    kill(worker)
    jobs.app.config["JOBS_STALE_SECONDS"] = 1
    silent_for(jobs.app, job_id, 1)
    shown = jobs.app.test_cli_runner().invoke(args=["jobs", "status", job_id])
    lines = shown.output.splitlines()
    assert lines[0] == f"export {job_id}: failed, 0 of 406 rows"
    assert lines[1].startswith("Stopped: the worker went away (no progress reported since")
    with jobs.app.app_context():
        assert load_job(job_id).status == "failed"  # type: ignore[union-attr]


@needs_redis
def test_a_job_rq_gave_up_on_is_failed_at_once(
    jobs: Jobs, client: FlaskClient, auth: AuthActions
) -> None:
    """RQ's own status is read too: a job it cancelled (or failed as abandoned) is failed
    without waiting for the heartbeat to go stale; the other running job is left alone."""
    if jobs.mode != "rq":
        pytest.skip("RQ's status exists only for jobs on the queue")
    auth.login()
    job_ids = []
    with jobs.app.app_context():
        for _ in range(2):
            job_id = create_job("export", {"filter": {}}, "admin")
            enqueue(job_id)
            claim_job(job_id)  # as a worker would, which then went away
            report_progress(job_id, 0, 406)
            job_ids.append(job_id)
    cancelled, alive = job_ids
    assert client.get(f"/admin/jobs/{cancelled}.json").get_json()["status"] == "running"
    assert jobs.queue is not None
    QueuedJob.fetch(cancelled, connection=jobs.queue.connection).cancel()
    listed = client.get("/admin/jobs").get_data(as_text=True)
    assert re.search(rf"{cancelled}.*?<td>failed</td>", listed, re.S)
    assert re.search(rf"{alive}.*?<td>running</td>", listed, re.S)
    status = client.get(f"/admin/jobs/{cancelled}.json").get_json()
    assert (status["status"], status["message"]) == (
        "failed",
        "Stopped: the queue reports the job canceled.",
    )
    assert client.get(f"/admin/jobs/{alive}.json").get_json()["status"] == "running"


def test_a_running_job_without_rq_or_redis_keeps_running(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    """A job of the thread runner has no RQ job, and a Redis that refuses connections or
    never answers says nothing: none of them fails a job that is still beating."""
    auth.login()
    with app.app_context():
        job_id = create_job("export", {"filter": {}}, "admin")
        claim_job(job_id)
    # Accepts connections (the kernel's backlog) and never answers.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        urls = [None, "redis://127.0.0.1:1/0", f"redis://127.0.0.1:{silent.getsockname()[1]}/0"]
        if _redis_up():
            urls.append(REDIS_URL)
        for redis_url in urls:
            app.config["JOBS_REDIS_URL"] = redis_url
            for url in (f"/admin/jobs/{job_id}.json", "/admin/jobs"):
                assert client.get(url).status_code == 200
            assert client.get(f"/admin/jobs/{job_id}.json").get_json()["status"] == "running"


# --- an export that cannot record its success ---------------------------------------------

#: A trigger refusing to record the statuses given, as a database that went away would.
REFUSE = {
    "sqlite": [
        "CREATE TRIGGER refuse_job_outcome BEFORE UPDATE ON jobs WHEN NEW.status IN ({statuses}) "
        "BEGIN SELECT RAISE(ABORT, 'the database refuses the outcome'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_job_outcome() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the database refuses the outcome'; END $$",
        "CREATE TRIGGER refuse_job_outcome BEFORE UPDATE ON jobs FOR EACH ROW "
        "WHEN (NEW.status IN ({statuses})) EXECUTE FUNCTION refuse_job_outcome()",
    ],
}
ALLOW = {
    "sqlite": ["DROP TRIGGER refuse_job_outcome"],
    "postgresql": [
        "DROP TRIGGER refuse_job_outcome ON jobs",
        "DROP FUNCTION refuse_job_outcome()",
    ],
}


@contextmanager
def refusing(app: Flask, *statuses: str) -> Iterator[None]:
    """The database refuses to set a job to any of ``statuses`` until the block ends."""
    quoted = ", ".join(f"'{status}'" for status in statuses)
    with app.app_context(), db.engine.begin() as conn:
        for statement in REFUSE[conn.dialect.name]:
            conn.exec_driver_sql(statement.replace("{statuses}", quoted))
    try:
        yield
    finally:
        with app.app_context(), db.engine.begin() as conn:
            for statement in ALLOW[conn.dialect.name]:
                conn.exec_driver_sql(statement)


def test_an_export_that_cannot_record_success_removes_its_file(app: Flask, tmp_path: Path) -> None:
    app.config.update(EXPORT_DIR=str(tmp_path), JOBS_REDIS_URL=None)
    with app.app_context():
        job_id = create_job("export", {"filter": {}}, "admin")
        with refusing(app, "done"):
            perform(job_id)
        job = load_job(job_id)
    assert job is not None and (job.status, job.result_file) == ("failed", None)
    assert job.message and "the database refuses the outcome" in job.message
    assert list(tmp_path.iterdir()) == []


def test_an_export_that_can_record_nothing_removes_its_file_and_goes_stale(
    app: Flask, tmp_path: Path
) -> None:
    """With the database refusing every outcome (as when it is down), the job cannot even
    be marked failed: its file is removed, and the row, left running, is failed as stale
    once the database answers again."""
    app.config.update(EXPORT_DIR=str(tmp_path), JOBS_REDIS_URL=None)
    with app.app_context():
        job_id = create_job("export", {"filter": {}}, "admin")
        with refusing(app, "done", "failed"), pytest.raises(Exception, match="refuses"):
            perform(job_id)
        assert list(tmp_path.iterdir()) == []
        assert load_job(job_id).status == "running"  # type: ignore[union-attr]
    app.config["JOBS_STALE_SECONDS"] = 1
    silent_for(app, job_id, 1)
    with app.app_context():
        job = load_checked_job(job_id)
    assert job is not None and job.status == "failed"
    assert job.message and job.message.startswith("Stopped: the worker went away")
