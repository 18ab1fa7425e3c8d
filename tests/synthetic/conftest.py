"""Datasets shared by the synthetic-data tests: generated once per session, decoded once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import pytest

from gateway.store.records import (
    AdImpressionRecord,
    EventRecord,
    LaunchRecord,
    PageViewRecord,
    Record,
    decode_record,
)
from gateway.synthetic import generate_lines

END = date(2025, 3, 31)
R = TypeVar("R")
EVENTS = (LaunchRecord, PageViewRecord, AdImpressionRecord)
"""The event record classes (a tuple for isinstance)."""


@dataclass(frozen=True)
class Dataset:
    """Raw lines and their decoded records, in stream order."""

    lines: list[bytes]
    records: list[Record]

    def of(self, kind: type[R]) -> list[R]:
        """Records of class ``kind``, in stream order."""
        return [r for r in self.records if isinstance(r, kind)]

    def of_kind(self, kind: str) -> list[bytes]:
        """Lines whose ``kind`` is ``kind``."""
        prefix = b'{"kind":"' + kind.encode() + b'"'
        return [line for line in self.lines if line.startswith(prefix)]

    @property
    def events(self) -> list[EventRecord]:
        """Event records, replays included."""
        return [r for r in self.records if isinstance(r, EVENTS)]


def _dataset(scale: str) -> Dataset:
    lines = list(generate_lines(scale, seed=7, end_date=END))
    return Dataset(lines, [decode_record(line) for line in lines])


@pytest.fixture(scope="session")
def tiny() -> Dataset:
    """The ``tiny`` dataset ending on :data:`END`."""
    return _dataset("tiny")


@pytest.fixture(scope="session")
def demo() -> Dataset:
    """The ``demo`` dataset ending on :data:`END`."""
    return _dataset("demo")
