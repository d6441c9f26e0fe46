"""Two fueldash hosts behind nginx, sharing PostgreSQL and Redis: the machinery of
``make cluster-test``.

Each host is ``gunicorn -c gunicorn.conf.py wsgi:app`` in its own network namespace
(``fdc-host1``, ``fdc-host2``), joined to the root namespace by a veth pair on the bridge
``fdc-br``: the root side is 10.231.8.1, host N is 10.231.8.1N, and each serves on port 8050.
PostgreSQL and Redis listen on 127.0.0.1 only, which a namespace cannot reach, so socat
forwards a port on the bridge address to each. nginx runs in the root namespace on
127.0.0.1 with the site file ``deploy/nginx.conf``, rendered for these addresses.

Everything is torn down in reverse order on the way out, whatever failed; names start with
``fdc-``, so leftovers of a run that was killed outright are removed before the next one.
"""

import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, make_url, text

from tests.cluster.web import Browser

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SITE_TEMPLATE = REPO / "deploy" / "nginx.conf"

PREFIX = "fdc-"
BRIDGE = f"{PREFIX}br"
GATEWAY = "10.231.8.1"
NETMASK = 24
APP_PORT = 8050
WORKERS_PER_HOST = 2
#: Redis database and key prefix of the cluster's figure cache; the login throttle's keys
#: carry the app's RATELIMIT_KEY_PREFIX.
REDIS_URL = "redis://127.0.0.1:6379/5"
CACHE_KEY_PREFIX = "fdcluster:"
THROTTLE_KEYS = "*LIMITER/fueldash/login/*"  # limits adds its own "LIMITS:" prefix
#: How long a host may take to start serving on this 2-core machine, shared with others.
START_SECONDS = 120


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; under CI (``CI`` set) a missing tool is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"cluster test cannot run: {reason}")
    pytest.skip(reason)


def require_tools() -> None:
    if os.geteuid() != 0:
        unavailable("network namespaces need root")
    for tool in ("ip", "nginx", "socat"):
        if shutil.which(tool) is None:
            unavailable(f"`{tool}` is not installed (apt-get install iproute2 nginx socat)")


def run(*args: str) -> str:
    """Run a command to completion; its stderr is the failure message."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def wait_until(condition: Callable[[], bool], what: str, seconds: float = START_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {seconds:.0f} s waiting for {what}")
        time.sleep(0.1)


def accepts(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=1).close()
    except OSError:
        return False
    return True


def free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def children(pid: int) -> set[int]:
    """The live child processes of ``pid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited while we looked
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path} was not written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def process(args: list[str], log: Path, **options: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A background process writing to ``log``, ended (its whole group) on the way out."""
    with log.open("ab") as out:
        child = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **options
        )
    try:
        yield child
    finally:
        end_process(child)


def end_process(child: subprocess.Popen[bytes], grace: float = 40) -> None:
    """TERM the process's group, then KILL it if it has not gone within ``grace`` seconds."""
    if child.poll() is None:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


# --- the network -----------------------------------------------------------------------


def namespace(number: int) -> str:
    return f"{PREFIX}host{number}"


def host_address(number: int) -> str:
    return f"{GATEWAY}{number}"


def remove_network() -> None:
    """Remove the namespaces (and what runs in them) and the bridge, if they exist."""
    for line in run("ip", "netns", "list").splitlines():
        name = line.split()[0] if line.strip() else ""
        if not name.startswith(PREFIX):
            continue
        for pid in run("ip", "netns", "pids", name).split():
            with suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        run("ip", "netns", "del", name)  # takes the namespace's end of the veth pair along
    if subprocess.run(["ip", "link", "show", BRIDGE], capture_output=True).returncode == 0:
        run("ip", "link", "del", BRIDGE)


@contextmanager
def network(hosts: int) -> Iterator[None]:
    """A bridge in the root namespace and one namespace per host plugged into it."""
    remove_network()
    try:
        run("ip", "link", "add", BRIDGE, "type", "bridge")
        run("ip", "addr", "add", f"{GATEWAY}/{NETMASK}", "dev", BRIDGE)
        run("ip", "link", "set", BRIDGE, "up")
        for number in range(1, hosts + 1):
            ns, outside, inside = namespace(number), f"{PREFIX}v{number}", f"{PREFIX}v{number}ns"
            run("ip", "netns", "add", ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
            run("ip", "link", "set", inside, "netns", ns)
            run("ip", "link", "set", outside, "master", BRIDGE, "up")
            run("ip", "-n", ns, "addr", "add", f"{host_address(number)}/{NETMASK}", "dev", inside)
            run("ip", "-n", ns, "link", "set", inside, "up")
    except RuntimeError as error:
        remove_network()
        unavailable(f"network namespaces cannot be set up here: {error}")
    try:
        yield
    finally:
        remove_network()


@contextmanager
def forward(target_port: int, log: Path) -> Iterator[int]:
    """Make 127.0.0.1:``target_port`` reachable from the namespaces; yields the bridge port."""
    port = free_port(GATEWAY)
    listen = f"TCP-LISTEN:{port},bind={GATEWAY},fork,reuseaddr"
    with process(["socat", listen, f"TCP:127.0.0.1:{target_port}"], log):
        wait_until(lambda: accepts(GATEWAY, port), f"socat on {GATEWAY}:{port}", 10)
        yield port


# --- the app hosts ---------------------------------------------------------------------


@dataclass
class AppHost:
    """One gunicorn in its own namespace; it can be stopped, started and reloaded."""

    number: int
    env: dict[str, str]
    log: Path
    child: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return host_address(self.number)

    @property
    def upstream(self) -> str:
        return f"{self.address}:{APP_PORT}"

    @property
    def url(self) -> str:
        return f"http://{self.upstream}"

    def command(self, *args: str) -> list[str]:
        """``args`` run inside this host's namespace."""
        return ["ip", "netns", "exec", namespace(self.number), *args]

    def start(self) -> None:
        """Start gunicorn (``ip netns exec`` execs it, so its pid is gunicorn's master)."""
        assert self.child is None or self.child.poll() is not None, "already running"
        gunicorn = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket"]
        with self.log.open("ab") as out:
            self.child = subprocess.Popen(
                self.command(*gunicorn, "wsgi:app"),
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def ready(self) -> bool:
        if self.child is None or self.child.poll() is not None:
            raise RuntimeError(f"host {self.number} exited; its log:\n{tail(self.log)}")
        try:
            return Browser().get(f"{self.url}/healthz", timeout=5).status == 200
        except OSError:
            return False

    def wait_ready(self) -> None:
        wait_until(self.ready, f"host {self.number} to answer /healthz")

    def workers(self) -> set[int]:
        assert self.child is not None
        return children(self.child.pid)

    def reload(self) -> None:
        """A graceful reload (HUP): new workers start, the old ones finish their requests.
        Returns once every old worker has gone and the new ones answer."""
        assert self.child is not None
        old = self.workers()
        os.kill(self.child.pid, signal.SIGHUP)
        wait_until(
            lambda: not any(alive(pid) for pid in old) and len(self.workers()) == WORKERS_PER_HOST,
            f"host {self.number}'s workers to be replaced",
        )
        self.wait_ready()

    def stop(self) -> None:
        """A graceful stop (TERM): requests in progress finish, then gunicorn exits."""
        if self.child is not None:
            end_process(self.child)


# --- nginx -----------------------------------------------------------------------------

MAIN_CONFIG = """\
daemon off;
user root;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log error;
events {{ worker_connections 512; }}
http {{
    access_log {dir}/nginx-access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/fueldash-site.conf;
}}
"""


@dataclass
class Nginx:
    """nginx on 127.0.0.1 with ``deploy/nginx.conf`` in front of the hosts."""

    workdir: Path
    hosts: list[AppHost]
    port: int = 0
    child: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def error_log(self) -> Path:
        return self.workdir / "nginx-error.log"

    def render(self, drained: frozenset[int] = frozenset()) -> None:
        """Write the site file; hosts numbered in ``drained`` are marked ``down``."""
        values = {"FUELDASH_LISTEN": f"127.0.0.1:{self.port}"}
        for host in self.hosts:
            down = " down" if host.number in drained else ""
            values[f"FUELDASH_APP_{host.number}"] = host.upstream + down
        site = string.Template(SITE_TEMPLATE.read_text()).safe_substitute(values)
        placeholders = [name for name in values if f"${{{name}}}" in SITE_TEMPLATE.read_text()]
        assert sorted(placeholders) == sorted(values), "deploy/nginx.conf's placeholders changed"
        (self.workdir / "fueldash-site.conf").write_text(site)

    def command(self, *args: str) -> list[str]:
        config = self.workdir / "nginx.conf"
        return ["nginx", "-e", str(self.error_log), "-p", f"{self.workdir}/", "-c", str(config)]

    @contextmanager
    def running(self) -> Iterator["Nginx"]:
        self.port = free_port("127.0.0.1")
        (self.workdir / "nginx.conf").write_text(MAIN_CONFIG.format(dir=self.workdir))
        self.render()
        run(*self.command(), "-t", "-q")
        with process(self.command(), self.workdir / "nginx.log") as child:
            self.child = child
            wait_until(lambda: accepts("127.0.0.1", self.port), "nginx to listen", 20)
            yield self

    def drain(self, number: int) -> None:
        """Mark host ``number`` down, so new requests go to the others."""
        self.reload(frozenset([number]))

    def restore(self) -> None:
        """Every host back in."""
        self.reload(frozenset())

    def reload(self, drained: frozenset[int]) -> None:
        """Rewrite the site file and reload nginx gracefully (SIGHUP, as `nginx -s reload`);
        returns once the old workers have finished."""
        assert self.child is not None
        master = self.child.pid
        self.render(drained)
        old = children(master)
        os.kill(master, signal.SIGHUP)
        wait_until(
            lambda: not any(alive(pid) for pid in old) and bool(children(master)),
            "nginx to reload",
            30,
        )


# --- the whole cluster -----------------------------------------------------------------


@dataclass
class Cluster:
    hosts: list[AppHost]
    nginx: Nginx
    database_url: str
    #: DATABASE_URL as seen from inside a host's namespace (through the forwarder).
    host_database_url: Callable[[str], str]
    workdir: Path
    token: str


def clear_redis() -> None:
    """Delete the cluster's figure cache and login counts from Redis."""
    client = redis.Redis.from_url(REDIS_URL)
    for pattern in (f"{CACHE_KEY_PREFIX}*", THROTTLE_KEYS):
        for key in client.scan_iter(match=pattern, count=500):
            client.delete(key)
    client.close()


def recreate_database(url: str) -> None:
    """Drop ``url``'s database if it exists and create it empty."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def host_environment(database_url: str, redis_url: str, number: int) -> dict[str, str]:
    """What an operator sets on each host: one SECRET_KEY, DATABASE_URL and REDIS_URL."""
    return {
        **os.environ,
        "FUELDASH_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": CACHE_KEY_PREFIX,
        "TRUSTED_PROXIES": "1",  # nginx, and only nginx, is in front
        "SESSION_COOKIE_SECURE": "0",  # this nginx speaks plain HTTP
        "HOST": host_address(number),
        "PORT": str(APP_PORT),
        "WEB_CONCURRENCY": str(WORKERS_PER_HOST),
    }


@contextmanager
def cluster(
    workdir: Path, database_url: str, prepare: Callable[[str], str], hosts: int = 2
) -> Iterator[Cluster]:
    """Build the cluster on an empty ``database_url``; ``prepare(url)`` migrates and fills
    the store and returns an API token. Everything is undone on the way out."""
    require_tools()
    with ExitStack() as stack:
        recreate_database(database_url)
        clear_redis()
        stack.callback(clear_redis)
        token = prepare(database_url)
        stack.enter_context(network(hosts))
        pg_port = stack.enter_context(
            forward(make_url(database_url).port or 5432, workdir / "socat-pg.log")
        )
        redis_port = stack.enter_context(forward(6379, workdir / "socat-redis.log"))

        def inside(url: str) -> str:
            return make_url(url).set(host=GATEWAY, port=pg_port).render_as_string(False)

        secret = secrets.token_hex(32)
        app_hosts = []
        for number in range(1, hosts + 1):
            env = host_environment(
                inside(database_url), f"redis://{GATEWAY}:{redis_port}/5", number
            )
            env["SECRET_KEY"] = secret
            app_hosts.append(AppHost(number, env, workdir / f"host{number}.log"))
        for host in app_hosts:
            stack.callback(host.stop)
            host.start()
        for host in app_hosts:
            host.wait_ready()
        nginx = stack.enter_context(Nginx(workdir, app_hosts).running())
        yield Cluster(app_hosts, nginx, database_url, inside, workdir, token)
