"""``gateway demo`` and ``gateway serve`` as real processes on free ports."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

TOKEN = re.compile(r"^\s+Authorization: Bearer (\S+)$", re.MULTILINE)
"""A demo token line of ``gateway demo``'s output."""

GATEWAY = Path(sys.executable).with_name("gateway")
STARTUP_SECONDS = 90.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Running:
    """A started ``gateway`` process whose output is collected by a thread."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [str(GATEWAY), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env, "COLUMNS": "200", "NO_COLOR": "1"},
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_until(self, url: str, expected: int = 200) -> httpx.Response:
        """Poll ``url`` until it answers ``expected``; fail with the output if it never does."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gateway exited with {self.process.returncode}:\n{self.output}")
            try:
                response = httpx.get(url, timeout=2)
                if response.status_code == expected:
                    return response
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"{url} did not answer {expected} in {STARTUP_SECONDS}s:\n{self.output}")

    def children(self) -> list[int]:
        """Process ids of the direct children (uvicorn workers)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        """Ctrl-C, as a user would (or ``sig``: SIGTERM, as a service manager would); returns
        the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        return self.process.returncode


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Running, int, Path]]:
    """``gateway demo --scale tiny`` on a free port over a database path holding junk."""
    database = tmp_path / "demo.db"
    database.write_bytes(b"not a database: the demo must recreate this file")
    port = _free_port()
    args = ["demo", "--port", str(port), "--scale", "tiny", "--database", str(database)]
    running = Running(args, env={"GATEWAY_REDIS_URL": "redis://127.0.0.1:1/0"})
    try:
        yield running, port, database
    finally:
        running.stop()


def test_demo_serves_generated_data(demo: tuple[Running, int, Path]) -> None:
    running, port, database = demo
    base = f"http://127.0.0.1:{port}"
    running.wait_until(f"{base}/healthz")
    query = "{ workspaces(first: 5) { totalCount nodes { id name } } }"
    anonymous = httpx.post(f"{base}/graphql", json={"query": query}, timeout=30)
    assert anonymous.status_code == 401
    tokens = TOKEN.findall(running.output)
    assert len(tokens) == 5, running.output  # one per demo role
    headers = {"Authorization": f"Bearer {tokens[0]}"}  # PLATFORM_ADMIN
    response = httpx.post(f"{base}/graphql", json={"query": query}, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    workspaces = body["data"]["workspaces"]
    assert workspaces["totalCount"] >= 1
    assert all(node["id"] and node["name"] for node in workspaces["nodes"])
    assert f"{base}/graphql" in running.output
    assert f"{base}/dashboard" in running.output  # printed beside GraphiQL's URL
    assert httpx.get(f"{base}/dashboard", timeout=30).status_code == 200
    assert "records" in running.output  # the ingest summary was shown
    assert database.stat().st_size > 10_000
    assert running.stop() == 0


def test_serve_migrates_once_then_runs_workers(tmp_path: Path) -> None:
    database = tmp_path / "served.db"
    port = _free_port()
    running = Running(
        ["serve", "--port", str(port), "--workers", "2"],
        env={"GATEWAY_DATABASE_URL": f"sqlite:///{database}", "GATEWAY_LOG_LEVEL": "warning"},
    )
    try:
        ready = running.wait_until(f"http://127.0.0.1:{port}/readyz")
        assert ready.json() == {"status": "ready"}
        assert len(running.children()) >= 2  # two workers (uvicorn may add a helper)
        with sqlite3.connect(database) as conn:
            (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        assert revision
    finally:
        code = running.stop()
    assert code == 0, running.output


HEALTHZ_ANSWERED = re.compile(
    r'^gateway_http_requests_total\{method="GET",path="/healthz",status="200"\} (\S+)$',
    re.MULTILINE,
)


def _healthz_answered(base: str) -> float:
    body = httpx.get(f"{base}/metrics", timeout=10).text
    match = HEALTHZ_ANSWERED.search(body)
    return float(match[1]) if match else 0.0


def _scrapes_count_every_request(base: str, sent: int) -> None:
    # A fresh connection per request, so the kernel spreads them over the workers.
    for _ in range(sent):
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
    time.sleep(0.5)  # the counter moves once the response is sent
    # Whichever worker answers a scrape, it reports every worker's requests.
    assert [_healthz_answered(base) for _ in range(8)] == [float(sent)] * 8


def test_metrics_of_any_worker_sum_all_workers(tmp_path: Path) -> None:
    database, metrics_dir = tmp_path / "served.db", tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"a previous run's file: wiped at start")
    port = _free_port()
    running = Running(
        ["serve", "--port", str(port), "--workers", "2"],
        env={
            "GATEWAY_DATABASE_URL": f"sqlite:///{database}",
            "GATEWAY_LOG_LEVEL": "warning",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        },
    )
    try:
        base = f"http://127.0.0.1:{port}"
        running.wait_until(f"{base}/readyz")
        _scrapes_count_every_request(base, 30)
        pids = {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("*.db")}
        assert len(pids) >= 2, pids  # both workers write their values there
        assert "1" not in pids
    finally:
        code = running.stop()
    assert code == 0, running.output


@pytest.mark.parametrize("directory", [False, True], ids=["default", "operators-directory"])
def test_single_process_metrics_count_requests(tmp_path: Path, directory: bool) -> None:
    # With an operator's PROMETHEUS_MULTIPROC_DIR (one setting for every host, whatever its
    # worker count), one process still counts: its own files are not wiped under it.
    port = _free_port()
    env = {"GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'one.db'}"}
    if directory:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "run" / "metrics")
    running = Running(["serve", "--port", str(port), "--workers", "1"], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        running.wait_until(f"{base}/readyz")
        _scrapes_count_every_request(base, 5)
        assert "gateway_snapshot_age_seconds" in httpx.get(f"{base}/metrics", timeout=10).text
    finally:
        code = running.stop()
    assert code == 0, running.output


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    secret = "a-test-secret-of-at-least-thirty-two-characters"
    env = {
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'drain.db'}",
        "GATEWAY_JWT_SECRET": secret,
        "GATEWAY_SHUTDOWN_GRACE_SECONDS": "20",
    }
    token = subprocess.run(
        [str(GATEWAY), "token", "--role", "PLATFORM_ADMIN"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = _free_port()
    running = Running(["serve", "--port", str(port), "--workers", "1"], env=env)
    base = f"http://127.0.0.1:{port}"
    running.wait_until(f"{base}/readyz")
    body_started = threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield b'{"query": "{ snapshot '
        body_started.set()
        time.sleep(2)  # SIGTERM arrives while the request is in flight
        yield b'{ takenAt } }"}'

    answers: list[httpx.Response] = []

    def send() -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        answers.append(httpx.post(f"{base}/graphql", content=slow_body(), headers=headers))

    sender = threading.Thread(target=send)
    sender.start()
    assert body_started.wait(10)
    time.sleep(0.3)
    running.process.send_signal(signal.SIGTERM)
    sender.join(timeout=30)
    assert running.process.wait(timeout=30) == 0, running.output
    running.stop()
    assert [answer.status_code for answer in answers] == [200], running.output
    assert "data" in answers[0].json()
