"""The page report (SPEC §4 ``MiniProgram.pages``): each page's totals over a range, sorted.

Example:
    >>> rows = [PageReport("/a", 3, 2, 30.0), PageReport("/b", 3, 1, 9.0)]
    >>> [r.path for r in sort_pages(rows, PageOrderField.VISITORS, OrderDirection.ASC)]
    ['/b', '/a']
    >>> [r.path for r in sort_pages(rows, PageOrderField.PAGE_VIEWS, OrderDirection.DESC)]
    ['/a', '/b']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.domain import OrderDirection, PageOrderField


@dataclass(frozen=True)
class PageReport:
    """One page over a range: page views, distinct visitors and total time (seconds)."""

    path: str
    page_views: int
    visitors: int
    total_time_seconds: float

    @property
    def average_time_per_visitor(self) -> float:
        """Total time / visitors, in seconds (0 without visitors)."""
        return self.total_time_seconds / self.visitors if self.visitors else 0.0


def sort_value(row: PageReport, field: PageOrderField) -> float | str:
    """The value ``row`` is sorted by under ``field``."""
    if field is PageOrderField.PAGE_VIEWS:
        return row.page_views
    if field is PageOrderField.VISITORS:
        return row.visitors
    if field is PageOrderField.TOTAL_TIME:
        return row.total_time_seconds
    return row.path


def sort_pages(
    rows: Iterable[PageReport], field: PageOrderField, direction: OrderDirection
) -> list[PageReport]:
    """``rows`` by ``field`` in ``direction``, ties broken by path ascending."""
    by_path = sorted(rows, key=lambda row: row.path)
    if field is PageOrderField.PATH:
        return by_path if direction is OrderDirection.ASC else by_path[::-1]
    descending = direction is OrderDirection.DESC
    return sorted(by_path, key=lambda row: sort_value(row, field), reverse=descending)
