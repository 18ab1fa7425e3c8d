"""``Query.snapshot``: the snapshot a response reads, and when the next one is due."""

from __future__ import annotations

import datetime as dt

from gateway.context import Context
from gateway.loaders.snapshot import Snapshot


async def snapshot(ctx: Context) -> tuple[Snapshot, dt.datetime | None]:
    """The snapshot this response reads, and when the next refresh is due (None before the
    first refresh)."""
    state = await ctx.reader.snapshot()
    return state, state.next_due(ctx.settings.refresh_interval_seconds)
