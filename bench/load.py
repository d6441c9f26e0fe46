"""Drive a server with wrk on loopback and read its latency percentiles, bytes and errors.

Each run writes a small Lua script that sets the method, headers and (cycling through a
list) bodies or paths, and prints one JSON line from wrk's ``done`` hook.
"""

import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

#: What Chromium sends; responses are measured as they would travel to it.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
BROWSER_HEADERS = {"Accept-Encoding": ACCEPT_ENCODING, "Content-Type": "application/json"}

_LUA = """
local bodies = {%(bodies)s}
local paths = {%(paths)s}
local i = 0
wrk.method = "%(method)s"
%(headers)s
request = function()
  i = i + 1
  local body = nil
  if #bodies > 0 then body = bodies[(i %% #bodies) + 1] end
  return wrk.format(nil, paths[(i %% #paths) + 1], nil, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,"p50_us":%%d,"p95_us":%%d,' ..
    '"p99_us":%%d,"mean_us":%%.1f,"errors":%%d,"non_2xx":%%d}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), latency.mean,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass(frozen=True)
class LoadResult:
    """One wrk run: throughput, latency percentiles in ms, bytes per response, errors."""

    requests: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    bytes_per_response: float
    errors: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: run `apt-get install -y wrk` (make bench does)")
    return path


def run_wrk(
    base_url: str,
    paths: list[str],
    *,
    method: str = "GET",
    bodies: list[str] | None = None,
    connections: int = 1,
    duration_s: float = 5.0,
    headers: dict[str, str] | None = None,
    timeout_s: int = 30,
) -> LoadResult:
    """Load ``base_url`` with ``connections`` clients for ``duration_s`` seconds."""
    wrk = require_wrk()
    header_lines = "\n".join(
        f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}"
        for k, v in (headers or BROWSER_HEADERS).items()
    )
    script = _LUA % {
        "bodies": ", ".join(_lua_string(b) for b in bodies or []),
        "paths": ", ".join(_lua_string(p) for p in paths),
        "method": method,
        "headers": header_lines,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        completed = subprocess.run(
            [
                wrk,
                f"-t{min(connections, 2)}",
                f"-c{connections}",
                f"-d{max(1, round(duration_s))}s",
                f"--timeout={timeout_s}s",
                "-s",
                lua.name,
                base_url,
            ],
            capture_output=True,
            text=True,
            timeout=duration_s + timeout_s + 30,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"wrk failed: {completed.stderr or completed.stdout}\n{script}")
    finally:
        Path(lua.name).unlink()
    line = next(x for x in completed.stdout.splitlines() if x.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    requests = max(raw["requests"], 1)
    return LoadResult(
        requests=raw["requests"],
        rps=round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        p50_ms=raw["p50_us"] / 1000,
        p95_ms=raw["p95_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        mean_ms=round(raw["mean_us"] / 1000, 3),
        bytes_per_response=round(raw["bytes"] / requests),
        errors=raw["errors"] + raw["non_2xx"],
    )


def fetch_once(url: str, headers: dict[str, str] | None = None) -> tuple[int, int, float]:
    """(status, bytes on the wire, seconds) for one full download, for long responses."""
    request = urllib.request.Request(url, headers=headers or {"Accept-Encoding": ACCEPT_ENCODING})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        size = 0
        while chunk := response.read(1 << 16):
            size += len(chunk)
        return response.status, size, time.perf_counter() - started
