"""The reference deployment of ``docs/deploy.md``, run as an operator would and under load.

Real processes, started with the commands and variables the document gives: a PostgreSQL
primary (commits acknowledged once written, as in production) with a streaming replica
(``pg_basebackup -R``), both behind Debian's pgbouncer in transaction pooling mode (``jit`` off
on the role, the servers' statement timeout on their pgbouncer databases); Redis; ``gateway
migrate``; ``gateway ingest`` of the catalog; ``gateway worker``; two ``gateway serve``
processes (one with two workers), with tokens from an identity provider's key set that rotates
its key, and traces exported over OTLP/HTTP to a receiver. Ingest and query clients run against
both servers while

1. the replica is killed (no request may fail: reads go to the primary),
2. the identity provider rotates its signing key (no request may fail),
3. the primary crashes and restarts (a request may fail only as the contract allows: 503 or a
   field's ``SERVICE_UNAVAILABLE`` while it is down; ingest clients send the same body again).

Then: every event acknowledged is stored exactly once and counted exactly once by the metrics;
one scrape of each process's ``/metrics`` covers it (the two-worker server's counts are the sum
of its workers'); the receiver holds both servers' spans, SQL statements through pgbouncer and a
caller's ``traceparent``; SIGTERM stops every process with status 0.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis
from cryptography.hazmat.primitives.asymmetric import rsa
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REDIS_URL
from tests.jwks_provider import Provider, jwks_endpoint, public_jwk, sign
from tests.otlp_collector import ReceivedSpan, otlp_collector
from tests.pgbouncer_server import pgbouncer
from tests.postgres_server import PostgresServer, ReplicaServer
from tests.redis_server import _free_port
from tests.store.ingest_support import deployment, launch, line, mini_program, target_app, workspace
from tests.test_cli_serve import GATEWAY, Running

PGBOUNCER = {"query_wait_timeout": "3", "server_login_retry": "1"}
"""docs/deploy.md's pgbouncer settings for a database that restarts: a request waiting for a
server connection that cannot be made ends in 3 s (not 120 s), and a server back is tried
again within 1 s (not 15 s)."""
DAY = '{from: "2024-05-01", to: "2024-05-01"}'
TRACE_ID = secrets.token_hex(16)
PARENT_ID = secrets.token_hex(8)
CHUNK = 10
"""Events per ingest request."""


def _document(n: int) -> str:
    """A document no one asked before (a new alias): the catalog and a metric, uncached."""
    return f'{{ w{n}: workspace(id: "ws1") {{ name launches(timeRange: {DAY}) {{ value }} }} }}'


@dataclass
class Identity:
    """The identity provider: its published key set and the key it signs with now."""

    provider: Provider
    kid: str = "k1"
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)

    def publish(self, kid: str) -> None:
        """Add a new key to the published set (providers publish before they sign)."""
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.provider.keys = [public_jwk(k, key) for k, key in self.keys.items()]

    def token(self, subject: str, role: str) -> str:
        """A token of ``subject`` with ``role``, signed with the current key."""
        claims = {
            "sub": subject,
            "grants": [{"role": role}],
            "exp": datetime.now(UTC) + timedelta(minutes=10),
        }
        return sign(self.kid, self.keys[self.kid], claims)


@dataclass
class Outcome:
    """One request the clients sent."""

    server: str
    path: str
    at: float
    status: int
    codes: tuple[str, ...]


@dataclass
class Load:
    """What the clients sent and were answered."""

    outcomes: list[Outcome] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    resent: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    marks: list[tuple[float, str]] = field(default_factory=list)

    def mark(self, what: str) -> float:
        """Note when a phase began (failures are reported against these)."""
        now = time.monotonic()
        self.marks.append((now, what))
        return now

    def report(self, outcomes: list[Outcome]) -> str:
        """``outcomes`` with the phase each was sent in."""
        lines = []
        for o in sorted(outcomes, key=lambda o: o.status != 0)[:10]:  # lost requests first
            phase = next((w for t, w in reversed(self.marks) if t <= o.at), "before")
            since = o.at - next((t for t, w in reversed(self.marks) if t <= o.at), o.at)
            lines.append(f"{phase} +{since:.1f}s {o.server}{o.path} {o.status} {o.codes}")
        return "\n".join(lines)

    def summary(self) -> str:
        """Requests per phase: how many, how many failed, and the longest failing stretch."""
        lines = [f"{len(self.outcomes)} requests, {len(self.acknowledged)} events acknowledged, "
                 f"{self.resent} ingest bodies sent again"]  # fmt: skip
        bounds = [*self.marks, (float("inf"), "end")]
        for (start, phase), (end, _) in itertools.pairwise(bounds):
            sent = [o for o in self.outcomes if start <= o.at < end]
            failed = [o.at for o in sent if o.status != 200 or o.codes]
            stretch = (
                f", failing from +{failed[0] - start:.1f}s to +{failed[-1] - start:.1f}s"
                if failed
                else ""
            )
            lines.append(f"{phase}: {len(sent)} requests, {len(failed)} failed{stretch}")
        return "\n".join(lines)

    def failed(self, since: float = 0.0, until: float = float("inf")) -> list[Outcome]:
        """Requests answered anything but a complete success between ``since`` and
        ``until``."""
        return [o for o in self.outcomes if since <= o.at < until and (o.status != 200 or o.codes)]


def _codes(body: Any) -> tuple[str, ...]:
    if not isinstance(body, dict):
        return ("NOT_JSON",)
    if isinstance(body.get("error"), dict):  # /v1/events' errors
        return (str(body["error"].get("code")),)
    return tuple(e.get("extensions", {}).get("code", "?") for e in body.get("errors") or ())


async def _post(
    http: httpx.AsyncClient, load: Load, server: str, path: str, **kwargs: Any
) -> httpx.Response:
    started = time.monotonic()
    try:
        response = await http.post(f"{server}{path}", **kwargs)
    except httpx.TransportError as exc:  # a failure too: recorded, with when it was sent
        load.outcomes.append(Outcome(server, path, started, 0, (type(exc).__name__,)))
        raise
    try:
        body = response.json()
    except ValueError:
        body = None
    load.outcomes.append(Outcome(server, path, started, response.status_code, _codes(body)))
    return response


async def _ingest_client(servers: list[str], identity: Identity, load: Load, client: int) -> None:
    """Sends chunks of new launches (ids of their own), alternating servers; a 503 chunk is
    sent again (the same body: events are idempotent on ``id``), to the other server, until it
    is acknowledged."""
    ids = itertools.count()
    turns = itertools.count()
    async with httpx.AsyncClient(timeout=30) as http:
        while not load.stop.is_set():
            numbers = [next(ids) for _ in range(CHUNK)]
            chunk = [f"ev-{client}-{n}" for n in numbers]
            guids = [f"u{n % 50}" for n in numbers]
            body = b"".join(line(launch(e, guid=g)) for e, g in zip(chunk, guids, strict=True))
            while True:
                headers = {"Authorization": f"Bearer {identity.token('ingest-bot', 'INGESTER')}"}
                server = servers[next(turns) % len(servers)]
                response = await _post(
                    http, load, server, "/v1/events", content=body, headers=headers
                )
                if response.status_code == 200:
                    load.acknowledged.update(chunk)
                    break
                if response.status_code != 503:
                    return  # counted as a failure; the assertions show it
                load.resent += 1
                await asyncio.sleep(0.2)


async def _query_client(servers: list[str], identity: Identity, load: Load, client: int) -> None:
    """Asks new documents (aliases of their own), alternating servers."""
    async with httpx.AsyncClient(timeout=30) as http:
        for turn in itertools.count():
            if load.stop.is_set():
                return
            n = turn * 100 + client  # a new alias: no cache holds the answer
            headers = {"Authorization": f"Bearer {identity.token('ops', 'PLATFORM_ADMIN')}"}
            server = servers[turn % len(servers)]
            await _post(
                http, load, server, "/graphql", json={"query": _document(n)}, headers=headers
            )
            await asyncio.sleep(0.02)


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """One Prometheus scrape: every sample by name and labels."""
    text = httpx.get(url, timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _total(
    scrape: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(
        value
        for (sample, pairs), value in scrape.items()
        if sample == name and set(labels.items()) <= set(pairs)
    )


@pytest.fixture
def cluster() -> Iterator[tuple[PostgresServer, ReplicaServer]]:
    """A primary acknowledging commits once written, with a ``gateway`` role and database
    set up as docs/deploy.md says for pgbouncer, and a streaming replica of it."""
    primary = PostgresServer(
        Path(tempfile.mkdtemp(prefix="gateway-primary-")), _free_port(), synchronous_commit=True
    )
    replica = ReplicaServer(Path(tempfile.mkdtemp(prefix="gateway-replica-")), _free_port())
    try:
        primary.init()
        primary.start()

        async def prepare() -> None:
            conn = await asyncpg.connect(primary.url)
            try:
                await conn.execute("CREATE ROLE gateway LOGIN")
                await conn.execute("ALTER ROLE gateway SET jit = off")
                await conn.execute("CREATE DATABASE gateway OWNER gateway")
            finally:
                await conn.close()

        asyncio.run(prepare())
        replica.clone(primary)
        replica.start()
        yield primary, replica
    finally:
        for server in (replica, primary):
            if server.running:
                server.stop()
            shutil.rmtree(server.directory, ignore_errors=True)


async def _statement_timeout(port: int, database: str) -> str:
    """``statement_timeout`` of a server connection of pgbouncer's ``database``."""
    conn = await asyncpg.connect(
        f"postgresql://gateway@127.0.0.1:{port}/{database}", statement_cache_size=0
    )
    try:
        return str(await conn.fetchval("SHOW statement_timeout"))
    finally:
        await conn.close()


def _keep_logs(directory: Path, processes: list[Running]) -> None:
    """Each process's output in ``directory`` (pytest keeps it: a failure's diagnosis)."""
    for n, running in enumerate(processes):
        (directory / f"process-{n}.log").write_text(running.output)


def _run(args: list[str], env: dict[str, str]) -> str:
    """A ``gateway`` command that must exit 0: its output."""
    done = subprocess.run(
        [str(GATEWAY), *args],
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _base_env() -> dict[str, str]:
    return {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}


async def test_the_deployment_survives_a_replica_kill_a_key_rotation_and_a_primary_restart(
    cluster: tuple[PostgresServer, ReplicaServer], tmp_path: Path
) -> None:
    primary, replica = cluster
    redis.Redis.from_url(REDIS_URL).flushdb()
    # docs/deploy.md's pgbouncer.ini: the servers' aliases bound every statement (the gateway
    # cannot send statement_timeout through pgbouncer); the worker's and the tools' do not.
    bounded = "connect_query='SET statement_timeout = 5000'"
    routes = {
        "gateway": f"host=127.0.0.1 port={primary.port} dbname=gateway {bounded}",
        "gateway_replica": f"host=127.0.0.1 port={replica.port} dbname=gateway {bounded}",
        "gateway_worker": f"host=127.0.0.1 port={primary.port} dbname=gateway",
    }
    with (
        pgbouncer(routes, pool_size=6, settings=PGBOUNCER) as bouncer,
        jwks_endpoint() as provider,
        otlp_collector() as collector,
    ):
        shared = {  # docs/deploy.md section 2, "Every process"
            "GATEWAY_DATABASE_URL": f"postgresql://gateway@127.0.0.1:{bouncer}/gateway_worker",
            "GATEWAY_DATABASE_PGBOUNCER": "true",
            "GATEWAY_REDIS_URL": REDIS_URL,
            "GATEWAY_REFRESH_INTERVAL_SECONDS": "2",
            "GATEWAY_LOG_FORMAT": "json",
            "GATEWAY_LOG_LEVEL": "info",
            "GATEWAY_DB_CONNECT_TIMEOUT_SECONDS": "2",
        }
        assert await _statement_timeout(bouncer, "gateway") == "5s"  # the servers' databases
        assert await _statement_timeout(bouncer, "gateway_worker") == "0"  # VACUUM unbounded
        # First start (section 4): migrate, then the worker, then the servers.
        _run(["migrate"], shared)
        worker_port = _free_port()
        worker = Running(["worker"], env={**shared, "GATEWAY_WORKER_PORT": str(worker_port)})
        servers: list[Running] = []
        try:
            worker.wait_until(f"http://127.0.0.1:{worker_port}/healthz")
            catalog = tmp_path / "catalog.jsonl"
            catalog.write_bytes(
                b"".join(map(line, [workspace(), target_app(), mini_program(), deployment()]))
            )
            _run(["ingest", str(catalog)], shared)
            identity = Identity(provider)
            identity.publish("k1")
            ports = [_free_port(), _free_port()]
            for name, port, workers in (("a", ports[0], "2"), ("b", ports[1], "1")):
                env = {
                    **shared,
                    "GATEWAY_DATABASE_URL": f"postgresql://gateway@127.0.0.1:{bouncer}/gateway",
                    "GATEWAY_PORT": str(port),
                    "GATEWAY_DATABASE_REPLICA_URLS": f"postgresql://gateway@127.0.0.1:{bouncer}/gateway_replica",
                    "GATEWAY_DATABASE_REPLICA_DOWN_SECONDS": "2",
                    "GATEWAY_JWT_JWKS_URL": provider.url,
                    "GATEWAY_JWT_JWKS_MIN_REFRESH_SECONDS": "1",
                    "GATEWAY_CURSOR_SECRET": "c" * 40,
                    "GATEWAY_CACHE_POLL_SECONDS": "0.5",
                    "GATEWAY_RATE_LIMIT_PER_SECOND": "1000",
                    "GATEWAY_RATE_LIMIT_BURST": "2000",
                    "GATEWAY_OTEL_ENABLED": "true",
                    "OTEL_SERVICE_NAME": f"gateway-{name}",
                    "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
                    "OTEL_BSP_SCHEDULE_DELAY": "200",
                    "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{name}"),
                }
                servers.append(Running(["serve", "--workers", workers], env=env))
            for running, port in zip(servers, ports, strict=True):
                running.wait_until(f"http://127.0.0.1:{port}/readyz")
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            await _exercise(urls, identity, primary, replica, worker_port, bouncer)
            for running in servers:
                assert running.stop(signal.SIGTERM) == 0, running.output
            spans = collector.received()
        finally:
            for running in servers:
                running.stop(signal.SIGTERM)
            worker_status = worker.stop(signal.SIGTERM)
            _keep_logs(tmp_path, [worker, *servers])
        assert worker_status == 0, worker.output
        _check_traces(spans, bouncer)
        logged = [json.loads(text) for text in worker.lines if text.startswith("{")]
        assert any("snapshot" in entry for entry in logged), worker.output[-2000:]


async def _exercise(
    urls: list[str],
    identity: Identity,
    primary: PostgresServer,
    replica: ReplicaServer,
    worker_port: int,
    bouncer: int,
) -> None:
    load = Load()
    clients = asyncio.gather(
        *(_ingest_client(urls[::step], identity, load, n) for n, step in enumerate((1, -1))),
        *(_query_client(urls[::step], identity, load, n) for n, step in enumerate((1, -1, 1, -1))),
    )
    replica_name = f"127.0.0.1:{bouncer}/gateway_replica"
    try:
        load.mark("start")
        await asyncio.sleep(4)
        on_replica = sum(
            _total(
                _scrape(f"{url}/metrics"),
                "gateway_db_read_transactions_total",
                database=replica_name,
            )
            for url in urls
        )
        assert on_replica > 0, "the replica served no read"

        # 1. The replica is killed: reads move to the primary, no request fails.
        load.mark("replica killed")
        await asyncio.to_thread(replica.crash)
        await asyncio.sleep(4)
        # 2. The identity provider rotates its key: published first, then signing with it.
        load.mark("k2 published")
        identity.publish("k2")
        await asyncio.sleep(1.5)  # past GATEWAY_JWT_JWKS_MIN_REFRESH_SECONDS
        load.mark("k2 signs")
        identity.kid = "k2"
        await asyncio.sleep(3)
        before_restart = time.monotonic()
        assert load.failed() == [], load.report(load.failed())

        # 3. The primary crashes and restarts.
        load.mark("primary crash")
        await asyncio.to_thread(primary.crash)
        await asyncio.sleep(1)
        await asyncio.to_thread(primary.start)
        restarted = load.mark("primary started")
        await asyncio.sleep(8)
    finally:
        load.stop.set()
        (ended,) = await asyncio.gather(clients, return_exceptions=True)
    print(load.summary())  # pytest -s shows what the faults cost (docs/deploy.md quotes it)
    lost = [o for o in load.outcomes if o.status == 0]
    assert not isinstance(ended, BaseException), (repr(ended), load.report(lost))
    # While the primary was down (and the few seconds the pools take to reconnect) a request may
    # fail only as the contract allows; before and after, none may.
    allowed_until = restarted + 5
    during = load.failed(before_restart, allowed_until)
    assert all(_allowed(o) for o in during), load.report([o for o in during if not _allowed(o)])
    assert load.failed(allowed_until) == [], load.report(load.failed(allowed_until))
    assert load.acknowledged, "no event was acknowledged"
    stored = await _check_events(urls, identity, load, primary)
    # A caller's trace context: each server's span of it joins the caller's trace.
    headers = {
        "Authorization": f"Bearer {identity.token('ops', 'PLATFORM_ADMIN')}",
        "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01",
    }
    async with httpx.AsyncClient(timeout=30) as http:
        for n, url in enumerate(urls):
            ask = {"query": _document(2 * 10**6 + n)}
            assert (
                await _post(http, load, url, "/graphql", json=ask, headers=headers)
            ).status_code == 200
    _check_metrics(urls, load, worker_port, replica_name, stored)


def _allowed(outcome: Outcome) -> bool:
    """What the contract allows while the database is down (README, "Faults"): 503 with
    ``SERVICE_UNAVAILABLE``, or a field answering ``SERVICE_UNAVAILABLE``."""
    return outcome.status in (200, 503) and set(outcome.codes) == {"SERVICE_UNAVAILABLE"}


async def _check_events(
    urls: list[str], identity: Identity, load: Load, primary: PostgresServer
) -> int:
    """Every acknowledged event is stored once, and the metric counts each once: how many
    events are stored."""
    conn = await asyncpg.connect(primary.url.rsplit("/", 1)[0] + "/gateway")
    try:
        stored = {row["id"] for row in await conn.fetch("SELECT id FROM launches")}
    finally:
        await conn.close()
    assert load.acknowledged <= stored, sorted(load.acknowledged - stored)[:5]
    headers = {"Authorization": f"Bearer {identity.token('ops', 'PLATFORM_ADMIN')}"}
    values = []
    async with httpx.AsyncClient(timeout=30) as http:
        for n in range(100):  # until the worker's snapshot folded every event in
            ask = {"query": _document(10**6 + n)}
            answer = await _post(http, load, urls[n % 2], "/graphql", json=ask, headers=headers)
            body = answer.json()
            assert "errors" not in body, body
            values.append(body["data"][f"w{10**6 + n}"]["launches"]["value"])
            if values[-1] == len(stored):
                break
            await asyncio.sleep(0.3)
    assert values[-1] == len(stored), values[-5:]
    return len(stored)


def _check_metrics(
    urls: list[str], load: Load, worker_port: int, replica_name: str, stored: int
) -> None:
    """One scrape of each process covers it: the requests each server answered (the
    two-worker server's summed over its workers), the replica's skips, the worker's intake."""
    for url in urls:
        scrape = _scrape(f"{url}/metrics")
        sent = Counter(o.path for o in load.outcomes if o.server == url)
        for path in ("/graphql", "/v1/events"):
            counted = _total(scrape, "gateway_http_requests_total", path=path)
            assert counted == sent[path], (
                url,
                path,
                counted,
                sent[path],
                [k for k in scrape if "http_requests" in k[0]][:6],
            )
        assert (
            _total(scrape, "gateway_db_replica_skipped_total", replica=replica_name, reason="down")
            > 0
        )
    worker = _scrape(f"http://127.0.0.1:{worker_port}/metrics")
    assert _total(worker, "gateway_worker_refreshes_total", outcome="ok") >= 2
    # Every record the servers stored, and the catalog (ingested after the worker started).
    ingested = _total(worker, "gateway_worker_ingested_records_total", outcome="stored")
    assert ingested == stored + 4


def _check_traces(spans: list[ReceivedSpan], bouncer: int) -> None:
    """Both servers' spans reached the receiver: requests with their operation, SQL through
    pgbouncer."""
    services = {span.service for span in spans}
    assert {"gateway-a", "gateway-b"} <= services, services
    for service in ("gateway-a", "gateway-b"):
        mine = [s for s in spans if s.service == service]
        assert any(s.name == "POST /graphql" for s in mine), {s.name for s in mine}
        sql = [s for s in mine if s.scope == "opentelemetry.instrumentation.sqlalchemy"]
        assert sql, f"{service}: no SQL span"
        assert {s.attributes.get("net.peer.port") for s in sql} == {bouncer}
        joined = [s for s in mine if s.trace_id == TRACE_ID and s.parent_span_id == PARENT_ID]
        assert [s.name for s in joined] == ["POST /graphql"], service
