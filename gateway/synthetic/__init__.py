"""Deterministic synthetic data in the record format of SPEC §2, at named scales.

The same scale, seed and end date give byte-identical output. Catalog records come first
(workspaces, merchants, target apps, mini programs, deployments, users), then events in
roughly chronological order, with a few late and replayed ones.

Example:
    >>> from datetime import date
    >>> lines = generate_lines("tiny", seed=7, end_date=date(2025, 3, 31))
    >>> next(lines)
    b'{"kind":"workspace","id":"ws_01","name":"Acme Super App"}'
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from gateway.synthetic.scales import SCALES, Scale, resolve_scale

__all__ = ["GENERATOR_VERSION", "SCALES", "Scale", "generate_lines", "resolve_scale"]

GENERATOR_VERSION = 2
"""Bumped whenever the records a seed gives change (2: events carry platform and region), so
stored benchmark datasets built by an older generator are built again."""


def generate_lines(
    scale: str | Scale, *, seed: int = 7, end_date: date | None = None
) -> Iterator[bytes]:
    """JSON lines (bytes, no newline) of the dataset ``scale`` ending on ``end_date``.

    Args:
        scale: a name of :data:`SCALES` (``tiny``, ``demo``, ``small``, ``large``,
            ``xlarge``) or a Scale.
        seed: the random seed; another seed gives another dataset of the same shape.
        end_date: the last UTC day with events (default: today, so presets show data).

    Raises:
        ValueError: ``scale`` is not a known name (raised here, not on first iteration).
    """
    # numpy and the simulation load only when data is generated, not when the CLI starts.
    from gateway.synthetic.clock import Window, today_utc
    from gateway.synthetic.stream import stream_lines

    resolved = resolve_scale(scale)
    window = Window(end_date or today_utc(), resolved.days)
    return stream_lines(resolved, window, seed)
