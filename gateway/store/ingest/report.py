"""What an ingest run tells its caller: counts, problems by reason class, quarantined records.

Every rejected record becomes a :class:`Problem` with a *reason class* (a short, stable label
such as ``"unknown targetApp"``, used to count and group) and a *reason* (the full sentence,
naming the field or the missing id, stored in the quarantine).

Example:
    >>> report = IngestReport()
    >>> report.add_problem(Problem(line=3, kind="launch", reason="unknown targetApp 'a9'",
    ...                            reason_class="unknown targetApp"))
    >>> report.quarantined, report.quarantined_by_reason
    (1, {'unknown targetApp': 1})
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from gateway.domain import ID_RULE

MAX_PROBLEMS = 1000
"""How many problems a report keeps in full; the counts keep counting past it."""

MALFORMED_JSON = "malformed JSON"
UNKNOWN_KIND = "unknown kind"
MISSING_FIELD = "missing field"
WRONG_TYPE = "wrong type"
INVALID_VALUE = "invalid value"
NEGATIVE_DURATION = "negative duration"
BAD_REVENUE = "bad revenue"
BAD_ID = "bad id"
_ID_FIELDS = frozenset(
    {"id", "workspaceId", "targetAppId", "miniProgramId", "merchantId", "guid", "userGuid"}
)

_AT_FIELD = re.compile(r"- at `\$\.(\w+)`")


@dataclass(frozen=True, slots=True)
class Problem:
    """One record that could not be stored.

    Attributes:
        line: 1-based line number in its source (array position for a JSON array body).
        kind: The record's ``kind`` when it could be read, else None.
        reason: What is wrong, in a sentence (e.g. ``Expected `str`, got `int` - at `$.id```).
        reason_class: A short stable label grouping reasons (e.g. ``"wrong type"``).
        source: Where the record came from (a file name, ``"-"``, ``"http"``).
    """

    line: int
    kind: str | None
    reason: str
    reason_class: str
    source: str = ""


@dataclass
class IngestReport:
    """The outcome of :func:`ingest_lines` or :func:`replay_quarantine`.

    Attributes:
        records: Non-blank lines read (or quarantined records retried).
        stored: Records written: new events plus applied catalog records.
        duplicates: Events whose ``id`` was already stored (or repeated in the input); skipped.
        quarantined: Records that failed and sit in the quarantine.
        quarantined_by_reason: ``quarantined`` split by reason class.
        problems: The first :data:`MAX_PROBLEMS` problems, in input order.
        stored_by_kind: ``stored`` split by record kind.
        batches: Transactions committed (one per chunk).
        seconds: Wall-clock time of the run.
    """

    records: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    stored_by_kind: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    seconds: float = 0.0

    def add_problem(self, problem: Problem) -> None:
        """Count ``problem`` (and keep it while fewer than :data:`MAX_PROBLEMS` are kept)."""
        self.quarantined += 1
        by_reason = self.quarantined_by_reason
        by_reason[problem.reason_class] = by_reason.get(problem.reason_class, 0) + 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def add_stored(self, kind: str, count: int) -> None:
        """Count ``count`` stored records of ``kind``."""
        if count:
            self.stored += count
            self.stored_by_kind[kind] = self.stored_by_kind.get(kind, 0) + count

    @property
    def rate(self) -> float:
        """Records per second over the whole run (0 before it ran)."""
        return self.records / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class QuarantinedRecord:
    """A row of the quarantine, as :func:`list_quarantine` returns it."""

    id: int
    received_at: datetime
    source: str
    line: int
    kind: str | None
    reason: str
    raw: str
    attempts: int


def classify_decode_error(exc: msgspec.DecodeError) -> tuple[str, str]:
    """``(reason_class, reason)`` for a line msgspec could not decode into a record.

    >>> classify_decode_error(msgspec.ValidationError("Expected `int` >= 0 - at `$.durationMs`"))
    ('negative duration', 'Expected `int` >= 0 - at `$.durationMs`')
    """
    reason = str(exc)
    if not isinstance(exc, msgspec.ValidationError):
        return MALFORMED_JSON, reason
    at = _AT_FIELD.search(reason)
    at_field = at.group(1) if at else None
    if at_field == "kind" and reason.startswith("Invalid value"):
        return UNKNOWN_KIND, reason
    if reason.startswith("Object missing required field"):
        return MISSING_FIELD, reason
    if reason.startswith("Expected `") and ", got `" in reason:
        return WRONG_TYPE, reason
    if at_field in _ID_FIELDS and "matching regex" in reason:
        return BAD_ID, (f"`{at_field}` must be {ID_RULE} ({reason})")
    if at_field == "durationMs":
        return (NEGATIVE_DURATION if ">= 0" in reason else INVALID_VALUE), reason
    if at_field == "revenue" or reason.startswith("revenue"):
        return BAD_REVENUE, reason
    return INVALID_VALUE, reason
