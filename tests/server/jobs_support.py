"""Waiting for a job in tests: jobs run in a background thread (no Redis) or an in-process
RQ worker, so a test reads the job's recorded state until it has finished."""

import time

from flask import Flask

from models.jobs import JobState, load_job

#: A bound on the wait, so a lost job fails the test instead of hanging it.
MAX_WAIT_S = 120


def job_id_of(location: str | None) -> str:
    """The job id in a redirect to a job's page."""
    assert location and "/admin/jobs/" in location, location
    return location.rsplit("/", 1)[-1]


def wait_for_job(app: Flask, job_id: str) -> JobState:
    """The job once it is done or failed."""
    deadline = time.monotonic() + MAX_WAIT_S
    with app.app_context():
        while True:
            job = load_job(job_id)
            assert job is not None, f"no job {job_id}"
            if job.finished:
                return job
            assert time.monotonic() < deadline, f"job {job_id} is still {job.status}"
            time.sleep(0.05)
