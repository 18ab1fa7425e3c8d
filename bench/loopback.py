"""ASGI servers on loopback for benchmarks: uvicorn subprocesses, and a bare reference app.

:func:`serve` starts ``uvicorn --factory`` in its own process with the settings every server of
a comparison shares (one worker, ``127.0.0.1``, no access log, log level warning; uvicorn picks
uvloop and httptools when installed, as in production) and stops it afterwards.

:func:`bare_app` is the reference: a Starlette app whose one ``POST /`` route answers fixed
bytes (read at start-up from :data:`BODY_FILE_ENV`, with the content type of
:data:`CONTENT_TYPE_ENV`): the least any Starlette endpoint can do for a request.

Example:
    >>> env = {BODY_FILE_ENV: "/tmp/page.json"}
    >>> with serve("bench.loopback:bare_app", env) as server:  # doctest: +SKIP
    ...     print(server.url)
    http://127.0.0.1:40123
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HOST = "127.0.0.1"
BODY_FILE_ENV = "BENCH_BARE_BODY_FILE"
CONTENT_TYPE_ENV = "BENCH_BARE_CONTENT_TYPE"
START_TIMEOUT_SECONDS = 60.0
PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""Where the servers run, so that ``bench`` and ``gateway`` import from this checkout."""


def bare_app() -> Starlette:
    """The reference app (a uvicorn factory): ``POST /`` answers the bytes of the body file."""
    body = Path(os.environ[BODY_FILE_ENV]).read_bytes()
    media_type = os.environ.get(CONTENT_TYPE_ENV, "application/json")

    async def answer(request: Request) -> Response:
        await request.body()  # read it, as any endpoint taking a POST body must
        return Response(body, media_type=media_type)

    return Starlette(routes=[Route("/", answer, methods=["POST"])])


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process ``pid`` has used so far, from ``/proc`` (Linux)."""
    # The command name in parentheses may hold spaces: the fields start after the last ")".
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port free on loopback right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Server:
    """A running server process."""

    url: str
    pid: int


def _wait_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} at start-up")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {HOST}:{port} in {START_TIMEOUT_SECONDS}s")


@contextmanager
def serve(factory: str, env: Mapping[str, str], options: Sequence[str] = ()) -> Iterator[Server]:
    """Run ``uvicorn --factory factory`` with ``env`` (replacing this process's environment
    apart from ``PATH``/``HOME``) and uvicorn ``options`` until the block ends.

    Raises:
        RuntimeError: the server exits or does not listen within the start timeout.
    """
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", HOST,
               "--port", str(port), "--workers", "1", "--no-access-log",
               "--log-level", "warning", *options]  # fmt: skip
    # A clean environment: no GATEWAY_* of the caller's shell leaks into the server.
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    process = subprocess.Popen(command, env={**base, **env}, cwd=PROJECT_ROOT)
    try:
        _wait_listening(process, port)
        yield Server(f"http://{HOST}:{port}", process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
