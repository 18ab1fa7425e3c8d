"""The record stream: catalog first, then events day by day with some late and replayed.

About 0.4% of events are held back one to three days (*late* events, emitted after later
days' events) and about 0.3% are emitted a second time, byte for byte, up to four days
later (*replays*), so that ingestion's ordering tolerance and idempotency are exercised.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import compress

import numpy as np

from gateway.synthetic.audience import build_audience
from gateway.synthetic.clock import Window
from gateway.synthetic.events import simulate_day
from gateway.synthetic.lines import EventWriter, catalog_lines
from gateway.synthetic.scales import Scale
from gateway.synthetic.world import build_world

LATE_SHARE = 0.004
REPLAY_SHARE = 0.003


def stream_lines(scale: Scale, window: Window, seed: int) -> Iterator[bytes]:
    """Every line of the dataset of ``scale`` over ``window``, deterministic for ``seed``."""
    # A fourth stream for the audience: the first three (and so the events) are what they were.
    world_rng, event_rng, delay_rng, audience_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    world = build_world(scale, window, world_rng)
    yield from catalog_lines(world)
    audience = build_audience(audience_rng, world.users.home_app, len(world.apps.names))
    writer = EventWriter(world, audience)
    pending: defaultdict[int, list[bytes]] = defaultdict(list)
    for day in range(window.days):
        lines = writer.lines(simulate_day(world, day, event_rng))
        late = delay_rng.random(len(lines)) < LATE_SHARE
        for i in np.flatnonzero(late).tolist():
            pending[day + int(delay_rng.integers(1, 4))].append(lines[i])
        for i in np.flatnonzero(delay_rng.random(len(lines)) < REPLAY_SHARE).tolist():
            pending[day + int(delay_rng.integers(0, 5))].append(lines[i])
        yield from compress(lines, (~late).tolist())
        yield from pending.pop(day, ())
    for day in sorted(pending):
        yield from pending[day]
