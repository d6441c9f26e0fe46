"""Two app hosts behind nginx, sharing PostgreSQL and Redis (tests/cluster/cluster.py):
sign-in, writes, ETags and figures agree across hosts, the login throttle tells clients
apart behind the proxy, migrations can start on both hosts at once, and a rolling restart
under a stream of reads fails no request."""

import itertools
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from dashapp.figures import GRAPH_ID
from tests.cluster.cluster import BIN, REPO, AppHost, Cluster, drop_database, recreate_database
from tests.cluster.web import Browser
from tests.conftest import CSRF_FIELD, TEST_PASSWORD
from tests.dashapp.helpers import UPDATE_URL, callback_payload, point_count

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(170)]

ADMIN_PAGE = "/admin/vehicles"


def signed_in(browser: Browser, base: str) -> bool:
    """Whether ``browser``'s cookies open the admin pages at ``base`` (else: to /login)."""
    reply = browser.get(f"{base}{ADMIN_PAGE}")
    if reply.status == 302:
        assert reply.headers["Location"].startswith("/login"), reply.headers["Location"]
        return False
    assert reply.status == 200, (base, reply.status, reply.text[:300])
    return True


def test_a_sign_in_on_one_host_is_honoured_by_the_other(the_cluster: Cluster) -> None:
    first, second = the_cluster.hosts
    proxy = the_cluster.nginx.url

    person = Browser()
    assert person.login(first.url, "admin", TEST_PASSWORD).status == 302
    assert signed_in(person, second.url)
    assert not signed_in(Browser(), second.url)

    # Through nginx, requests alternate between the hosts; every one is signed in.
    visitor = Browser()
    assert visitor.login(proxy, "admin", TEST_PASSWORD).status == 302
    assert [signed_in(visitor, proxy) for _ in range(4)] == [True] * 4
    assert [signed_in(visitor, host.url) for host in the_cluster.hosts] == [True, True]

    # Signing out on one host ends the session on the other too.
    copy = Browser(cookies=dict(visitor.cookies))
    found = CSRF_FIELD.search(visitor.get(f"{second.url}/").text)
    assert found, "no sign-out form on / when signed in"
    assert visitor.post_form(f"{second.url}/logout", {"csrf_token": found.group(1)}).status == 302
    assert not signed_in(copy, first.url)


def figure_points(host: AppHost, manufacturer: str) -> int:
    """How many points the dashboard's main figure draws for ``manufacturer`` on ``host``."""
    reply = Browser().post_json(f"{host.url}{UPDATE_URL}", callback_payload([manufacturer]))
    assert reply.status == 200, reply.text[:500]
    return point_count(reply.json()["response"][GRAPH_ID]["figure"])


def test_a_write_on_one_host_is_seen_on_the_other_at_once(the_cluster: Cluster) -> None:
    first, second = the_cluster.hosts
    bearer = {"Authorization": f"Bearer {the_cluster.token}"}
    listing = "/api/v1/vehicles?manufacturer=Toyota&limit=5"

    before = {host.number: Browser().get(f"{host.url}{listing}") for host in the_cluster.hosts}
    etag = before[1].headers["ETag"]
    assert before[2].headers["ETag"] == etag
    assert before[1].json()["total"] == before[2].json()["total"] == 26
    assert Browser().get(f"{second.url}{listing}", headers={"If-None-Match": etag}).status == 304
    points = figure_points(second, "Toyota")  # now in the shared figure cache
    assert points == figure_points(first, "Toyota") > 0

    new = {
        "manufacturer": "Toyota",
        "model": "cluster corolla",
        "year": 1975,
        "horsepower": 95,
        "combined_mpg": 29.5,
        "origin": "Japan",
    }
    created = Browser().post_json(f"{first.url}/api/v1/vehicles", new, bearer)
    assert created.status == 201, created.text
    vehicle = created.json()

    # The other host sees it on its very next request: the vehicle, the ETag, the figure.
    assert Browser().get(f"{second.url}/api/v1/vehicles/{vehicle['id']}").json() == vehicle
    after = Browser().get(f"{second.url}{listing}", headers={"If-None-Match": etag})
    assert after.status == 200
    assert after.json()["total"] == 27
    assert after.headers["ETag"] != etag
    assert Browser().get(f"{first.url}{listing}").headers["ETag"] == after.headers["ETag"]
    assert figure_points(second, "Toyota") == points + 1

    # And back: a delete on the second host is seen on the first.
    deleted = Browser().request(
        "DELETE", f"{second.url}/api/v1/vehicles/{vehicle['id']}", headers=bearer
    )
    assert deleted.status == 204, deleted.text
    assert Browser().get(f"{first.url}/api/v1/vehicles/{vehicle['id']}").status == 404
    assert figure_points(first, "Toyota") == points


def test_writes_through_nginx_reach_the_app_with_their_body(the_cluster: Cluster) -> None:
    """POSTs take nginx's no-retry route (deploy/nginx.conf's @write); the body gets through."""
    proxy = the_cluster.nginx.url
    bearer = {"Authorization": f"Bearer {the_cluster.token}"}
    new = {"manufacturer": "Toyota", "model": "via nginx", "year": 1976, "combined_mpg": 30}
    created = Browser().post_json(f"{proxy}/api/v1/vehicles", new, bearer)
    assert created.status == 201, created.text
    assert created.json()["model"] == "via nginx"
    vehicle_url = f"{proxy}/api/v1/vehicles/{created.json()['id']}"
    assert Browser().request("DELETE", vehicle_url, headers=bearer).status == 204
    assert Browser().get(vehicle_url).status == 404


def test_links_name_the_public_address_behind_nginx(the_cluster: Cluster) -> None:
    """The API's `next` link is built from nginx's scheme and host, which a client cannot
    override by sending X-Forwarded-* itself (nginx sets them)."""
    proxy = the_cluster.nginx.url
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    for headers in ({}, forged):
        page = Browser().get(f"{proxy}/api/v1/vehicles?limit=1", headers=headers).json()
        assert page["next"].startswith(f"{proxy}/api/v1/vehicles?limit=1&cursor="), page["next"]


def test_the_login_throttle_counts_each_client_behind_the_proxy(the_cluster: Cluster) -> None:
    """Five failures (LOGIN_RATE_LIMIT's default) spread over both hosts lock out that
    client only; a forged X-Forwarded-For does not get it a fresh count."""
    proxy = the_cluster.nginx.url
    attacker, bystander = Browser(source="127.0.0.2"), Browser(source="127.0.0.3")

    failures = [attacker.login(proxy, "admin", "wrong").status for _ in range(6)]
    assert failures == [200, 200, 200, 200, 200, 429]
    forged = {"X-Forwarded-For": "203.0.113.7"}
    assert attacker.login(proxy, "admin", TEST_PASSWORD, headers=forged).status == 429

    assert bystander.login(proxy, "admin", "wrong").status == 200
    assert bystander.login(proxy, "admin", TEST_PASSWORD).status == 302


# --- migrations ------------------------------------------------------------------------


@contextmanager
def scratch_database(the_cluster: Cluster) -> Iterator[str]:
    """An empty database beside the cluster's, dropped afterwards; yields its URL."""
    from sqlalchemy import make_url

    url = make_url(the_cluster.database_url)
    scratch = url.set(database=f"{url.database}_upgrade").render_as_string(False)
    recreate_database(scratch)
    try:
        yield scratch
    finally:
        drop_database(scratch)


def head_revision() -> tuple[str, str]:
    """The newest migration and the one before it."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(REPO / "migrations"))
    head = scripts.get_current_head()
    assert head is not None, "the migrations have more than one head"
    revision = scripts.get_revision(head)
    assert revision is not None and isinstance(revision.down_revision, str)
    return head, revision.down_revision


def upgrade_to(database_url: str, revision: str) -> None:
    from flask_migrate import upgrade

    from models.db import db
    from server import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "cluster-setup"})
    with app.app_context():
        upgrade(revision=revision)
        db.engine.dispose()


def flask_on(host: AppHost, database_url: str, *args: str) -> subprocess.Popen[str]:
    env = {**host.env, "DATABASE_URL": database_url}
    flask = str(BIN / "flask")
    return subprocess.Popen(
        host.command(flask, "--app", "wsgi", *args),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("start", ["empty", "one revision pending"])
def test_both_hosts_upgrade_the_database_at_once(the_cluster: Cluster, start: str) -> None:
    head, previous = head_revision()
    with scratch_database(the_cluster) as scratch:
        inside = the_cluster.host_database_url(scratch)
        if start != "empty":
            upgrade_to(scratch, previous)
        runs = [flask_on(host, inside, "db", "upgrade") for host in the_cluster.hosts]
        outcomes = [(run.wait(150), run.communicate()[0]) for run in runs]
        assert [code for code, _ in outcomes] == [0, 0], "\n---\n".join(o for _, o in outcomes)
        engine = create_engine(scratch)
        with engine.connect() as conn:
            assert conn.scalars(text("SELECT version_num FROM alembic_version")).all() == [head]
        engine.dispose()


# --- a rolling restart -----------------------------------------------------------------

READS = [
    "/",
    "/dash/",
    "/api/v1/vehicles?limit=5",
    "/api/v1/manufacturers",
    "/api/v1/stats?group_by=manufacturer",
]


class ReaderLoop(threading.Thread):
    """GETs through nginx one after another until stopped (or 150 s at most), each
    recorded with the phase of the restart it was sent in."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.phase = "before"
        self.sent: Counter[str] = Counter()
        self.failures: list[tuple[str, str, str]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + 150
        for path in itertools.cycle(READS):
            if self._halt.is_set() or time.monotonic() > deadline:
                return
            phase = self.phase
            try:
                reply = Browser().get(f"{self.base}{path}", timeout=60)
                outcome = "" if reply.status == 200 else f"{reply.status} {reply.text[:200]}"
            except OSError as error:
                outcome = repr(error)
            self.sent[phase] += 1
            if outcome:
                self.failures.append((phase, path, outcome))

    def stop(self) -> None:
        self._halt.set()
        self.join(60)


def test_a_rolling_restart_under_reads_fails_no_request(the_cluster: Cluster) -> None:
    first, second = the_cluster.hosts
    nginx = the_cluster.nginx
    refused_before = nginx.error_log.read_text().count("upstream")
    readers = [ReaderLoop(nginx.url) for _ in range(2)]
    for reader in readers:
        reader.start()

    def phase(name: str) -> None:
        for reader in readers:
            reader.phase = name

    try:
        phase("HUP host 1")  # a graceful reload, as after a deploy of new code
        first.reload()
        phase("HUP host 2")
        second.reload()
        phase("drain, stop, start host 2")  # the README's way to restart a host outright
        nginx.drain(second.number)
        second.stop()
        second.start()
        second.wait_ready()
        nginx.restore()
        phase("stop, start host 1 undrained")  # nginx retries its reads on host 2
        first.stop()
        first.start()
        first.wait_ready()
        phase("after")
        time.sleep(1)
    finally:
        for reader in readers:
            reader.stop()

    sent = sum((reader.sent for reader in readers), Counter())
    failures = [failure for reader in readers for failure in reader.failures]
    assert failures == [], f"failed reads (of {sum(sent.values())}): {failures[:10]}"
    assert all(sent[name] > 0 for name in ("HUP host 1", "HUP host 2")), sent
    assert sent["drain, stop, start host 2"] > 0 and sent["stop, start host 1 undrained"] > 0, sent
    # The undrained stop was real: nginx found host 1 closed and retried on host 2.
    assert nginx.error_log.read_text().count("upstream") > refused_before
