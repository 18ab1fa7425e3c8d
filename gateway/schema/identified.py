"""``id`` and ``name``, the first two fields of every catalog entity type.

A base class rather than fields typed in each type: strawberry lists the fields of a type's
bases first, in the order of ``__bases__``, so with :class:`Identified` as the *first* base ``id``
and ``name`` print before the inherited metric fields and the type's own fields.

Example:
    >>> @strawberry.type
    ... class Workspace(Identified, EventMetrics): ...
"""

from __future__ import annotations

import strawberry


@strawberry.type(description="An entity with an id and a name (inherited; not in the schema).")
class Identified:
    """The identity fields of a catalog entity."""

    id: strawberry.ID = strawberry.field(
        description="Stable id, as given in the ingested records (e.g. `app_wallet`)."
    )
    name: str = strawberry.field(description="Display name.")
