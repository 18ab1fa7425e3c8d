"""Run the benchmarks: ``python -m bench [NAME [ARGS...]]`` (``make bench``).

Without a name every benchmark of :data:`BENCHMARKS` runs with its defaults, one after the
other; with a name only that one runs, with the remaining arguments passed to it
(``python -m bench ingest --events 200000``; ``python -m bench ingest --help`` lists them).
``python -m bench smoke`` runs each once with its module's ``SMOKE`` arguments: the smallest
scale, one iteration; CI runs it so that no benchmark rots (it checks that each runs and that
its exactness checks hold, not its timings).
Each prints ratios or rates measured in the same run: absolute times on a shared 2-core
machine are noise.
"""

from __future__ import annotations

import asyncio
import importlib
import sys

BENCHMARKS: dict[str, str] = {
    "ingest": "bench.ingest_throughput",
    "details": "bench.details_page",
    "cached": "bench.cached_page",
    "rebuild": "bench.rollup_rebuild",
    "scale": "bench.scale",
    "audience": "bench.audience",
    "live": "bench.live",
}
"""Benchmark name -> module with ``parse_args(argv)``, ``async main(args)`` and ``SMOKE``
(the arguments of its smoke run)."""


def run(name: str, argv: list[str] | None = None) -> None:
    """Run one benchmark with its command-line arguments (None: its smoke run's)."""
    module = importlib.import_module(BENCHMARKS[name])
    argv = list(module.SMOKE) if argv is None else argv
    print(f"== {name} ({module.__name__}) {' '.join(argv)}".rstrip(), flush=True)
    asyncio.run(module.main(module.parse_args(argv)))


def main(argv: list[str]) -> int:
    """Entry point; returns the exit status."""
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        print("benchmarks:", ", ".join(BENCHMARKS), "(or smoke: each once, smallest)")
        return 0
    if not argv or argv == ["smoke"]:
        for name in BENCHMARKS:
            run(name, None if argv else [])
        return 0
    if argv[0] not in BENCHMARKS:
        print(f"unknown benchmark {argv[0]!r}; choose one of: {', '.join(BENCHMARKS)}")
        return 2
    run(argv[0], argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
