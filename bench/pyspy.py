"""Sample a server process with py-spy while a load runs, and say where its time goes.

:func:`recording` runs ``py-spy record --format raw`` (collapsed stacks: ``frame;frame;... N``)
on a process for a while; :func:`top_functions` reads such a file back and ranks functions by
the share of samples in which they are on the stack (inclusive time). py-spy pauses the process
to sample it, so a profiled run is slower than an unprofiled one: use it for shares, not rates.

Example:
    >>> with recording(pid, Path("/tmp/gw.txt"), seconds=8):  # doctest: +SKIP
    ...     run_load()
    >>> top_functions(Path("/tmp/gw.txt"), ("gateway/",))[:1]  # doctest: +SKIP
    [('verify_token (gateway/authz/tokens.py)', 0.33)]
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RATE_HZ = 250
_LINE_NUMBER = re.compile(r":\d+\)$")


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    return found


@contextmanager
def recording(pid: int, output: Path, seconds: int) -> Iterator[None]:
    """Record ``pid`` for ``seconds`` into ``output`` (raw collapsed stacks) during the block;
    waits for py-spy to finish writing when the block ends."""
    command = [_py_spy(), "record", "-p", str(pid), "-d", str(seconds), "-r", str(RATE_HZ),
               "--format", "raw", "-o", str(output)]  # fmt: skip
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        _, errors = spy.communicate(timeout=seconds + 60)
    if spy.returncode != 0:
        raise RuntimeError(f"py-spy failed: {errors.decode(errors='replace')[-500:]}")


def top_functions(
    raw: Path, contains: tuple[str, ...] = ("",), limit: int = 15
) -> list[tuple[str, float]]:
    """Functions whose frame names one of ``contains`` (e.g. a package's directory), by share
    of samples in which they are on the stack."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = {_LINE_NUMBER.sub(")", frame) for frame in stack.split(";")}
        kept = (f for f in frames if any(part in f for part in contains))
        inclusive.update(dict.fromkeys(kept, samples))
    return [(name, n / total) for name, n in inclusive.most_common(limit)] if total else []
