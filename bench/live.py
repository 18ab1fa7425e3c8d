"""Live subscriptions over WebSocket: a thousand subscribers of one document, pushed after each
snapshot by one server process.

On a working copy of the benchmark dataset (:mod:`bench.dataset`; ``gateway_live_<scale>``,
dropped at the end) and a flushed Redis DB (so the process hears the snapshot announcements of
:mod:`gateway.cache.announce`), against one gateway process (``uvicorn --factory
gateway.app:create_app`` as ``gateway serve`` runs it, :mod:`bench.loopback`):

1. one warm-up connection subscribes to the ``live`` document (:data:`DOCUMENT`: the snapshot id
   and five workspaces' active users over 7 days ending on the dataset's last day) and closes;
   the server's RSS is read (``/proc/<pid>/status``);
2. ``--connections`` (1,000) WebSocket clients, each with its own JWT subject and the same grant
   (PLATFORM_ADMIN), open ``graphql-transport-ws`` connections (the protocol of the npm
   ``graphql-ws`` client, permessage-deflate offered as browsers do unless
   ``--no-compression``) and subscribe to the same document; once every one has its first
   ``next`` and the server has been idle for ``--idle`` seconds the RSS is read again: the
   difference over the connections is the server memory an idle subscribed connection holds;
3. ``--snapshots`` (3) times: ``--events`` (100) recent events are ingested, the refresh is run
   here (:func:`~gateway.store.rollup.refresh.publish`: its snapshot is committed, and readers
   see it, when it returns; its :func:`~gateway.store.rollup.refresh.tidy` runs after the
   measurement) and the snapshot announced
   (:func:`~gateway.cache.announce.announce_snapshot`). Each client records when its push of
   the new snapshot arrives; the report gives p50 / p99 / max of (receive - commit), and from
   ``/metrics`` the evaluations the snapshot cost (``gateway_live_computations_total``, one
   for everyone) and the ``next`` messages sent;
4. ``--spread-connections`` (200) new clients subscribe to ``--documents`` (50) distinct
   evaluations (the same document with ``timeRange.days`` 1 to 50: distinct variables, distinct
   evaluations), as many subscribers each; one more snapshot: one evaluation per document.

The clients live in this process's event loop and time-stamp each message as ``recv`` returns
it (``time.monotonic``, the clock the commit is read with), so a push's latency includes the
client's own share of the 2 cores.

It prints a table of measured against target with PASS/FAIL (server memory per idle subscribed
connection <= 50 KiB, push p99 <= 1 s, one evaluation per snapshot for the thousand, one per
document for the spread). Exactness (every subscriber gets its first answer without errors,
then exactly one push per snapshot, holding that snapshot; evaluations per snapshot exactly one
per document; ``next`` messages sent exactly one per subscriber) fails the run (exit status 1).

Example:
    $ python -m bench live --scale small --connections 1000 --snapshots 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from bench import dataset as ds
from bench.cached_page import GATEWAY_SERVER, REFRESH_INTERVAL_SECONDS, flush, machine, verdict
from bench.loopback import Server, cpu_seconds, serve
from gateway.authz.tokens import mint_token
from gateway.cache.announce import announce_snapshot
from gateway.roles import Grant, Role
from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.ingest import ingest_lines
from gateway.store.rollup import Snapshot
from gateway.store.rollup.refresh import publish, tidy

TARGET_KIB_PER_CONNECTION = 50.0
TARGET_P99_SECONDS = 1.0
JWT_SECRET = "bench-live-subscriptions-jwt-secret-0123456789"
PROTOCOL = Subprotocol("graphql-transport-ws")
DOCUMENT = (
    "subscription Live($range: TimeRangeInput!) { live { snapshot { id } workspaces(first: 5) "
    "{ nodes { id activeUsers(timeRange: $range) { value } } } } }"
)
"""The document every subscriber sends (``snapshot { id }`` makes each snapshot's answer new)."""
HANDSHAKES = 64
"""Connections opened at once (the rest wait their turn)."""
WAIT_SECONDS = 120.0
"""Longest wait for first answers or for a snapshot's pushes before the run fails."""
SETTLE_SECONDS = 0.5
"""After a snapshot's last push: how long any extra push would have to arrive."""
COMPUTED, SHARED, PUSHED = (
    "gateway_live_computations_total",
    "gateway_live_shared_total",
    "gateway_live_pushes_total",
)
COUNTERS = (COMPUTED, SHARED, PUSHED)


class RunError(Exception):
    """An exactness check failed (the run exits with status 1)."""


# -- the clients ------------------------------------------------------------------------------


@dataclass(eq=False)
class Client:
    """One WebSocket connection holding one subscription, and what it received."""

    ws: ClientConnection
    pushes: list[tuple[int, float]] = field(default_factory=list)
    """(snapshot id, ``time.monotonic()`` at receipt) of every ``next``."""
    problems: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    async def read(self, crowd: Crowd) -> None:
        """Record every message until the connection closes (``ping`` answered ``pong``)."""
        try:
            async for raw in self.ws:
                now = time.monotonic()
                message = orjson.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    self.arrived(message["payload"], now, crowd)
                elif kind == "ping":
                    await self.ws.send('{"type":"pong"}')
                elif kind != "pong":
                    self.problems.append(f"unexpected message: {message}")
        except ConnectionClosed as closed:
            if not crowd.closing:
                self.problems.append(f"connection closed: {closed}")
        except Exception as exc:  # recorded, so that the run fails at once instead of waiting
            self.problems.append(f"reading failed: {exc!r}")

    def arrived(self, payload: dict[str, Any], now: float, crowd: Crowd) -> None:
        """A ``next``: its snapshot and time; it must hold no error and that snapshot's id."""
        snapshot = int(payload["extensions"]["snapshot"]["id"])
        self.pushes.append((snapshot, now))
        crowd.arrived[snapshot] += 1
        answered = ((payload.get("data") or {}).get("live") or {}).get("snapshot") or {}
        if payload.get("errors") or str(answered.get("id")) != str(snapshot):
            self.problems.append(f"next with errors or another snapshot: {payload}")

    def latency(self, snapshot: int, committed: float) -> float | None:
        """Seconds from ``committed`` to this client's push of ``snapshot`` (None: none yet)."""
        for seen, at in self.pushes:
            if seen == snapshot:
                return at - committed
        return None


@dataclass
class Crowd:
    """The clients of one phase and how many got a push of each snapshot."""

    url: str
    compression: bool
    clients: list[Client] = field(default_factory=list)
    arrived: Counter[int] = field(default_factory=Counter)
    closing: bool = False

    async def open(self, tokens: list[str], variables: list[dict[str, Any]]) -> float:
        """Open one subscribed connection per token (``variables[i]`` its subscription's) and
        wait for every first ``next``; returns the seconds it took."""
        started = time.monotonic()
        gate = asyncio.Semaphore(HANDSHAKES)
        opened = await asyncio.gather(
            *(self._subscribe(gate, t, v) for t, v in zip(tokens, variables, strict=True)),
            return_exceptions=True,
        )
        failures = [repr(o) for o in opened if isinstance(o, BaseException)]
        if failures:
            raise RunError(f"{len(failures)} connections failed to subscribe, e.g. {failures[0]}")
        await self.wait(lambda: all(c.pushes for c in self.clients), "first answers")
        return time.monotonic() - started

    async def _subscribe(
        self, gate: asyncio.Semaphore, token: str, variables: dict[str, Any]
    ) -> None:
        async with gate:
            ws = await connect(
                self.url,
                subprotocols=[PROTOCOL],
                compression="deflate" if self.compression else None,
                ping_interval=None,  # the server pings (graphql-transport-ws and WebSocket)
                open_timeout=WAIT_SECONDS,
                max_size=None,
            )
            client = Client(ws)
            self.clients.append(client)
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            await ws.send(orjson.dumps(init).decode())
            ack = orjson.loads(await asyncio.wait_for(ws.recv(), WAIT_SECONDS))
            if ack.get("type") != "connection_ack":
                raise RunError(f"connection_init answered {ack}")
            client.reader = asyncio.create_task(client.read(self))
            subscribe = {"id": "1", "type": "subscribe",
                         "payload": {"query": DOCUMENT, "variables": variables}}  # fmt: skip
            await ws.send(orjson.dumps(subscribe).decode())

    async def wait(self, done: Callable[[], bool], what: str) -> None:
        """Poll ``done`` until it holds (a client's problem or :data:`WAIT_SECONDS` fail)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not done():
            self.check()
            if time.monotonic() > deadline:
                raise RunError(f"gave up waiting for {what} after {WAIT_SECONDS:.0f} s")
            await asyncio.sleep(0.01)
        self.check()

    def check(self) -> None:
        """Fail on the first problem a client recorded."""
        for client in self.clients:
            if client.problems:
                raise RunError(f"a client: {client.problems[0]}")

    async def close(self) -> None:
        """Close every connection and stop the readers."""
        self.closing = True
        await asyncio.gather(*(c.ws.close() for c in self.clients), return_exceptions=True)
        for client in self.clients:
            if client.reader is not None:
                client.reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await client.reader


# -- the server ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gateway:
    """The running server and what the bench needs to talk to it."""

    server: Server
    settings: Settings
    """The bench's own settings: its JWT secret and Redis URL (minting, announcing)."""
    http: httpx.AsyncClient

    @property
    def ws_url(self) -> str:
        """The WebSocket URL of ``/graphql``."""
        return self.server.url.replace("http://", "ws://") + "/graphql"

    def rss_kib(self) -> int:
        """The server's resident set size, in KiB (``VmRSS`` of ``/proc/<pid>/status``)."""
        for line in Path(f"/proc/{self.server.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc/<pid>/status")

    async def metrics(self) -> dict[str, float]:
        """The ``gateway_live_*`` samples of ``/metrics`` without labels."""
        response = await self.http.get("/metrics")
        response.raise_for_status()
        found = {}
        for line in response.text.splitlines():
            if line.startswith("gateway_live_") and "{" not in line:
                name, value = line.rsplit(" ", 1)
                found[name] = float(value)
        return found

    async def idle(self, connections: int, seconds: float) -> None:
        """Wait until ``/metrics`` counts ``connections`` open, then ``seconds`` more."""
        deadline = time.monotonic() + WAIT_SECONDS
        while (await self.metrics()).get("gateway_live_connections", -1) != connections:
            if time.monotonic() > deadline:
                raise RunError(f"the server never counted {connections} live connections")
            await asyncio.sleep(0.05)
        await asyncio.sleep(seconds)


def server_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The gateway's ``GATEWAY_*`` environment."""
    return {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_REDIS_URL": redis_url,
        "GATEWAY_JWT_SECRET": JWT_SECRET,
        "GATEWAY_REFRESH_INTERVAL_SECONDS": str(REFRESH_INTERVAL_SECONDS),
        "GATEWAY_LOG_LEVEL": "warning",
        # A thousand subjects connecting at once: no per-caller limit in the way.
        "GATEWAY_RATE_LIMIT_PER_SECOND": "0",
        "GATEWAY_COST_BUDGET_PER_WINDOW": "0",
    }


def raise_open_files() -> tuple[int, int]:
    """Raise this process's soft RLIMIT_NOFILE to the hard limit (the server inherits it);
    returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        soft = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft, hard


# -- the measurements ---------------------------------------------------------------------------


@dataclass
class Round:
    """One snapshot's pushes."""

    label: str
    snapshot: int
    latencies: list[float]
    """Seconds from the commit to each subscriber's push."""
    computations: float
    shared: float
    pushes: float
    server_cpu: float
    """Seconds of server CPU from the commit to the last push."""
    publish_seconds: float

    def p(self, q: float) -> float:
        """The ``q``-th percentile latency in seconds."""
        return float(np.percentile(self.latencies, q))

    def line(self) -> str:
        """One line of the report."""
        return (f"  {self.label:<22} snapshot {self.snapshot:>4}: push after commit p50 "
                f"{self.p(50) * 1e3:7.1f} ms  p99 {self.p(99) * 1e3:7.1f} ms  max "
                f"{max(self.latencies) * 1e3:7.1f} ms  min {min(self.latencies) * 1e3:6.1f} ms; "
                f"{self.computations:.0f} evaluations, {self.shared:.0f} shared, "
                f"{self.pushes:,.0f} pushes; server CPU {self.server_cpu * 1e3:.0f} ms; "
                f"refresh {self.publish_seconds:.2f} s")  # fmt: skip


@dataclass(frozen=True)
class Store:
    """The working copy and how a snapshot is made in it."""

    url: str
    end_date: dt.date
    events: int


async def snapshot_round(
    label: str, gateway: Gateway, store: Store, crowd: Crowd, documents: int
) -> Round:
    """Ingest, refresh, announce; wait for every subscriber's push; check the counts."""
    engine = create_engine(Settings(database_url=store.url))
    try:
        if store.events:
            lines = await ds.recent_event_lines(engine, store.end_date, store.events)
            await ingest_lines(engine, lines, source="bench:live")
        before = await gateway.metrics()
        cpu = cpu_seconds(gateway.server.pid)
        started = time.monotonic()
        info: Snapshot = await publish(engine)
        committed = time.monotonic()
        await announce_snapshot(gateway.settings, info.id)
        n = len(crowd.clients)
        await crowd.wait(lambda: crowd.arrived[info.id] >= n, f"the pushes of snapshot {info.id}")
        cpu = cpu_seconds(gateway.server.pid) - cpu
        await asyncio.sleep(SETTLE_SECONDS)
        after = await gateway.metrics()
        await tidy(engine, info)
    finally:
        await engine.dispose()
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    latencies = [c.latency(info.id, committed) for c in crowd.clients]
    found = Round(
        label, info.id, [x for x in latencies if x is not None],
        delta.get(COMPUTED, 0.0), delta.get(SHARED, 0.0), delta.get(PUSHED, 0.0),
        cpu, committed - started,
    )  # fmt: skip
    print(found.line(), flush=True)
    crowd.check()
    counts = Counter(sum(1 for s, _ in c.pushes if s == info.id) for c in crowd.clients)
    if counts != Counter({1: n}):
        raise RunError(f"pushes of snapshot {info.id} per subscriber: {dict(counts)} (want 1 each)")
    if found.computations != documents:
        raise RunError(f"{found.computations:.0f} evaluations for snapshot {info.id} ({documents} "
                     "distinct documents)")  # fmt: skip
    if found.pushes != n:
        raise RunError(f"{found.pushes:.0f} next messages sent for {n} subscribers")
    return found


@dataclass
class Figures:
    """What the report prints."""

    connections: int
    compression: bool
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    rss_closed_kib: int = 0
    open_seconds: float = 0.0
    open_cpu: float = 0.0
    rounds: list[Round] = field(default_factory=list)
    spread: list[Round] = field(default_factory=list)
    spread_connections: int = 0
    documents: int = 0

    @property
    def kib_per_connection(self) -> float:
        """Server RSS growth per idle subscribed connection, in KiB."""
        return (self.rss_after_kib - self.rss_before_kib) / self.connections


def tokens(settings: Settings, prefix: str, count: int) -> list[str]:
    """One PLATFORM_ADMIN token per subscriber, each its own subject."""
    grants = [Grant(Role.PLATFORM_ADMIN)]
    ttl = dt.timedelta(hours=2)
    return [mint_token(settings, f"{prefix}-{i}", grants, ttl) for i in range(count)]


def ranged(end_date: dt.date, days: int) -> dict[str, Any]:
    """The document's variables: ``days`` days ending ``end_date``."""
    return {"range": {"days": days, "endDate": end_date.isoformat()}}


async def run_phases(args: argparse.Namespace, gateway: Gateway, store: Store) -> Figures:
    """Warm-up, the thousand (memory, pushes), then the spread over distinct documents."""
    figures = Figures(args.connections, not args.no_compression)
    same = ranged(store.end_date, 7)
    warm = Crowd(gateway.ws_url, not args.no_compression)
    try:
        await warm.open(tokens(gateway.settings, "bench-live-warm", 1), [same])
    finally:
        await warm.close()
    await gateway.idle(0, args.idle)
    figures.rss_before_kib = gateway.rss_kib()

    crowd = Crowd(gateway.ws_url, not args.no_compression)
    try:
        minted = tokens(gateway.settings, "bench-live", args.connections)
        before, cpu = await gateway.metrics(), cpu_seconds(gateway.server.pid)
        figures.open_seconds = await crowd.open(minted, [same] * args.connections)
        figures.open_cpu = cpu_seconds(gateway.server.pid) - cpu
        await gateway.idle(args.connections, args.idle)
        figures.rss_after_kib = gateway.rss_kib()
        found = await gateway.metrics()
        first = {k: found.get(k, 0.0) - before.get(k, 0.0) for k in COUNTERS}
        print(f"  {args.connections:,} subscribed in {figures.open_seconds:.1f} s (server CPU "
              f"{figures.open_cpu:.1f} s; first answers: {first[COMPUTED]:.0f} evaluated, "
              f"{first[SHARED]:.0f} shared); server RSS {figures.rss_before_kib / 1024:.1f} -> "
              f"{figures.rss_after_kib / 1024:.1f} MiB: {figures.kib_per_connection:.1f} KiB per "
              f"idle subscribed connection; /metrics: "
              f"{found.get('gateway_live_connections', 0):.0f} connections, "
              f"{found.get('gateway_live_subscriptions', 0):.0f} subscriptions, "
              f"{found.get('gateway_live_documents', 0):.0f} documents", flush=True)  # fmt: skip
        if found.get("gateway_live_documents") != 1:
            raise RunError(f"{found.get('gateway_live_documents')} live documents, want 1")
        label = f"{args.connections:,} x 1 document"
        for _ in range(args.snapshots):
            figures.rounds.append(await snapshot_round(label, gateway, store, crowd, 1))
    finally:
        await crowd.close()
    await gateway.idle(0, args.idle)
    figures.rss_closed_kib = gateway.rss_kib()

    figures.spread_connections, figures.documents = args.spread_connections, args.documents
    spread = Crowd(gateway.ws_url, not args.no_compression)
    try:
        variables = [ranged(store.end_date, 1 + i % args.documents)
                     for i in range(args.spread_connections)]  # fmt: skip
        minted = tokens(gateway.settings, "bench-live-spread", args.spread_connections)
        seconds = await spread.open(minted, variables)
        documents = len({orjson.dumps(v) for v in variables})
        print(f"  {args.spread_connections:,} subscribed to {documents} documents in "
              f"{seconds:.1f} s", flush=True)  # fmt: skip
        label = f"{args.spread_connections:,} x {documents} documents"
        for _ in range(args.spread_snapshots):
            figures.spread.append(await snapshot_round(label, gateway, store, spread, documents))
    finally:
        await spread.close()
    return figures


# -- the report ---------------------------------------------------------------------------------


def report(figures: Figures) -> None:
    """The table of measured against target."""
    rows: list[tuple[str, str, str, str]] = []
    kib = figures.kib_per_connection
    rows.append((
        f"server memory per idle subscribed connection ({figures.connections:,}, "
        f"{'deflate' if figures.compression else 'no compression'})",
        f"{kib:.1f} KiB", f"<= {TARGET_KIB_PER_CONNECTION:.0f} KiB",
        verdict(kib <= TARGET_KIB_PER_CONNECTION),
    ))  # fmt: skip
    for group in (figures.rounds, figures.spread):
        for r in group:
            rows.append((
                f"push after commit, {r.label}, snapshot {r.snapshot}",
                f"p50 {r.p(50) * 1e3:.0f} ms, p99 {r.p(99) * 1e3:.0f} ms, max "
                f"{max(r.latencies) * 1e3:.0f} ms",
                f"p99 <= {TARGET_P99_SECONDS * 1e3:.0f} ms",
                verdict(r.p(99) <= TARGET_P99_SECONDS),
            ))  # fmt: skip
    for group, want in ((figures.rounds, 1), (figures.spread, figures.documents)):
        for r in group:
            rows.append((
                f"evaluations per snapshot, {r.label}, snapshot {r.snapshot}",
                f"{r.computations:.0f} ({r.pushes:,.0f} pushes)", f"= {want}",
                verdict(r.computations == want),
            ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print("targets:")
    for row in [("measure", "measured", "target", ""), *rows]:
        print(("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))).rstrip())


# -- entry points -------------------------------------------------------------------------------


async def _always(steps: Iterable[Callable[[], Awaitable[None]]]) -> None:
    """Run every clean-up step, whatever the ones before raised."""
    for step in steps:
        try:
            await step()
        except Exception as exc:  # a clean-up failure must not hide the others
            print(f"  clean-up failed: {exc!r}", flush=True)


async def main(args: argparse.Namespace) -> None:
    """Ensure the dataset, copy it, serve it, measure, print, clean up."""
    dataset = await ds.from_args(args)
    soft, hard = raise_open_files()
    work = f"gateway_live_{dataset.scale}"
    settings = Settings(jwt_secret=SecretStr(JWT_SECRET), redis_url=args.redis_url)
    print(f"live subscriptions ({dataset.scale}, seed {dataset.seed}; {args.connections:,} "
          f"connections x 1 document, then {args.spread_connections:,} over {args.documents} "
          f"documents; {args.snapshots} + {args.spread_snapshots} snapshots of {args.events} "
          f"new events; open files {soft}/{hard})", flush=True)  # fmt: skip
    print(f"  before: {machine()}", flush=True)
    await ds.recreate(work, dataset.url.rsplit("/", 1)[1])
    try:
        await asyncio.to_thread(flush, args.redis_url)
        env = server_env(ds.database_url(work), args.redis_url)
        with serve("gateway.app:create_app", env, GATEWAY_SERVER) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                gateway = Gateway(server, settings, http)
                store = Store(ds.database_url(work), dataset.end_date, args.events)
                try:
                    figures = await run_phases(args, gateway, store)
                except RunError as failed:
                    raise SystemExit(f"FAILED: {failed}") from None
    finally:
        await _always([lambda: asyncio.to_thread(flush, args.redis_url),
                       lambda: ds.drop(work)])  # fmt: skip
    print(f"  after: {machine()}")
    print(f"  server RSS after the {figures.connections:,} closed: "
          f"{figures.rss_closed_kib / 1024:.1f} MiB")  # fmt: skip
    report(figures)


SMOKE = ("--scale", "tiny", "--connections", "1000", "--snapshots", "1", "--idle", "0.5")
"""The smoke run: the thousand connections (the point of the benchmark; about 10 s), one
snapshot each phase, the exactness checks."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (the dataset's, see :mod:`bench.dataset`, and the run's)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ds.add_arguments(parser)
    parser.set_defaults(scale="small")
    parser.add_argument("--connections", type=int, default=1000,
                        help="subscribers of the one document")  # fmt: skip
    parser.add_argument("--snapshots", type=int, default=3, help="snapshots pushed to them")
    parser.add_argument("--spread-connections", type=int, default=200,
                        help="subscribers spread over --documents")  # fmt: skip
    parser.add_argument("--documents", type=int, default=50, help="distinct documents")
    parser.add_argument("--spread-snapshots", type=int, default=1,
                        help="snapshots pushed to the spread subscribers")  # fmt: skip
    parser.add_argument("--events", type=int, default=100,
                        help="recent events ingested before each snapshot (0: none)")  # fmt: skip
    parser.add_argument("--idle", type=float, default=2.0,
                        help="seconds the server idles before its RSS is read")  # fmt: skip
    parser.add_argument("--no-compression", action="store_true",
                        help="do not offer permessage-deflate (browsers offer it)")  # fmt: skip
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4",
                        help="its DB is flushed before and after")  # fmt: skip
    args = parser.parse_args(argv)
    counts = (args.connections, args.spread_connections, args.documents)
    if min(counts) < 1 or args.documents > args.spread_connections:
        parser.error("--connections, --spread-connections and --documents must be at least 1, "
                     "and --documents at most --spread-connections")  # fmt: skip
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
