"""Relay cursor connections: ``edges { cursor node }``, ``nodes``, ``pageInfo``, ``totalCount``.

:class:`Connection` is generic; ``Connection[TargetApp]`` is printed as ``TargetAppConnection``
(and its edges as ``TargetAppEdge``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypeVar

import strawberry

from gateway.limits.pages import DEFAULT_FIRST, MAX_FIRST
from gateway.loaders.catalog_rows import Page
from gateway.resolvers.pagination import encode_cursor

N = TypeVar("N")
R = TypeVar("R")

First = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page size: the number of items to return, 0 to {MAX_FIRST} "
        f"(default {DEFAULT_FIRST}, also when null). Larger values are rejected with "
        "BAD_USER_INPUT."
    ),
]
"""The ``first`` argument of every connection field (``first: Int = 50``)."""

After = Annotated[
    str | None,
    strawberry.argument(
        description="Opaque cursor (an `endCursor` or edge `cursor` of a previous page): the "
        "page starts after that item. Null starts at the beginning."
    ),
]
"""The ``after`` argument of every connection field; its default is ``strawberry.UNSET`` so
the SDL prints ``after: String`` (no default), and :func:`decode_cursor` reads UNSET as None."""


@strawberry.type(description="Where a page sits in its list (Relay PageInfo).")
class PageInfo:
    """Pagination state of one page."""

    has_next_page: bool = strawberry.field(
        description="True when items follow this page (pass `endCursor` as `after`)."
    )
    has_previous_page: bool = strawberry.field(
        description="True when items precede this page (the request had an `after` cursor)."
    )
    start_cursor: str | None = strawberry.field(
        description="Cursor of the first item of the page; null for an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item of the page; null for an empty page."
    )


@strawberry.type(description="One item of a page, with its cursor.")
class Edge(Generic[N]):
    """An item and the cursor that points at it."""

    cursor: str = strawberry.field(description="Opaque cursor of this item, usable as `after`.")
    node: N = strawberry.field(description="The item.")


@strawberry.type(
    description="A page of a list ordered by id (Relay cursor connection). Lists are keyset "
    "paginated: pass `pageInfo.endCursor` as `after` to get the next page."
)
class Connection(Generic[N]):
    """A page of nodes with its edges, page info and the total count of the list."""

    edges: list[Edge[N]] = strawberry.field(description="The page's items with their cursors.")
    nodes: list[N] = strawberry.field(description="The page's items (the edges' nodes).")
    page_info: PageInfo = strawberry.field(description="Pagination state of this page.")
    total_count: int = strawberry.field(
        description="Number of items in the whole list (all pages), with the same filters."
    )

    @classmethod
    def build(
        cls,
        page: Page[R],
        node: Callable[[R], N],
        item_id: Callable[[R], str],
        *,
        after: str | None,
    ) -> Connection[N]:
        """The connection of an id-ordered loader page; ``node`` wraps an item, ``item_id`` is
        its position."""
        cursors = [encode_cursor(item_id(item)) for item in page.items]
        return cls.assemble(page, [node(item) for item in page.items], cursors, after=after)

    @classmethod
    def assemble(
        cls, page: Page[R], nodes: Sequence[N], cursors: Sequence[str], *, after: str | None
    ) -> Connection[N]:
        """The connection of ``page`` whose items became ``nodes`` at ``cursors``: the one
        place edges and page info are put together."""
        return Connection(
            edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
            nodes=list(nodes),
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=isinstance(after, str),
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
            ),
            total_count=page.total,
        )
