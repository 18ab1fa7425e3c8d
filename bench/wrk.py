"""Drive ``wrk`` (HTTP load on loopback) with one fixed request and read its figures back.

wrk prints its summary for people; a Lua ``done`` hook makes it also print one JSON line
(``WRK_JSON {...}``) with the request count, duration, latency percentiles and error counts,
which :func:`run_wrk` parses. The request (method, body, headers) is set by the same script; the
body is read from a file so that any bytes pass unquoted.

Example:
    >>> load = Load(threads=1, connections=16, seconds=10)  # doctest: +SKIP
    >>> run_wrk("http://127.0.0.1:8001/graphql", body_file, headers, load).rps  # doctest: +SKIP
    9123.4
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MARKER = "WRK_JSON "
"""Prefix of the machine-readable line the ``done`` hook prints."""

_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "socket_errors": %d, "non2xx": %d, "timeouts": %d}\\n',
    MARKER, summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max,
    e.connect + e.read + e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True, slots=True)
class Load:
    """How hard wrk pushes: ``-t threads -c connections -d seconds``."""

    threads: int = 1
    connections: int = 16
    seconds: int = 10


@dataclass(frozen=True, slots=True)
class WrkResult:
    """One wrk run's figures (latencies in ms, as wrk measured them per request)."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    non2xx: int
    timeouts: int

    @property
    def rps(self) -> float:
        """Requests per second over the run."""
        return self.requests / self.seconds

    @property
    def clean(self) -> bool:
        """True when every request got a 2xx answer without socket errors or timeouts."""
        return not (self.socket_errors or self.non2xx or self.timeouts)


def _lua_string(text: str) -> str:
    # A JSON string of printable ASCII is also a valid Lua string literal (same escapes).
    if not (text.isascii() and text.isprintable()):
        raise ValueError(f"not printable ASCII: {text[:40]!r}")
    return json.dumps(text)


def lua_script(body_file: Path, headers: Mapping[str, str]) -> str:
    """The wrk script: POST the bytes of ``body_file`` with ``headers``, report as JSON."""
    lines = [
        f"MARKER = {_lua_string(MARKER)}",
        'wrk.method = "POST"',
        f'local f = assert(io.open({_lua_string(str(body_file))}, "rb"))',
        "wrk.body = f:read('*a')",
        "f:close()",
    ]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n" + _DONE


def parse_output(stdout: str) -> WrkResult:
    """The figures of wrk's ``stdout`` (the ``done`` hook's JSON line)."""
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            ms = {k: data[f"{k}_us"] / 1000 for k in ("p50", "p90", "p99", "max")}
            return WrkResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                p50_ms=ms["p50"],
                p90_ms=ms["p90"],
                p99_ms=ms["p99"],
                max_ms=ms["max"],
                socket_errors=data["socket_errors"],
                non2xx=data["non2xx"],
                timeouts=data["timeouts"],
            )
    raise RuntimeError(f"wrk printed no {MARKER.strip()} line:\n{stdout}")


def run_wrk(url: str, body_file: Path, headers: Mapping[str, str], load: Load) -> WrkResult:
    """Run wrk against ``url`` with the request described (blocking, ``load.seconds`` long)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-") as script:
        script.write(lua_script(body_file, headers))
        script.flush()
        command = [wrk, f"-t{load.threads}", f"-c{load.connections}", f"-d{load.seconds}s",
                   "--latency", "-s", script.name, url]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_output(done.stdout)
