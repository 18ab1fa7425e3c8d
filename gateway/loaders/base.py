"""Shared machinery of the per-request loaders: by-id lookups and batched keyset pages.

A page batch answers every parent of the batch with two statements (a ``ROW_NUMBER() OVER
(PARTITION BY parent ORDER BY id)`` for the pages and a grouped ``COUNT`` for the totals),
whatever the number of parents; keys that differ in more than their parent (another ``first``
or filter, e.g. two aliases) form separate groups, so the statement count depends on the query
text, never on the data.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import ColumnElement, Select, Subquery, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.loaders.catalog_rows import Page
from gateway.loaders.keys import PageKey
from gateway.loaders.tracing import traced_batch
from gateway.store.db_faults import read_retrying

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


class EngineLoader(DataLoader[K, V], ABC):
    """A DataLoader whose batch runs on a connection of ``engine`` (one per batch)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        super().__init__()

    @traced_batch
    async def batch_load_fn(self, keys: list[K]) -> list[V]:
        """Answer ``keys`` in order with one connection; once more on a fresh connection if
        that one was lost (:func:`~gateway.store.db_faults.read_retrying`)."""

        async def attempt() -> list[V]:
            async with self.engine.connect() as conn:
                return await self.load_batch(conn, keys)

        return await read_retrying(attempt)

    @abstractmethod
    async def load_batch(self, conn: AsyncConnection, keys: Sequence[K]) -> list[V]:
        """Answer ``keys`` in order (one query for the whole batch)."""


class ByIdLoader(EngineLoader[str, T | None], Generic[T]):
    """Rows of one table by primary key; None for an unknown id."""

    table: Table

    @abstractmethod
    def item(self, row: Mapping[Any, Any]) -> T:
        """Build the value of one result row."""

    async def load_batch(self, conn: AsyncConnection, keys: Sequence[str]) -> list[T | None]:
        """One ``SELECT ... WHERE id IN (...)`` for the batch."""
        result = await conn.execute(select(self.table).where(self.table.c.id.in_(set(keys))))
        found = {row["id"]: self.item(row) for row in result.mappings()}
        return [found.get(key) for key in keys]


def page_statements(
    source: Subquery, parents: Sequence[str] | None, first: int, after: str | None
) -> tuple[Select[Any], Select[Any]]:
    """The page and count statements over ``source`` (columns ``parent_id``, ``id``, ...).

    Args:
        source: The list's rows, already filtered; None ``parents`` means a root list and then
            ``source`` needs no ``parent_id`` column.
        parents: Parent ids of the batch.
        first: Page size; one more row is fetched to tell whether a next page exists.
        after: Keyset position: only ids greater than it.
    """
    parent = source.c.parent_id if parents is not None else None
    scope: list[ColumnElement[bool]] = []
    if parent is not None and parents is not None:
        scope.append(parent.in_(parents))
    where = [*scope, source.c.id > after] if after is not None else scope
    rank = func.row_number().over(partition_by=parent, order_by=source.c.id).label("rn")
    ranked = select(source, rank).where(*where).subquery("ranked")
    page = select(ranked).where(ranked.c.rn <= first + 1).order_by(ranked.c.rn)
    if parent is None:
        return page, select(func.count()).select_from(source)
    count = select(source.c.parent_id, func.count()).where(*scope).group_by(source.c.parent_id)
    return page, count


class PageLoader(EngineLoader[PageKey, Page[T]], Generic[T]):
    """Pages of a child list for many parents at once (see :func:`page_statements`)."""

    root: bool = False
    """True for a list without parent (``Query.workspaces``); its keys use ``parent_id=""``."""

    @abstractmethod
    def source(self, key: PageKey, parents: Sequence[str]) -> Select[Any]:
        """Rows of the list with ``parent_id`` and ``id`` columns, filtered as ``key`` says.

        ``parents`` are the batch's parent ids: a source may use them to narrow an inner
        query early (the page statement filters on them anyway).
        """

    @abstractmethod
    def item(self, row: Mapping[Any, Any]) -> T:
        """Build one item of a page from a row of :meth:`source`."""

    async def load_batch(self, conn: AsyncConnection, keys: Sequence[PageKey]) -> list[Page[T]]:
        """Group keys by everything but the parent; two statements per group."""
        groups: dict[PageKey, set[str]] = defaultdict(set)
        for key in keys:
            groups[dataclasses.replace(key, parent_id="")].add(key.parent_id)
        pages: dict[PageKey, Page[T]] = {}
        for group, parents in groups.items():
            found = await self._load_group(conn, group, sorted(parents))
            for parent_id, page in found.items():
                pages[dataclasses.replace(group, parent_id=parent_id)] = page
        return [pages[key] for key in keys]

    async def _load_group(
        self, conn: AsyncConnection, group: PageKey, parents: list[str]
    ) -> dict[str, Page[T]]:
        source = self.source(group, parents).subquery("source")
        page_stmt, count_stmt = page_statements(
            source, None if self.root else parents, group.first, group.after
        )
        items: dict[str, list[T]] = defaultdict(list)
        more: set[str] = set()
        for row in (await conn.execute(page_stmt)).mappings():
            parent_id = "" if self.root else row["parent_id"]
            if row["rn"] > group.first:
                more.add(parent_id)
            else:
                items[parent_id].append(self.item(row))
        counts = await conn.execute(count_stmt)
        totals: dict[str, int] = {"": counts.scalar_one()} if self.root else dict(counts.all())
        return {
            parent_id: Page(tuple(items[parent_id]), parent_id in more, totals.get(parent_id, 0))
            for parent_id in parents
        }
