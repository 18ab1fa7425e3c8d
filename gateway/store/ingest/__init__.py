"""Ingestion of JSON Lines records (SPEC §2) into the store, on PostgreSQL and SQLite.

Catalog records are upserts (the later record for a key wins), events are append-only and
idempotent on ``id``, bad records are quarantined with their line and reason, and every chunk
of input is one transaction that also writes its ``ingest_batches`` row.

Example:
    >>> report = await ingest_lines(engine, open("events.jsonl", "rb"), source="events.jsonl")
    >>> report.stored, report.duplicates, report.quarantined_by_reason
    (1000000, 0, {})
"""

from gateway.store.ingest.bounds import configure_ingest
from gateway.store.ingest.quarantine import list_quarantine
from gateway.store.ingest.report import IngestReport, Problem, QuarantinedRecord
from gateway.store.ingest.run import DEFAULT_CHUNK_SIZE, ingest_lines, replay_quarantine

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "IngestReport",
    "Problem",
    "QuarantinedRecord",
    "configure_ingest",
    "ingest_lines",
    "list_quarantine",
    "replay_quarantine",
]
