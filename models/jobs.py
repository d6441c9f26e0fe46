"""The state of long jobs (imports and full exports), kept in the database.

Whichever process runs a job (an RQ worker on any host, or a thread in a web worker) writes
its status and progress here, each in its own short transaction, so every web worker and
host shows the same progress. A job's id is a random 32-character hex string, so one
user cannot find another's job by counting.

Statuses: ``queued`` -> ``running`` -> ``done`` or ``failed``.

A running job writes ``heartbeat_at`` when it is claimed and with each progress report. A
worker that dies mid-job (killed, out of memory, a deploy) leaves its job ``running``; one
whose heartbeat is older than the caller's limit is taken for gone and marked failed
(``fail_running_job``). A job that cannot report while it works (an import on SQLite, which
holds the only write lock) has no heartbeat (NULL) and is never judged stale.
"""

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    ForeignKey,
    Integer,
    RowMapping,
    String,
    Text,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Model, db
from models.user import utcnow

KINDS = ("import", "export")
STATUSES = ("queued", "running", "done", "failed")
FINISHED = ("done", "failed")
JOB_ID_LENGTH = 32
MAX_MESSAGE = 2000


class Job(Model):
    """One import or export, from the moment it is asked for until its outcome."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(JOB_ID_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    #: What the job works on (JSON): an import's upload, dataset and mapping; an export's filter.
    params: Mapped[str] = mapped_column(Text)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    #: The outcome in a sentence, or what went wrong.
    message: Mapped[str | None] = mapped_column(Text)
    #: Counts of a finished import (JSON), e.g. {"new": 3, "updated": 1, "invalid": 0}.
    result: Mapped[str | None] = mapped_column(Text)
    #: A finished export's file name in the export folder; None once the file is removed.
    result_file: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the running job last said it was alive (claimed, or reported progress).
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class JobState:
    """A job as the pages, the JSON status and the CLI show it."""

    id: str
    kind: str
    status: str
    params: dict[str, Any]
    rows_done: int
    rows_total: int | None
    message: str | None
    result: dict[str, Any]
    result_file: str | None
    user_id: int | None
    started_by: str
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def stale(self, cutoff: datetime) -> bool:
        """Whether the job is running but has not beaten since before ``cutoff``."""
        if self.status != "running" or self.heartbeat_at is None:
            return False
        return _aware(self.heartbeat_at) < cutoff

    @property
    def percent(self) -> int | None:
        """Rows done as a whole percentage of the total, when the total is known."""
        if not self.rows_total:
            return None
        return min(100, self.rows_done * 100 // self.rows_total)

    def as_json(self) -> dict[str, Any]:
        """The public fields (the parameters stay private: they name files)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "rows_done": self.rows_done,
            "rows_total": self.rows_total,
            "percent": self.percent,
            "message": self.message,
            "result": self.result,
            "has_file": self.result_file is not None,
            "started_by": self.started_by,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


def without_statement_timeout(conn: Connection) -> None:
    """Let this transaction's statements run as long as they need: PostgreSQL's statement
    timeout is set for request paths, not for jobs and commands (it ends with the
    transaction)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL statement_timeout = 0"))


def create_job(
    kind: str, params: Mapping[str, Any], started_by: str, user_id: int | None = None
) -> str:
    """Record a new queued job and return its id."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job_id = secrets.token_hex(JOB_ID_LENGTH // 2)
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(
            insert(Job).values(
                id=job_id,
                kind=kind,
                status="queued",
                params=json.dumps(dict(params)),
                rows_done=0,
                user_id=user_id,
                started_by=started_by[:80],
                created_at=now,
                updated_at=now,
            )
        )
    return job_id


def load_job(job_id: str) -> JobState | None:
    """The job with this id, or None (also for text that cannot be a job id)."""
    if len(job_id) != JOB_ID_LENGTH or not all(c in "0123456789abcdef" for c in job_id):
        return None
    with db.engine.connect() as conn:
        row = conn.execute(select(Job.__table__).where(Job.id == job_id)).mappings().first()
    return None if row is None else _state(row)


def recent_jobs(user_id: int | None, limit: int = 20) -> list[JobState]:
    """The newest jobs, first; only ``user_id``'s unless it is None (everyone's)."""
    stmt = select(Job.__table__).order_by(Job.created_at.desc(), Job.id).limit(limit)
    if user_id is not None:
        stmt = stmt.where(Job.user_id == user_id)
    with db.engine.connect() as conn:
        return [_state(row) for row in conn.execute(stmt).mappings()]


def _aware(moment: datetime) -> datetime:
    # SQLite hands DateTime(timezone=True) values back without their zone; they are UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _state(row: RowMapping) -> JobState:
    values = dict(row)
    values["params"] = json.loads(values["params"])
    values["result"] = json.loads(values["result"]) if values["result"] else {}
    return JobState(**values)


def _set(job_id: str, **values: Any) -> None:
    values["updated_at"] = utcnow()
    with db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(**values))


def claim_job(job_id: str) -> bool:
    """Mark a queued job running; False when it is not queued (another worker has it)."""
    now = utcnow()
    with db.engine.begin() as conn:
        claimed = conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", started_at=now, updated_at=now, heartbeat_at=now)
        )
    return claimed.rowcount == 1


def report_progress(job_id: str, rows_done: int, rows_total: int | None = None) -> None:
    """Record the rows done (and the total, when known); this is also the job's heartbeat."""
    values: dict[str, Any] = {"rows_done": rows_done, "heartbeat_at": utcnow()}
    if rows_total is not None:
        values["rows_total"] = rows_total
    _set(job_id, **values)


def stop_heartbeat(job_id: str) -> None:
    """Say that the job will not beat until it ends (so it is never judged stale)."""
    _set(job_id, heartbeat_at=None)


def fail_running_job(job_id: str, message: str, heartbeat_before: datetime | None = None) -> bool:
    """Mark the job failed with ``message`` if it is still running (and, given
    ``heartbeat_before``, has not beaten since then); False when it is not, because it beat
    or ended meanwhile."""
    now = utcnow()
    stmt = update(Job).where(Job.id == job_id, Job.status == "running")
    if heartbeat_before is not None:
        stmt = stmt.where(Job.heartbeat_at < heartbeat_before)
    values = {"status": "failed", "message": message[:MAX_MESSAGE], "finished_at": now}
    with db.engine.begin() as conn:
        failed = conn.execute(stmt.values(**values, updated_at=now))
    return failed.rowcount == 1


def finish_job(
    job_id: str,
    message: str,
    result: Mapping[str, Any] | None = None,
    result_file: str | None = None,
    rows_done: int | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": "done",
        "message": message[:MAX_MESSAGE],
        "result": json.dumps(dict(result or {})),
        "result_file": result_file,
        "finished_at": utcnow(),
    }
    if rows_done is not None:
        values["rows_done"] = rows_done
    _set(job_id, **values)


def fail_job(job_id: str, message: str, result: Mapping[str, Any] | None = None) -> None:
    _set(
        job_id,
        status="failed",
        message=message[:MAX_MESSAGE],
        result=json.dumps(dict(result or {})),
        finished_at=utcnow(),
    )


def forget_result_files(before: datetime) -> list[str]:
    """Clear the file of every export finished before ``before``; returns those file names
    so the caller can delete them."""
    with db.engine.begin() as conn:
        names = list(
            conn.scalars(
                select(Job.result_file).where(
                    Job.result_file.is_not(None), Job.finished_at < before
                )
            )
        )
        if names:
            conn.execute(update(Job).where(Job.result_file.in_(names)).values(result_file=None))
    return [name for name in names if name]
