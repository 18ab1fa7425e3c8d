"""A private PostgreSQL cluster for tests that stop and restart the database.

The shared server on 5432 is never touched: :class:`PostgresServer` runs ``initdb`` into a
temporary directory and ``pg_ctl`` on a free port (trust authentication on 127.0.0.1 only,
``fsync`` off). PostgreSQL refuses to run as root, so when the tests run as root every
command runs as the ``postgres`` OS user (``runuser -u postgres``), who owns the directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_server import _free_port


def _bin(name: str) -> str:
    """The newest installed PostgreSQL's ``name`` (``initdb``, ``pg_ctl``), else from PATH."""
    installed = Path("/usr/lib/postgresql").glob(f"*/bin/{name}")
    found = sorted(
        installed, key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0
    )
    if found:
        return str(found[-1])
    path = shutil.which(name)
    if path is None:  # pragma: no cover - environment failure
        pytest.fail(f"{name} not found: install the PostgreSQL server", pytrace=False)
    return path


class PostgresServer:
    """A private cluster the test controls: :meth:`start`, :meth:`stop`, :attr:`url`."""

    def __init__(self, directory: Path, port: int, *, synchronous_commit: bool = False) -> None:
        self.directory = directory
        self.port = port
        self.data = directory / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        self.synchronous_commit = synchronous_commit
        """On: a commit is acknowledged once its WAL is written, so a crash (:meth:`crash`)
        loses no acknowledged transaction, as in production (off by default: faster)."""

    def _run(self, *command: str) -> None:
        if os.geteuid() == 0:
            command = ("runuser", "-u", "postgres", "--", *command)
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        """``initdb`` the cluster (trust authentication, UTF-8)."""
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(
            _bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        commit = "on" if self.synchronous_commit else "off"
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            f"-c fsync=off -c full_page_writes=off -c synchronous_commit={commit}"
        )
        log = str(self.directory / "server.log")
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions are ended) and wait for it to exit."""
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def crash(self) -> None:
        """Stop the server as a crash would (immediate shutdown: no checkpoint, recovery from
        the WAL at the next start)."""
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    @property
    def running(self) -> bool:
        """True while the server's postmaster runs."""
        return (self.data / "postmaster.pid").exists()


class ReplicaServer(PostgresServer):
    """A hot standby of a :class:`PostgresServer`, cloned with ``pg_basebackup -R``."""

    def clone(self, primary: PostgresServer) -> None:
        """Copy ``primary``'s data directory and configure streaming from it (initdb's
        pg_hba already trusts replication from 127.0.0.1; ``wal_level`` is ``replica``)."""
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(
            _bin("pg_basebackup"), "-D", str(self.data), "-h", "127.0.0.1",
            "-p", str(primary.port), "-U", "postgres", "-R", "-X", "stream", "-c", "fast",
            "--no-sync",
        )  # fmt: skip


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PostgresServer]:
    """A private cluster on a free port for the module, running at the start of each test
    that uses it (see :func:`postgres_up`), removed at the end."""
    directory = Path(tempfile.mkdtemp(prefix="gateway-pg-"))
    server = PostgresServer(directory, _free_port())
    try:
        server.init()
        server.start()
        yield server
    finally:
        if server.running:
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def postgres_up(private_postgres: PostgresServer) -> PostgresServer:
    """:func:`private_postgres`, started again if a previous test left it stopped."""
    if not private_postgres.running:
        private_postgres.start()
    return private_postgres
