"""Named sizes of the synthetic dataset, from a test fixture to the SPEC §9 benchmark.

Example:
    >>> SCALES["tiny"].events, SCALES["large"].users
    (5000, 1000000)
    >>> resolve_scale("demo").days
    90
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Scale:
    """How much data to generate: catalog sizes, event count and window length.

    ``events`` is exact: the generator emits that many distinct events (replayed duplicates
    come on top). ``users`` is the population; nearly all of them appear in events.
    """

    name: str
    events: int
    users: int
    workspaces: int
    target_apps: int
    mini_programs: int
    merchants: int
    days: int

    def describe(self) -> str:
        """One line for ``--help``, e.g. ``"5,000 events, 500 users, 3 apps, ..."``."""
        return (
            f"{self.events:,} events, {self.users:,} users, {self.workspaces} workspaces, "
            f"{self.target_apps} apps, {self.mini_programs:,} mini programs, {self.days} days"
        )


SCALES: Mapping[str, Scale] = MappingProxyType(
    {
        scale.name: scale
        for scale in (
            Scale("tiny", 5_000, 500, 2, 3, 30, 10, 30),
            Scale("demo", 100_000, 10_000, 3, 6, 120, 40, 90),
            Scale("small", 1_000_000, 100_000, 4, 10, 500, 150, 90),
            # SPEC §9: the benchmark dataset, exactly.
            Scale("large", 10_000_000, 1_000_000, 5, 20, 2_000, 500, 120),
            # SPEC §9: a year of history at ten times the benchmark (same catalog shape).
            Scale("xlarge", 100_000_000, 10_000_000, 5, 20, 2_000, 500, 365),
        )
    }
)
"""Every named scale, smallest first."""


def resolve_scale(scale: str | Scale) -> Scale:
    """The :class:`Scale` named ``scale`` (a Scale passes through); ValueError when unknown."""
    if isinstance(scale, Scale):
        return scale
    try:
        return SCALES[scale]
    except KeyError:
        names = ", ".join(SCALES)
        raise ValueError(f"unknown scale {scale!r}; choose one of: {names}") from None
