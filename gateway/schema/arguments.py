"""Argument annotations shared by several fields (one description each, written once)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.schema.enums import DeploymentStatus, MiniProgramTypeFilter

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
