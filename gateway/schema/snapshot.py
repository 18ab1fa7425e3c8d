"""``Snapshot``: which completed refresh of the rollups a response reads (SPEC §7)."""

from __future__ import annotations

import datetime as dt

import strawberry

from gateway.resolvers.snapshot import snapshot
from gateway.schema.fields import Info

SNAPSHOT_DESCRIPTION = (
    "The snapshot this response reads. Every metric of one response comes from the same "
    "snapshot, even if a refresh completes while it runs."
)
"""``Query.snapshot``."""


@strawberry.type(
    description="A completed refresh of the metric rollups. Event metrics answer as of "
    '`takenAt`; before the first refresh `id` is "0", `takenAt` is null and every event '
    "metric is 0."
)
class Snapshot:
    """The snapshot of a response."""

    id: strawberry.ID = strawberry.field(
        description='Snapshot id; increases with every refresh ("0" before the first).'
    )
    taken_at: dt.datetime | None = strawberry.field(
        description="When the refresh started (UTC): events ingested before it are counted."
    )
    next_refresh_at: dt.datetime | None = strawberry.field(
        description="When the next refresh is due (takenAt + the refresh interval, "
        "GATEWAY_REFRESH_INTERVAL_SECONDS); null before the first refresh."
    )
    time_zone: str = strawberry.field(description='Time zone of days and ranges: always "UTC".')

    @classmethod
    async def of_request(cls, info: Info) -> Snapshot:
        """The snapshot the request reads."""
        state, next_refresh = await snapshot(info.context)
        return cls(
            id=strawberry.ID(str(state.id)),
            taken_at=state.taken_at,
            next_refresh_at=next_refresh,
            time_zone="UTC",
        )
