"""Where ``/metrics`` reads from: this process, or every worker of ``gateway serve``.

With ``gateway serve --workers N`` each worker is its own process with its own counters, so a
scrape of one worker would see a slice. prometheus_client's multiprocess mode fixes that: when
``PROMETHEUS_MULTIPROC_DIR`` names a directory before prometheus_client is imported, every
process writes its values to memory-mapped files there, and ``/metrics`` sums them with a
:class:`~prometheus_client.multiprocess.MultiProcessCollector`. ``gateway serve`` sets the
variable for its workers (see :func:`prepare_directory`); without it nothing changes.

Example:
    $ PROMETHEUS_MULTIPROC_DIR=/run/gateway-metrics gateway serve --workers 4
    $ curl -s localhost:8000/metrics | grep '^gateway_http_requests_total'   # all four workers
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's variable naming the directory of the per-process value files."""


def multiprocess_dir() -> Path | None:
    """The directory of the per-process value files, when this process runs in one."""
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def _own(path: Path) -> bool:
    """True when ``path`` is a value file of this process (``counter_<pid>.db``, ...)."""
    return path.stem.rsplit("_", 1)[-1] == str(os.getpid())


def ensure_directory() -> None:
    """Before any metric is created (prometheus_client opens its files at once): create the
    ``PROMETHEUS_MULTIPROC_DIR`` directory if it is set and missing, and remove the files an
    earlier process with this process's id left there (in a container every run is often pid
    1): their values would otherwise be carried on. No running process has this id."""
    given = multiprocess_dir()
    if given is None:
        return
    given.mkdir(parents=True, exist_ok=True)
    for stale in given.glob("*.db"):
        if _own(stale):
            stale.unlink(missing_ok=True)


def prepare_directory(workers: int) -> Path | None:
    """Make a multiprocess directory ready for a new server; returns the one to remove at exit.

    An operator's ``PROMETHEUS_MULTIPROC_DIR`` is honoured and wiped of the last run's files
    (summed with the new ones otherwise), this process's own excepted; without one,
    ``workers > 1`` gets a fresh temporary directory, returned so the caller removes it. It
    must be set before the workers start: they are spawned interpreters that read it when they
    import prometheus_client.
    """
    given = multiprocess_dir()
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        for stale in given.glob("*.db"):
            # This process's own files are live (``--workers 1`` serves from this process,
            # whose metrics exist already): unlinked, its values would go unseen.
            if not _own(stale):
                stale.unlink(missing_ok=True)
        return None
    if workers <= 1:
        return None
    created = Path(tempfile.mkdtemp(prefix="gateway-metrics-"))
    os.environ[MULTIPROC_ENV] = str(created)
    return created


def remove_directory(path: Path | None) -> None:
    """Remove a directory made by :func:`prepare_directory` (its files first)."""
    if path is None:
        return
    for item in path.glob("*.db"):
        item.unlink(missing_ok=True)
    path.rmdir()
    os.environ.pop(MULTIPROC_ENV, None)


def collecting_registry() -> CollectorRegistry:
    """The registry ``/metrics`` serves: all processes' files, or this process's default."""
    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def process_exiting() -> None:
    """Drop this process's ``live*`` gauge files, so a stopped worker's connections are not
    counted any more (its counters and histograms stay: they are totals)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
