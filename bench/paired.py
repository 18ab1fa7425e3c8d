"""Ingest and incremental refresh of this checkout against an older one, alternating on one host.

A figure recorded on another day is only as good as the host was that day (this machine's
speed varies by tens of percent from hour to hour). So :func:`compare` runs the same growth step
(a copy of the dataset, ``count`` recent events generated, ingested, then the refresh that folds
them, the copy dropped) with the older checkout's code on its own dataset and with this one's,
turn about, each in a fresh process, and reports the ratios of each pair.

The older checkout is a plain directory, e.g. ``git worktree add ../before 0a93f44``; its dataset
(``gateway_before_<scale>``) is built by its own code the first time (:mod:`bench.dataset`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

STEP = """
import asyncio, datetime as dt, json, sys, time
from bench import dataset as ds
from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.ingest import ingest_lines
from gateway.store.rollup import refresh

async def main(template, work, count, end):
    await ds.recreate(work, template)
    engine = create_engine(Settings(database_url=ds.database_url(work)))
    try:
        lines = await ds.recent_event_lines(engine, dt.date.fromisoformat(end), count)
        started = time.perf_counter()
        report = await ingest_lines(engine, lines, source="bench:paired")
        ingest = time.perf_counter() - started
        if report.stored != len(lines):
            raise SystemExit(f"stored {report.stored} of {len(lines)}: {report}")
        del lines
        started = time.perf_counter()
        await refresh(engine)
        print(json.dumps({"rate": count / ingest, "seconds": time.perf_counter() - started}))
    finally:
        await engine.dispose()
        await ds.drop(work)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
"""
"""One growth step; written for the API both checkouts share (no import of this module)."""


@dataclass(frozen=True)
class Step:
    """One growth step's figures."""

    rate: float
    """Events ingested per second into the loaded store."""
    seconds: float
    """The refresh that folded them (with its vacuum)."""


def _run(root: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"FAILED in {root}: {' '.join(args[:2])}\n{done.stderr[-2000:]}")
    return done.stdout


def _step(root: Path, template: str, count: int, end: str) -> Step:
    out = _run(root, "-c", STEP, template, f"{template}_paired", str(count), end)
    found = json.loads(out.strip().splitlines()[-1])
    return Step(float(found["rate"]), float(found["seconds"]))


@dataclass(frozen=True)
class Comparison:
    """The pairs of steps, older checkout first."""

    pairs: list[tuple[Step, Step]]

    @property
    def kept(self) -> float:
        """Median ratio of this checkout's ingest rate to the older one's."""
        return statistics.median(new.rate / old.rate for old, new in self.pairs)

    @property
    def slower(self) -> float:
        """Median ratio of this checkout's refresh time to the older one's."""
        return statistics.median(new.seconds / old.seconds for old, new in self.pairs)


def compare(
    before: Path, template: str, scale: str, *, count: int, end: str, pairs: int
) -> Comparison:
    """``pairs`` growth steps of ``before``'s code on its own dataset and of this checkout's on
    ``template``, alternating (the older first)."""
    database = f"gateway_before_{scale}"
    _run(before, "-m", "bench.dataset", "--scale", scale, "--database", database)
    return Comparison(
        [
            (_step(before, database, count, end), _step(PROJECT_ROOT, template, count, end))
            for _ in range(pairs)
        ]
    )
