"""Argument annotations shared by several fields (one description each, written once)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.schema.enums import DeploymentStatus, MiniProgramTypeFilter
from gateway.schema.time_range import TimeRangeInput

TypeArg = Annotated[
    MiniProgramTypeFilter | None,
    strawberry.argument(
        description="Only mini programs of this type (default ALL: both types; null = ALL)."
    ),
]
"""``type: MiniProgramTypeFilter = ALL``."""

CategoryArg = Annotated[
    str | None,
    strawberry.argument(
        description="Only mini programs of this category slug, e.g. `food_beverage`; "
        "null keeps every category."
    ),
]
"""``category: String``."""

StatusArg = Annotated[
    DeploymentStatus | None,
    strawberry.argument(
        description="Only mini programs whose current status in this target app is this one; "
        "null keeps every status."
    ),
]
"""``status: DeploymentStatus``."""

IdArg = Annotated[strawberry.ID, strawberry.argument(description="The entity's id.")]
"""``id: ID!`` of the root lookups."""

TimeRangeArg = Annotated[
    TimeRangeInput,
    strawberry.argument(
        description="The range R of UTC days the metric covers; it is compared with the "
        "previous period (the range of equal length ending the day before R starts)."
    ),
]
"""``timeRange: TimeRangeInput!``."""
