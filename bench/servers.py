"""Start and stop the servers the benchmark drives: fueldash, the baseline, the no-op app
and Datasette, each on its own loopback port, and read their workers' peak memory."""

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
HOST = "127.0.0.1"
#: The benchmark's ports; all on loopback.
PORTS = {"fueldash": 18501, "baseline": 18502, "noop": 18503, "datasette": 18504}
START_TIMEOUT_S = 120
#: Datasette lives in its own virtualenv: it pulls in asgiref, and with asgiref installed
#: Dash runs every callback through an async bridge, which would slow fueldash down.
DATASETTE_VENV = REPO / "bench" / "out" / "datasette-venv"


@dataclass
class Server:
    """A running server: its base URL, master process and (for gunicorn) worker pids."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    workers: list[int] = field(default_factory=list)

    def peak_rss_mb(self) -> list[float]:
        """VmHWM (peak resident set) of each live worker, or of the process itself, in MB.

        gunicorn replaces a worker after ``max_requests``, which fast runs reach, so the
        workers are looked up again: the peaks are those of the workers alive now.
        """
        if self.workers:
            self.workers = _children(self.process.pid) or self.workers
        pids = self.workers or [self.process.pid]
        peaks = []
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return peaks


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up within {START_TIMEOUT_S} s")


@contextmanager
def _serve(
    name: str, command: list[str], env: dict[str, str], probe: str, log: Path
) -> Iterator[Server]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as log_file:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env={**os.environ, **env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://{HOST}:{PORTS[name]}"
        try:
            _wait_until_up(url + probe, process)
            server = Server(name, url, process)
            deadline = time.monotonic() + 10
            while not server.workers and time.monotonic() < deadline:
                server.workers = _children(process.pid) if "gunicorn" in command[0] else []
                if "gunicorn" not in command[0]:
                    break
                time.sleep(0.1)
            yield server
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def gunicorn(
    name: str, app: str, database_url: str, log: Path, extra_env: dict[str, str] | None = None
) -> "contextmanager[Server]":  # type: ignore[type-arg]
    """Serve ``app`` the way ``make run`` serves fueldash: gunicorn.conf.py, sync workers."""
    env = {
        "DATABASE_URL": database_url,
        "FUELDASH_ENV": "production",
        "SECRET_KEY": "benchmark-only-secret-key-not-for-production",
        "PORT": str(PORTS[name]),
        "HOST": HOST,
        "GUNICORN_ACCESS_LOG": os.environ.get("BENCH_ACCESS_LOG", "-"),
        **(extra_env or {}),
    }
    command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", app]
    return _serve(name, command, env, "/dash/", log)


def datasette(sqlite_path: Path, log: Path) -> "contextmanager[Server]":  # type: ignore[type-arg]
    """Datasette on the same SQLite file, as a user would serve it for JSON."""
    command = [
        str(DATASETTE_VENV / "bin" / "datasette"),
        "serve",
        str(sqlite_path),
        "--host",
        HOST,
        "--port",
        str(PORTS["datasette"]),
        "--setting",
        "sql_time_limit_ms",
        "30000",
    ]
    return _serve("datasette", command, {}, "/-/versions.json", log)
