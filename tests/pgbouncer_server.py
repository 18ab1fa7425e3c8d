"""Debian's pgbouncer, started by a test on a free port in transaction pooling mode.

pgbouncer must be installed (``apt-get install pgbouncer``): a test that needs it fails, not
skips, without it. It refuses to run as root, so under root it runs as the ``postgres`` user.

Example:
    >>> with pgbouncer({"gateway": "host=127.0.0.1 port=5432 dbname=gateway"}) as port:
    ...                                                                # doctest: +SKIP
    ...     url = f"postgresql://postgres@127.0.0.1:{port}/gateway"
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.redis_server import _free_port


def _binary() -> str:
    found = shutil.which("pgbouncer") or shutil.which("/usr/sbin/pgbouncer")
    if found is None:
        pytest.fail("pgbouncer not found: apt-get install pgbouncer", pytrace=False)
    return found


@contextmanager
def pgbouncer(
    databases: Mapping[str, str] | int,
    *,
    pool_size: int = 3,
    settings: Mapping[str, str] | None = None,
) -> Iterator[int]:
    """pgbouncer (transaction pooling, ``pool_size`` server connections per database and
    user) on a free port of 127.0.0.1: its port. ``databases`` maps each name clients use to
    its ``[databases]`` definition (``host=127.0.0.1 port=5432 dbname=gateway ...``), or is
    one port whose every database is served;
    ``settings`` are more ``[pgbouncer]`` lines (``query_wait_timeout``, ...)."""
    directory = Path(tempfile.mkdtemp(prefix="gateway-pgbouncer-"))
    port = _free_port()
    if isinstance(databases, int):
        routes = f"* = host=127.0.0.1 port={databases}\n"
    else:
        routes = "".join(f"{name} = {target}\n" for name, target in databases.items())
    (directory / "users.txt").write_text('"postgres" ""\n"gateway" ""\n')
    (directory / "pgbouncer.ini").write_text(
        f"[databases]\n{routes}"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {directory}/users.txt\npool_mode = transaction\n"
        f"default_pool_size = {pool_size}\nmax_client_conn = 500\n"
        + "".join(f"{name} = {value}\n" for name, value in (settings or {}).items())
    )
    user = "postgres" if os.geteuid() == 0 else None  # pgbouncer refuses to run as root
    if user:
        shutil.chown(directory, user, user)
    log = (directory / "log").open("wb")
    process = subprocess.Popen(
        [_binary(), str(directory / "pgbouncer.ini")], user=user, stdout=log, stderr=log
    )
    try:
        _wait_for(port, process, directory)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for(port: int, process: subprocess.Popen[bytes], directory: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pgbouncer exited: {(directory / 'log').read_text()}", pytrace=False)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail("pgbouncer did not listen within 10 s", pytrace=False)
